"""Reading the index: one published version (:class:`View`) and the handle servers keep
(:class:`OpenIndex`), which follows new versions every ``index_refresh_s``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from assistant.index.records import (
    PAGE,
    bm25_text,
    chunk_from_record,
    chunk_id_of,
    doc_id_of,
    doc_key,
    iter_records,
    record_id,
    sentence_texts,
    version_filter,
)
from assistant.index.registry import DocEntry, Registry

if TYPE_CHECKING:
    from assistant.index.store import Index, IndexInfo

import threading
import time
from collections.abc import Sequence
from functools import cached_property
from typing import Any

import numpy as np

from assistant.index.bm25 import BM25Index, TermBlock
from assistant.ingest.chunking import Chunk

# --------------------------------------------------------------------------- reading


class View:
    """One published version of one collection: what a search reads from start to end."""

    def __init__(self, index: Index, collection: Any, registry: Registry) -> None:
        self.index, self.collection, self.registry = index, collection, registry
        self.side = index.side(collection.name)

    @cached_property
    def bm25(self) -> BM25Index:
        """BM25 over the served documents' term blocks (rebuilt from Chroma when missing)."""
        blocks, types = [], []
        for doc_id, entry in sorted(self.registry.docs.items()):
            path = self.side.block_path(doc_id, entry.sha)
            block = TermBlock.load(path)
            if block is None:
                block = self._rebuild_block(doc_id, entry)
                block.save(path)
            blocks.append(block)
            types += [entry.type or ""] * len(block.ids)
        self.row_types = np.asarray(types, dtype=object)
        return BM25Index(blocks)

    def _rebuild_block(self, doc_id: str, entry: DocEntry) -> TermBlock:
        records = sorted(
            iter_records(self.collection, version_filter(doc_id, entry.sha)),
            key=lambda r: int(r["metadata"]["ordinal"]),
        )
        chunks = [
            chunk_from_record(chunk_id_of(r["id"]), r["document"], r["metadata"], entry)
            for r in records
        ]
        return TermBlock.from_texts([c.chunk_id for c in chunks], [bm25_text(c) for c in chunks])

    def lexical(self, query: str, n: int, doc_type: str | None = None) -> list[tuple[str, float]]:
        """Top ``n`` chunk ids by BM25 score (chunks without any query term left out)."""
        bm25 = self.bm25
        allowed = self.row_types == doc_type if doc_type else None
        return bm25.top(query, n, allowed)

    def dense(
        self, vector: np.ndarray, n: int, doc_type: str | None = None
    ) -> list[tuple[str, float]]:
        """Top ``n`` served chunk ids by cosine similarity to the query vector. Hidden
        versions are skipped: the query asks for as many more results as there are hidden
        records (and again, deeper, if a concurrent ingest added some)."""
        if self.index.settings.dense_sentence_max:
            return self._dense_sentence_max(vector, n, doc_type)
        return self._dense(vector, n, doc_type)

    def _dense(self, vector: np.ndarray, n: int, doc_type: str | None) -> list[tuple[str, float]]:
        depth = n + self.registry.hidden_chunks
        where = None
        if doc_type:
            of_type = [d for d, e in self.registry.docs.items() if e.type == doc_type]
            if not of_type:
                return []
            where = {"doc_id": {"$in": of_type}}
        while True:
            result = self.collection.query(
                query_embeddings=[vector],
                n_results=max(depth, 1),
                include=["distances", "metadatas"],
                where=where,
            )
            ids, distances, metas = result["ids"][0], result["distances"][0], result["metadatas"][0]
            rows = [
                (chunk_id_of(rid), 1.0 - float(d))
                for rid, d, meta in zip(ids, distances, metas, strict=True)
                if self.registry.serves(meta)
            ]
            if len(rows) >= n or len(ids) < depth:
                return rows[:n]
            depth *= 4

    def _dense_sentence_max(
        self, vector: np.ndarray, n: int, doc_type: str | None
    ) -> list[tuple[str, float]]:
        """A chunk scores as its best vector (itself or one of its stored sentences),
        among the dense candidates of the chunk vectors."""
        pool = self._dense(vector, max(n * 8, 64), doc_type)
        records = {cid: self.record(cid) for cid, _ in pool}
        stored = self.side.sentences.get([r for r in records.values() if r])
        scored = [
            (cid, max([s, *(stored[records[cid]] @ vector).tolist()]))
            if records[cid] in stored
            else (cid, s)
            for cid, s in pool
        ]
        return sorted(scored, key=lambda x: (-x[1], x[0]))[:n]

    def chunks(self, ids: Sequence[str]) -> dict[str, Chunk]:
        """Chunks by id, in one call."""
        records = [r for r in dict.fromkeys(self.record(cid) for cid in ids) if r]
        docs, found = self.registry.docs, {}
        for start in range(0, len(records), PAGE):  # SQLite bounds the ids of one query
            got = self.collection.get(
                ids=records[start : start + PAGE], include=["documents", "metadatas"]
            )
            rows = zip(got["ids"], got["documents"], got["metadatas"], strict=True)
            for rid, text, meta in rows:
                if meta["doc_id"] in docs:
                    chunk = chunk_from_record(chunk_id_of(rid), text, meta, docs[meta["doc_id"]])
                    found[chunk.chunk_id] = chunk
        return found

    def record(self, chunk_id: str) -> str | None:
        """The Chroma id of a served chunk (None when its document is not served)."""
        entry = self.registry.docs.get(doc_id_of(chunk_id))
        return record_id(chunk_id, entry.sha) if entry else None

    def documents(self) -> list[dict[str, Any]]:
        """One row per served document, in id order."""
        return [
            {
                "doc_id": doc_id,
                "title": e.title,
                "type": e.type,
                "date": e.date,
                "chunks": e.chunks,
                "url": (e.url or "").split("#page=")[0],
            }
            for doc_id, e in sorted(self.registry.docs.items())
        ]


