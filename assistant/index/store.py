"""The index: a Chroma collection of chunk vectors, plus side files (BM25 term blocks and
sentence vectors) in the data dir.

Incremental, in place. The collection's metadata is the registry of the index: the documents
it serves with their hashes (``docs``), the versions whose records are present but not served
(``hidden``) and a ``version`` counter. An ingest adds the records of new and changed
documents under new chunk ids (a chunk id depends on its document's hash), then publishes them
in one metadata write that also hides the replaced and removed versions; their records are
deleted at the start of the next ingest. So a reader sees each document either before or after
an ingest, never half of it; an interrupted ingest leaves its records hidden, and the next one
deletes them. Readers keep their view and look at the registry every ``index_refresh_s``.

``--rebuild`` (or a change of embedder or chunking) builds a new collection aside
(``has_chunks_<timestamp>``) and swaps the pointer held by the ``has_assistant_registry``
collection; the previous collection is kept for servers still reading it.

Works the same on an embedded ``PersistentClient`` (default, in the data dir) and on a Chroma
server (``HAS_ASSISTANT_CHROMA_URL``); the side files of a data dir that lacks them are rebuilt
from the collection on first use.
"""

from __future__ import annotations

import itertools
import shutil
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

from assistant.errors import (
    ConfigError,
    DocumentLoadError,
    IndexMismatchError,
    IndexMissingError,
    IndexStoreError,
)
from assistant.index.bm25 import TermBlock
from assistant.index.embeddings import Embedder, make_embedder
from assistant.index.records import (
    bm25_text,
    chunk_metadata,
    chunk_sentences,
    doc_key,
    embedding_text,
    record_id,
    sentence_texts,
    version_filter,
)
from assistant.index.registry import DocEntry, Hidden, Registry
from assistant.index.sentences import SentenceStore
from assistant.index.view import OpenIndex
from assistant.ingest.chunking import Chunk, chunk_document
from assistant.ingest.loaders import Document
from assistant.settings import Settings

PREFIX = "has_chunks_"
REGISTRY = "has_assistant_registry"
CHUNKER_VERSION = "3"  # bump whenever chunking changes: forces re-chunking
LAYOUT = "2"  # 2: chunk vectors only in the collection, registry in its metadata, side files
WRITE_BATCH = 2000  # records per Chroma add call (independent of the embedder's batch size)

