"""The ``Assistant`` facade: the one object the CLI, the Gradio UI and the eval harness use.

It holds the settings and opens each stage lazily (models load on first use, once), so that
creating it costs nothing and importing this module has no side effect.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from pathlib import Path

from .corpus import Corpus
from .embeddings import Embedder, make_embedder
from .index import Index, IngestReport, OpenIndex, Progress
from .retrieval import Hit, Retriever, make_retriever
from .settings import Settings, load_settings


class Assistant:
    """Corpus → index → retrieval, behind a few methods."""

    def __init__(self, settings: Settings | None = None, embedder: Embedder | None = None):
        self.settings = settings or load_settings()
        self._embedder = embedder
        self._retrievers: dict[str, Retriever] = {}

    @cached_property
    def embedder(self) -> Embedder:
        return self._embedder or make_embedder(self.settings)

    @cached_property
    def corpus(self) -> Corpus:
        return Corpus(self.settings)

    @cached_property
    def index(self) -> Index:
        return Index(self.settings, self.embedder)

    def ingest(
        self, paths: Sequence[Path] = (), rebuild: bool = False, progress: Progress | None = None
    ) -> IngestReport:
        """Index the manifest's publications plus ``paths``; load errors are reported."""
        loaded = self.corpus.load(paths)
        report = self.index.ingest(loaded.documents, rebuild=rebuild, progress=progress)
        report.errors[:0] = loaded.errors
        self.__dict__.pop("opened", None)  # the next search sees the new generation
        self._retrievers.clear()
        return report

    @cached_property
    def opened(self) -> OpenIndex:
        return self.index.open()

    def retriever(self, kind: str = "hybrid") -> Retriever:
        if kind not in self._retrievers:
            self._retrievers[kind] = make_retriever(
                self.opened, kind, self.settings.candidates, self.settings.rrf_k
            )
        return self._retrievers[kind]

    def search(
        self, query: str, k: int | None = None, doc_type: str | None = None, kind: str = "hybrid"
    ) -> list[Hit]:
        """The ``k`` best chunks for ``query`` (hybrid BM25 + dense by default)."""
        return self.retriever(kind).search(query, k or self.settings.top_k, doc_type)
