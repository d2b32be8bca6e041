"""The ``Assistant`` facade: the one object the CLI, the Gradio UI and the eval harness use.

It holds the settings and opens each stage lazily (models load on first use, once), so that
creating it costs nothing and importing this module has no side effect.
"""

from __future__ import annotations

import json
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

    @property
    def sources_file(self) -> Path:
        return self.settings.home / "sources.json"

    def user_sources(self) -> list[Path]:
        """Files and folders added with ``ingest PATHS``, remembered for the next ingests."""
        try:
            return [Path(p) for p in json.loads(self.sources_file.read_text(encoding="utf-8"))]
        except (OSError, ValueError):
            return []

    def ingest(
        self, paths: Sequence[Path] = (), rebuild: bool = False, progress: Progress | None = None
    ) -> IngestReport:
        """Index the manifest's publications, the remembered user sources and ``paths``
        (remembered from now on). Load errors are reported in the result, never raised."""
        sources = list(dict.fromkeys([*self.user_sources(), *(p.resolve() for p in paths)]))
        gone = [p for p in sources if not p.exists()]
        sources = [p for p in sources if p.exists()]
        self.settings.home.mkdir(parents=True, exist_ok=True)
        self.sources_file.write_text(json.dumps([str(p) for p in sources], indent=1), "utf-8")
        loaded = self.corpus.load(sources)
        report = self.index.ingest(loaded.documents, rebuild=rebuild, progress=progress)
        report.errors[:0] = loaded.errors
        report.warnings += [f"{p}: no longer exists; its documents left the index" for p in gone]
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