Progress = Callable[[str, int, int], None]  # (stage, done, total)
Chunked = list[tuple[Document, list[Chunk]]]  # documents to write, with their chunks


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
    elsewhere: list[str] = field(default_factory=list)  # kept: added through another data dir
    embedded_chunks: int = 0
    kept_chunks: int = 0  # chunks of unchanged documents, left in place
    total_chunks: int = 0
    collection: str | None = None  # None: nothing changed
    errors: list[DocumentLoadError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0


# --------------------------------------------------------------------------- the store


class ChromaStore:
    """Opens Chroma (embedded or server) and keeps the pointer to the active collection."""

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
        shutil.rmtree(self.settings.index_dir / name, ignore_errors=True)

    def write_batch(self) -> int:
        """Records per add call: large, within what the client accepts."""
        try:
            return max(1, min(WRITE_BATCH, int(self.client.get_max_batch_size())))
        except Exception:  # older servers do not say
            return WRITE_BATCH


# --------------------------------------------------------------------------- side files


class SideFiles:
    """The data dir's files beside one collection: BM25 term blocks, sentence vectors."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.sentences = SentenceStore(folder / "sentences.sqlite3")

    def block_path(self, doc_id: str, sha: str) -> Path:
        return self.folder / "terms" / f"{doc_key(doc_id, sha)}.npz"

    def forget(self, doc_id: str, sha: str) -> None:
        self.block_path(doc_id, sha).unlink(missing_ok=True)
        self.sentences.delete(doc_key(doc_id, sha))


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
            f"v{CHUNKER_VERSION}/l{LAYOUT}:{s.chunk_target_tokens}/{s.chunk_max_tokens}:"
            f"ctx={int(s.embed_context)}"
        )

    def side(self, collection: str) -> SideFiles:
        return SideFiles(self.settings.index_dir / collection)

    def info(self) -> IndexInfo | None:
        """The active collection's description, or None when nothing was ingested yet."""
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

    @staticmethod
    def outdated(info: IndexInfo) -> bool:
        """True for an index built by an earlier version (another layout): ingest rebuilds it."""
        return f"/l{LAYOUT}:" not in info.chunker

    # ---------------------------------------------------------------- reading

    def open(self) -> OpenIndex:
        """The active collection, checked against the configured embedder and layout."""
        info = self.info()
        if info is None:
            raise IndexMissingError(self.store.where)
        if info.embedder != self.embedder.id:
            raise IndexMismatchError(info.embedder, self.embedder.id)
        if self.outdated(info):
            raise IndexStoreError(
                "the index was built by an earlier version of has-assistant",
                "run `has-assistant ingest` (it rebuilds the index in the new layout)",
            )
        return OpenIndex(self, info)

    # ---------------------------------------------------------------- writing

    def ingest(
        self,
        docs: Sequence[Document],
        rebuild: bool = False,
        progress: Progress | None = None,
        origin: str = "",
        shared: Collection[str] = (),
    ) -> IngestReport:
        """Bring the index in line with ``docs`` (the whole corpus of this data dir); see the
        module doc. ``origin`` names this data dir: documents it adds are marked with it,
        except the ``shared`` ones (the manifest's); documents that are not in ``docs`` are
        removed only when they are of this origin or shared — another replica's uploads,
        which this data dir has no copy of, stay."""
        started = time.perf_counter()
        report = IngestReport()
        wanted = self._unique(docs, report)
        info = self.info()
        if info and info.embedder != self.embedder.id and not rebuild:
            raise IndexMismatchError(info.embedder, self.embedder.id)
        self._collect_garbage()
        if info and self.outdated(info):  # the side folder of the earlier layout
            shutil.rmtree(self.settings.home / "bm25", ignore_errors=True)
        full = rebuild or info is None or info.chunker != self.chunker_id
        current = self.store.collection(info.collection) if info else None
        served = Registry.from_meta(current.metadata) if current else Registry()
        self._plan(wanted, served.docs, full, report, origin)
        if full and report.elsewhere:  # a new collection holds only what this data dir has
            report.warnings.append(
                f"{len(report.elsewhere)} document(s) added through another data dir are not in "
                f"the rebuilt index ({', '.join(report.elsewhere[:5])}): add them again there"
            )
            report.elsewhere = []
        if not full and current is not None:
            self._purge(current, served)
        if not full and not (report.added or report.changed or report.removed):
            report.total_chunks = served.n_chunks
            report.seconds = time.perf_counter() - started
            return report
        if full:
            collection = self.store.create({"embedder": self.embedder.id, "state": "building"})
            registry = Registry()
        else:
            collection, registry = current, served
        todo = [wanted[d] for d in (*report.added, *report.changed)]
        chunked = [(doc, self._chunks(doc)) for doc in todo]
        now = time.time()
        registry.hidden += [Hidden(d.doc_id, d.sha256, len(cs), now, False) for d, cs in chunked]
        self._commit(collection, registry, "building" if full else "ready")  # intent first
        report.embedded_chunks = self._write(collection, chunked, progress)
        origins = {d.doc_id: "" if d.doc_id in shared else origin for d, _ in chunked}
        self._publish(registry, chunked, report.removed, origins)
        self._commit(collection, registry, "ready")
        if full:
            self.store.set_active(collection.name)
            self._collect_garbage()
        report.kept_chunks = 0 if full else sum(registry.docs[d].chunks for d in report.unchanged)
        report.total_chunks = registry.n_chunks
        report.collection = collection.name
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

    @staticmethod
    def _plan(
        wanted: dict[str, Document],
        indexed: dict[str, DocEntry],
        full: bool,
        report: IngestReport,
        origin: str,
    ) -> None:
        for doc_id, doc in wanted.items():
            if doc_id not in indexed:
                report.added.append(doc_id)
            elif indexed[doc_id].sha != doc.sha256 or full:
                report.changed.append(doc_id)
            else:
                report.unchanged.append(doc_id)
        gone = sorted(set(indexed) - set(wanted))
        report.removed = [d for d in gone if indexed[d].origin in ("", origin)]
        report.elsewhere = [d for d in gone if d not in report.removed]

    def _purge(self, collection: Any, registry: Registry) -> None:
        """Delete the records and side files of hidden versions: at once for versions never
        served (an interrupted ingest's), after ``index_purge_grace_s`` for replaced ones (a
        search that began before they were hidden may still read them)."""
        grace, now = self.settings.index_purge_grace_s, time.time()
        due = [h for h in registry.hidden if not h.served or now - h.since >= grace]
        if not due:
            return
        side = self.side(collection.name)
        for h in due:
            collection.delete(where=version_filter(h.doc_id, h.sha))
            side.forget(h.doc_id, h.sha)
        registry.hidden = [h for h in registry.hidden if h not in due]
        self._commit(collection, registry, "ready")

    def _commit(self, collection: Any, registry: Registry, state: str) -> None:
        """Write the registry: the one write that publishes a version to readers."""
        collection.modify(
            metadata={
                "state": state,
                "embedder": self.embedder.id,
                "chunker": self.chunker_id,
                **registry.to_meta(),
            }
        )

    @staticmethod
    def _publish(
        registry: Registry, chunked: Chunked, removed: list[str], origins: dict[str, str]
    ) -> None:
        """Serve the new versions; hide the versions they replace and removed documents."""
        written = {(d.doc_id, d.sha256) for d, _ in chunked}
        registry.hidden = [h for h in registry.hidden if (h.doc_id, h.sha) not in written]
        now = time.time()
        for doc, chunks in chunked:
            old = registry.docs.get(doc.doc_id)
            if old is not None:
                registry.hidden.append(Hidden(doc.doc_id, old.sha, old.chunks, now, True))
            meta = doc.meta
            url = meta.url or doc.source.resolve().as_uri()
            registry.docs[doc.doc_id] = DocEntry(
                doc.sha256,
                len(chunks),
                meta.title,
                meta.doc_type,
                meta.date,
                url,
                doc.fmt == "pdf",
                origins.get(doc.doc_id, ""),
            )
        for doc_id in removed:
            old = registry.docs.pop(doc_id)
            registry.hidden.append(Hidden(doc_id, old.sha, old.chunks, now, True))
        registry.version += 1
        registry.updated_at = datetime.now(UTC).isoformat(timespec="seconds")

    def _chunks(self, doc: Document) -> list[Chunk]:
        s = self.settings
        return chunk_document(doc, None, s.chunk_target_tokens, s.chunk_max_tokens)

    def _write(self, collection: Any, chunked: Chunked, progress: Progress | None) -> int:
        """Embed the chunks (and their sentences) and write them: vectors to Chroma in large
        batches, sentence vectors and BM25 term blocks to the side files. Returns the number
        of chunks."""
        side = self.side(collection.name)
        for doc, chunks in chunked:
            TermBlock.from_texts([c.chunk_id for c in chunks], [bm25_text(c) for c in chunks]).save(
                side.block_path(doc.doc_id, doc.sha256)
            )
        writer = _Writer(collection, side, self.store.write_batch())
        items = [(doc.sha256, c) for doc, chunks in chunked for c in chunks]
        s = self.settings
        texts: list[list[str]] = []  # per chunk: its own text, then its sentences' if stored
        several: list[bool] = []  # per chunk: more than one sentence
        for _sha, chunk in items:
            several.append(bool(chunk_sentences(chunk)))
            own = [embedding_text(chunk, s.embed_context)]
            stored = several[-1] and s.sentence_vectors
            texts.append(own + sentence_texts(chunk, s.embed_context) if stored else own)
        flat = itertools.chain.from_iterable(texts)
        pending: list[np.ndarray] = []  # vectors of the chunks not written yet
        done, total = 0, len(items)
        if progress:
            progress("embed", 0, total)
        while batch := list(itertools.islice(flat, self.embedder.batch_size)):
            pending.extend(self.embedder.embed_batch(batch, "passage"))
            while done < total and len(texts[done]) <= len(pending):
                n, own = len(texts[done]), pending[0]
                # a one-sentence chunk's own vector is its sentence vector; [] when turned off
                sentence_block = pending[1:n] if several[done] else [own]
                writer.add(items[done], own, sentence_block)
                del pending[:n]
                done += 1
            if progress:
                progress("embed", done, total)
        writer.flush()
        side.sentences.close()  # the last connection checkpoints the write-ahead log
        return total

    def _collect_garbage(self) -> None:
        """Drop collections that are neither active nor the previous one (ingest debris)."""
        keep = set(self.store.pointer())
        for name in self.store.generations():
            if name not in keep:
                self.store.drop(name)


class _Writer:
    """Buffers chunk records and writes them in large batches."""

    def __init__(self, collection: Any, side: SideFiles, batch: int) -> None:
        self.collection, self.side, self.batch = collection, side, batch
        self.rows: list[tuple[str, Chunk, np.ndarray, list[np.ndarray]]] = []

    def add(self, item: tuple[str, Chunk], vector: np.ndarray, sentences: list) -> None:
        """One chunk: its vector and its sentence vectors ([] when they are not stored)."""
        self.rows.append((*item, vector, sentences))
        if len(self.rows) >= self.batch:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        self.side.sentences.put(
            (record_id(c.chunk_id, sha), doc_key(c.doc_id, sha), np.asarray(m, dtype=np.float32))
            for sha, c, _, m in self.rows
            if len(m)
        )
        self.collection.add(
            ids=[record_id(c.chunk_id, sha) for sha, c, _, _ in self.rows],
            documents=[c.text for _, c, _, _ in self.rows],
            metadatas=[chunk_metadata(c, sha) for sha, c, _, _ in self.rows],
            embeddings=np.asarray([v for _, _, v, _ in self.rows], dtype=np.float32),
        )
        self.rows = []
