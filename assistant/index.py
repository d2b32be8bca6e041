"""The index: a Chroma collection of chunk embeddings plus a French BM25 side index.

Safety by generations. Each ingest that changes anything writes a *new* collection
(``has_chunks_<timestamp>``): embeddings of unchanged documents are copied over (never
re-computed), new and changed documents are embedded, the BM25 side index is built beside it,
and only then does a one-line pointer (the metadata of the ``has_assistant_registry``
collection) switch to it. An ingest that fails or is interrupted leaves the previous
generation active and intact; its debris is removed by the next ingest. The generation before
the active one is kept, so a running server that still reads it keeps working.

Works the same on an embedded ``PersistentClient`` (default, in the data dir) and on a Chroma
server (``HAS_ASSISTANT_CHROMA_URL``).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cached_property
from typing import Any
from urllib.parse import urlparse

import numpy as np

from .bm25 import BM25Index
from .chunking import Chunk, chunk_document
from .embeddings import Embedder, make_embedder
from .errors import (
    ConfigError,
    DocumentLoadError,
    IndexMismatchError,
    IndexMissingError,
    IndexStoreError,
)
from .loaders import Document
from .settings import Settings
from .text import split_sentences

PREFIX = "has_chunks_"
REGISTRY = "has_assistant_registry"
CHUNKER_VERSION = "2"  # bump whenever chunking changes: forces re-chunking
PAGE = 500  # records per Chroma get/add call

Progress = Callable[[str, int, int], None]  # (stage, done, total)


# --------------------------------------------------------------------------- chunk ⇄ record


def embedding_text(chunk: Chunk, with_context: bool) -> str:
    """What is embedded for a chunk: its text, optionally after its title and section."""
    if not with_context:
        return chunk.text
    context = " — ".join(x for x in (chunk.title, chunk.section) if x)
    return f"{context}\n{chunk.text}"


def line_sentences(line: str) -> list[str]:
    """Sentences of one line of a chunk's text (a list item's "- " marker removed)."""
    return split_sentences(line.removeprefix("- "))


def chunk_sentences(chunk: Chunk) -> list[str]:
    """The sentences of a chunk (list items count as sentences); [] when it has only one."""
    sentences = [s for line in chunk.text.split("\n") for s in line_sentences(line)]
    return sentences if len(sentences) > 1 else []


def bm25_text(chunk: Chunk) -> str:
    """What BM25 indexes: the section path (headings carry key words) and the text."""
    return f"{chunk.section}\n{chunk.text}"


def chunk_metadata(chunk: Chunk, doc_sha: str) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "doc_id": chunk.doc_id,
        "doc_sha": doc_sha,
        "title": chunk.title,
        "section_path": json.dumps(chunk.section_path, ensure_ascii=False),
        "n_tokens": chunk.n_tokens,
        "ordinal": chunk.ordinal,
        "doc_type": chunk.doc_type,
    }
    optional = {
        "page": chunk.page,
        "page_end": chunk.page_end,
        "url": chunk.url,
        "date": chunk.date,
    }
    meta.update({k: v for k, v in optional.items() if v is not None})
    return meta


def chunk_from_record(chunk_id: str, text: str, meta: dict[str, Any]) -> Chunk:
    return Chunk(
        chunk_id=chunk_id,
        doc_id=meta["doc_id"],
        title=meta["title"],
        text=text,
        section_path=tuple(json.loads(meta["section_path"])),
        n_tokens=int(meta["n_tokens"]),
        ordinal=int(meta["ordinal"]),
        page=meta.get("page"),
        page_end=meta.get("page_end"),
        url=meta.get("url"),
        date=meta.get("date"),
        doc_type=meta.get("doc_type", "document"),
    )


# --------------------------------------------------------------------------- reports


@dataclass(frozen=True)
class IndexInfo:
    """What the active collection records about itself."""

    collection: str
    embedder: str
    chunker: str
    corpus_version: str
    n_docs: int
    n_chunks: int
    created_at: str


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    embedded_chunks: int = 0
    copied_chunks: int = 0
    total_chunks: int = 0
    collection: str | None = None  # None: nothing changed, no new generation
    errors: list[DocumentLoadError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0


# --------------------------------------------------------------------------- the store


class ChromaStore:
    """Opens Chroma (embedded or server) and keeps the pointer to the active generation."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def client(self) -> Any:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        chroma_settings = ChromaSettings(anonymized_telemetry=False)
        url = self.settings.chroma_url
        if not url:
            self.settings.chroma_dir.mkdir(parents=True, exist_ok=True)
            return chromadb.PersistentClient(
                path=str(self.settings.chroma_dir), settings=chroma_settings
            )
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ConfigError(f"invalid HAS_ASSISTANT_CHROMA_URL '{url}'", "use http://host:port")
        try:
            return chromadb.HttpClient(
                host=parsed.hostname,
                port=parsed.port or (443 if parsed.scheme == "https" else 8000),
                ssl=parsed.scheme == "https",
                settings=chroma_settings,
            )
        except Exception as exc:  # chromadb raises bare Exception/ValueError on connect
            raise IndexStoreError(
                f"cannot reach the Chroma server at {url}: {exc}",
                "start it (`chroma run`) or unset HAS_ASSISTANT_CHROMA_URL",
            ) from exc

    @property
    def where(self) -> str:
        return self.settings.chroma_url or str(self.settings.chroma_dir)

    def _registry(self) -> Any:
        return self.client.get_or_create_collection(
            REGISTRY, embedding_function=None, metadata={"active": "", "previous": ""}
        )

    def pointer(self) -> tuple[str, str]:
        meta = self._registry().metadata or {}
        return meta.get("active", ""), meta.get("previous", "")

    def set_active(self, name: str) -> None:
        active, _previous = self.pointer()
        self._registry().modify(metadata={"active": name, "previous": active})

    def collection(self, name: str) -> Any:
        return self.client.get_collection(name, embedding_function=None)

    def generations(self) -> list[str]:
        names = [c if isinstance(c, str) else c.name for c in self.client.list_collections()]
        return sorted(n for n in names if n.startswith(PREFIX))

    def create(self, metadata: dict[str, Any]) -> Any:
        name = f"{PREFIX}{datetime.now(UTC):%Y%m%d%H%M%S%f}"
        return self.client.create_collection(
            name,
            embedding_function=None,
            metadata=metadata,
            configuration={"hnsw": {"space": "cosine"}},
        )

    def drop(self, name: str) -> None:
        self.client.delete_collection(name)
        shutil.rmtree(self.settings.bm25_dir / name, ignore_errors=True)