class OpenIndex:
    """A readable index that follows new versions: every ``index_refresh_s`` a search looks
    at the registry (one small read) and, when another version was published, reads that one.
    Searches take one :class:`View` and use it from start to end."""

    def __init__(self, index: Index, info: IndexInfo) -> None:
        self.index = index
        self.info = info
        self._lock = threading.Lock()
        self._checked = time.monotonic()
        self._view = self._read(info.collection)

    def _read(self, name: str) -> View:
        collection = self.index.store.collection(name)
        return View(self.index, collection, Registry.from_meta(collection.metadata))

    def view(self) -> View:
        """The current view, after a look at the registry when one is due."""
        due = time.monotonic() - self._checked >= self.index.settings.index_refresh_s
        if due and self._lock.acquire(blocking=False):
            try:
                self._checked = time.monotonic()
                self._refresh()
            finally:
                self._lock.release()
        return self._view

    def _refresh(self) -> None:
        info = self.index.info()
        if info is None or self.index.outdated(info):
            return
        if info.collection != self.info.collection:
            view = self._read(info.collection)
        else:
            registry = Registry.from_meta(self.index.store.collection(info.collection).metadata)
            if registry.version == self._view.registry.version:
                return
            view = View(self.index, self._view.collection, registry)
        view.bm25  # noqa: B018 -- built before it is served, not during a search
        self._view, self.info = view, info

    # the methods below read the current view (one view per call)

    @property
    def bm25(self) -> BM25Index:
        return self.view().bm25

    @property
    def collection(self) -> Any:
        return self.view().collection

    def dense(self, query: str, n: int, doc_type: str | None = None) -> list[tuple[str, float]]:
        """Top ``n`` chunk ids by cosine similarity to the query."""
        return self.view().dense(self.index.embedder.embed_query(query), n, doc_type)

    def lexical(self, query: str, n: int, doc_type: str | None = None) -> list[tuple[str, float]]:
        return self.view().lexical(query, n, doc_type)

    def chunks(self, ids: Sequence[str]) -> dict[str, Chunk]:
        return self.view().chunks(ids)

    def documents(self) -> list[dict[str, Any]]:
        return self.view().documents()

    def sentence_vectors(self, chunks: Sequence[Chunk]) -> dict[str, np.ndarray]:
        """Each chunk's sentence vectors (one row per sentence of ``chunk_sentences``, or one
        row for a one-sentence chunk), in one read; missing ones are embedded and kept."""
        view = self.view()
        shas = {c.chunk_id: getattr(view.registry.docs.get(c.doc_id), "sha", "") for c in chunks}
        keys = {cid: record_id(cid, sha) for cid, sha in shas.items()}
        stored = view.side.sentences.get(list(keys.values()))
        found = {cid: stored[key] for cid, key in keys.items() if key in stored}
        missing = list({c.chunk_id: c for c in chunks if c.chunk_id not in found}.values())
        if missing:
            context = self.index.settings.embed_context
            texts = [sentence_texts(c, context) for c in missing]
            flat = self.index.embedder.embed_batch([t for ts in texts for t in ts], "passage")
            rows, start = [], 0
            for chunk, ts in zip(missing, texts, strict=True):
                matrix = np.asarray(flat[start : start + len(ts)], dtype=np.float32)
                doc = doc_key(chunk.doc_id, shas[chunk.chunk_id])
                rows.append((keys[chunk.chunk_id], doc, matrix))
                found[chunk.chunk_id] = matrix
                start += len(ts)
            view.side.sentences.put(rows)
        return found