def iter_records(
    collection: Any, where: dict | None = None, include: Sequence[str] = ("documents", "metadatas")
) -> Iterator[dict]:
    """All records of a collection, page by page: {id, document, metadata[, embedding]}."""
    offset = 0
    while True:
        page = collection.get(where=where, include=list(include), limit=PAGE, offset=offset)
        ids = page["ids"]
        for i, record_id in enumerate(ids):
            record = {
                "id": record_id,
                "document": page["documents"][i],
                "metadata": page["metadatas"][i],
            }
            if "embeddings" in include:
                record["embedding"] = page["embeddings"][i]
            yield record
        if len(ids) < PAGE:
            return
        offset += PAGE


# --------------------------------------------------------------------------- the index


class Index:
    """Build (``ingest``) and open (``open``) the hybrid index of the data dir or server."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self.store = ChromaStore(settings)
        self._embedder = embedder

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = make_embedder(self.settings)
        return self._embedder

    @property
    def chunker_id(self) -> str:
        s = self.settings
        return (
            f"v{CHUNKER_VERSION}:{s.chunk_target_tokens}/{s.chunk_max_tokens}:"
            f"ctx={int(s.embed_context)}:sent={int(s.sentence_vectors)}"
        )

    def info(self) -> IndexInfo | None:
        """The active generation's description, or None when nothing was ingested yet."""
        active, _ = self.store.pointer()
        if not active:
            return None
        meta = self.store.collection(active).metadata or {}
        return IndexInfo(
            active,
            meta.get("embedder", "?"),
            meta.get("chunker", "?"),
            meta.get("corpus_version", "?"),
            int(meta.get("n_docs", 0)),
            int(meta.get("n_chunks", 0)),
            meta.get("created_at", "?"),
        )

    # ---------------------------------------------------------------- reading

    def open(self) -> OpenIndex:
        """The active generation, checked against the configured embedder."""
        info = self.info()
        if info is None:
            raise IndexMissingError(self.store.where)
        if info.embedder != self.embedder.id:
            raise IndexMismatchError(info.embedder, self.embedder.id)
        return OpenIndex(self, info, self.store.collection(info.collection))

    # ---------------------------------------------------------------- writing

    def ingest(
        self, docs: Sequence[Document], rebuild: bool = False, progress: Progress | None = None
    ) -> IngestReport:
        """Bring the index in line with ``docs`` (the whole corpus); see the module doc."""
        started = time.perf_counter()
        report = IngestReport()
        wanted = self._unique(docs, report)
        info = self.info()
        if info and info.embedder != self.embedder.id and not rebuild:
            raise IndexMismatchError(info.embedder, self.embedder.id)
        full = rebuild or info is None or info.chunker != self.chunker_id
        indexed = {} if info is None else self._indexed_docs(info.collection)
        for doc_id, doc in wanted.items():
            if doc_id not in indexed:
                report.added.append(doc_id)
            elif indexed[doc_id] != doc.sha256 or full:
                report.changed.append(doc_id)
            else:
                report.unchanged.append(doc_id)
        report.removed = sorted(set(indexed) - set(wanted))
        self._collect_garbage()
        if info and not (report.added or report.changed or report.removed):
            report.total_chunks = info.n_chunks
            report.seconds = time.perf_counter() - started
            return report
        collection = self.store.create({"state": "building", "embedder": self.embedder.id})
        report.collection = collection.name
        ids, texts = [], []
        if info and report.unchanged:
            report.copied_chunks = self._copy(
                info.collection, collection, report.unchanged, ids, texts, progress
            )
        todo = [wanted[d] for d in (*report.added, *report.changed)]
        report.embedded_chunks = self._embed_into(collection, todo, ids, texts, progress)
        BM25Index.build(ids, texts).save(self.settings.bm25_dir / collection.name)
        report.total_chunks = len(ids)
        collection.modify(metadata=self._generation_meta(wanted, len(ids)))
        self.store.set_active(collection.name)
        self._collect_garbage()
        report.seconds = time.perf_counter() - started
        return report

    def _unique(self, docs: Sequence[Document], report: IngestReport) -> dict[str, Document]:
        wanted: dict[str, Document] = {}
        for doc in docs:
            if doc.doc_id in wanted:
                report.errors.append(
                    DocumentLoadError(
                        doc.source,
                        f"same document id '{doc.doc_id}' as {wanted[doc.doc_id].source}",
                        "rename one of the files",
                    )
                )
                continue
            wanted[doc.doc_id] = doc
        return wanted

    def _indexed_docs(self, name: str) -> dict[str, str]:
        collection = self.store.collection(name)
        return {
            r["metadata"]["doc_id"]: r["metadata"]["doc_sha"]
            for r in iter_records(collection, include=("metadatas", "documents"))
        }

    def _copy(
        self,
        source_name: str,
        target: Any,
        doc_ids: list[str],
        ids: list[str],
        texts: list[str],
        progress: Progress | None,
    ) -> int:
        """Copy the records of unchanged documents, embeddings included (no re-embedding)."""
        source = self.store.collection(source_name)
        copied = 0
        batch: list[dict] = []
        where = {"doc_id": {"$in": doc_ids}}
        for record in iter_records(source, where, ("documents", "metadatas", "embeddings")):
            batch.append(record)
            if len(batch) == PAGE:
                copied += self._add_records(target, batch, ids, texts)
                batch = []
        copied += self._add_records(target, batch, ids, texts)
        if progress:
            progress("copy", copied, copied)
        return copied

    @staticmethod
    def _add_records(target: Any, batch: list[dict], ids: list[str], texts: list[str]) -> int:
        if not batch:
            return 0
        target.add(
            ids=[r["id"] for r in batch],
            documents=[r["document"] for r in batch],
            metadatas=[r["metadata"] for r in batch],
            embeddings=np.asarray([r["embedding"] for r in batch], dtype=np.float32),
        )
        for r in batch:
            if r["metadata"].get("kind") == "chunk":
                ids.append(r["id"])
                texts.append(bm25_text(chunk_from_record(r["id"], r["document"], r["metadata"])))
        return len(batch)

    def _records(self, docs: list[Document]) -> Iterator[tuple[str, str, str, dict]]:
        """(record id, text to embed, stored text, metadata) for each chunk and sentence."""
        s = self.settings
        for doc in docs:
            for c in chunk_document(doc, None, s.chunk_target_tokens, s.chunk_max_tokens):
                meta = chunk_metadata(c, doc.sha256)
                yield (
                    c.chunk_id,
                    embedding_text(c, s.embed_context),
                    c.text,
                    {**meta, "kind": "chunk"},
                )
                if not s.sentence_vectors:
                    continue
                for n, sentence in enumerate(chunk_sentences(c)):
                    as_chunk = replace(c, text=sentence)
                    yield (
                        f"{c.chunk_id}#s{n}",
                        embedding_text(as_chunk, s.embed_context),
                        sentence,
                        {**meta, "kind": "sentence", "parent": c.chunk_id},
                    )

    def _embed_into(
        self,
        collection: Any,
        docs: list[Document],
        ids: list[str],
        texts: list[str],
        progress: Progress | None,
    ) -> int:
        """Embed the chunks (and sentences) of ``docs`` into ``collection``; returns the
        number of chunks. Chunk ids and BM25 texts are appended to ``ids`` / ``texts``."""
        records = list(self._records(docs))
        total, size = len(records), self.embedder.batch_size
        if progress:
            progress("embed", 0, total)
        for start in range(0, total, size):
            batch = records[start : start + size]
            vectors = self.embedder.embed_batch([r[1] for r in batch], "passage")
            collection.add(
                ids=[r[0] for r in batch],
                documents=[r[2] for r in batch],
                metadatas=[r[3] for r in batch],
                embeddings=vectors,
            )
            for record_id, _, text, meta in batch:
                if meta["kind"] == "chunk":
                    ids.append(record_id)
                    texts.append(bm25_text(chunk_from_record(record_id, text, meta)))
            if progress:
                progress("embed", start + len(batch), total)
        return sum(r[3]["kind"] == "chunk" for r in records)

    def _generation_meta(self, docs: dict[str, Document], n_chunks: int) -> dict[str, Any]:
        version = hashlib.sha256(
            "\n".join(f"{d}:{doc.sha256}" for d, doc in sorted(docs.items())).encode()
        ).hexdigest()[:12]
        return {
            "state": "ready",
            "embedder": self.embedder.id,
            "chunker": self.chunker_id,
            "corpus_version": version,
            "n_docs": len(docs),
            "n_chunks": n_chunks,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }

    def _collect_garbage(self) -> None:
        """Drop generations that are neither active nor the previous one (ingest debris)."""
        keep = set(self.store.pointer())
        for name in self.store.generations():
            if name not in keep:
                self.store.drop(name)


@dataclass
class OpenIndex:
    """A readable generation: dense queries on Chroma, BM25 scores, chunk lookup by id."""

    index: Index
    info: IndexInfo
    collection: Any

    @cached_property
    def bm25(self) -> BM25Index:
        """The BM25 side index, rebuilt from the collection when missing."""
        folder = self.index.settings.bm25_dir / self.info.collection
        loaded = BM25Index.load(folder)
        if loaded is not None:
            return loaded
        records = list(iter_records(self.collection, where={"kind": "chunk"}))
        ids = [r["id"] for r in records]
        texts = [
            bm25_text(chunk_from_record(r["id"], r["document"], r["metadata"])) for r in records
        ]
        built = BM25Index.build(ids, texts)
        built.save(folder)
        return built

    @cached_property
    def types(self) -> dict[str, str]:
        """chunk id → publication type (for filtering BM25 candidates)."""
        return {
            r["id"]: r["metadata"].get("doc_type", "")
            for r in iter_records(self.collection, where={"kind": "chunk"})
        }

    @cached_property
    def n_records(self) -> int:
        return int(self.collection.count())

    def dense(self, query: str, n: int, doc_type: str | None = None) -> list[tuple[str, float]]:
        """Top ``n`` chunk ids by cosine similarity to the query. With ``dense_sentence_max``
        a chunk scores as its best vector (the chunk, or one of its sentences)."""
        vector = self.index.embedder.embed_query(query)
        sentences = self.index.settings.dense_sentence_max
        depth = min(max(n * 8, 64) if sentences else n, self.n_records)
        if depth <= 0:
            return []
        filters = [] if sentences else [{"kind": "chunk"}]
        filters += [{"doc_type": doc_type}] if doc_type else []
        where = filters[0] if len(filters) == 1 else ({"$and": filters} if filters else None)
        result = self.collection.query(
            query_embeddings=[vector],
            n_results=depth,
            include=["distances", "metadatas"],
            where=where,
        )
        best: dict[str, float] = {}
        rows = zip(result["ids"][0], result["distances"][0], result["metadatas"][0], strict=True)
        for record_id, distance, meta in rows:
            best.setdefault(meta.get("parent", record_id), 1.0 - float(distance))
        return list(best.items())[:n]

    def lexical(self, query: str, n: int, doc_type: str | None = None) -> list[tuple[str, float]]:
        """Top ``n`` chunk ids by BM25 score (chunks without any query term left out)."""
        scores = self.bm25.scores(query)
        order = sorted(range(len(scores)), key=lambda i: (-scores[i], self.bm25.ids[i]))
        hits = [(self.bm25.ids[i], float(scores[i])) for i in order if scores[i] > 0]
        if doc_type:
            hits = [h for h in hits if self.types.get(h[0]) == doc_type]
        return hits[:n]

    def documents(self) -> list[dict[str, Any]]:
        """One row per indexed document (from its chunks' metadata), in id order."""
        rows: dict[str, dict[str, Any]] = {}
        for record in iter_records(self.collection, where={"kind": "chunk"}):
            meta = record["metadata"]
            row = rows.setdefault(
                meta["doc_id"],
                {
                    "doc_id": meta["doc_id"],
                    "title": meta["title"],
                    "type": meta.get("doc_type"),
                    "date": meta.get("date"),
                    "chunks": 0,
                    "url": (meta.get("url") or "").split("#page=")[0],
                },
            )
            row["chunks"] += 1
        return [rows[k] for k in sorted(rows)]

    def vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """Stored vectors by record id (chunks, or sentences ``<chunk id>#s<n>``)."""
        got = self.collection.get(ids=list(ids), include=["embeddings"])
        return {
            rid: np.asarray(v, dtype=np.float32)
            for rid, v in zip(got["ids"], got["embeddings"], strict=True)
        }

    def chunks(self, ids: Sequence[str]) -> dict[str, Chunk]:
        """Chunks by id, in one call."""
        if not ids:
            return {}
        got = self.collection.get(ids=list(ids), include=["documents", "metadatas"])
        return {
            cid: chunk_from_record(cid, doc, meta)
            for cid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
        }
