"""LangChain adapter: the hybrid retriever as a ``BaseRetriever``.

    from assistant.interfaces.langchain_retriever import HASRetriever
    docs = HASRetriever(k=4).invoke("Quels sont les trois axes du cadre de confiance ?")

Each ``Document`` carries the chunk text and its citation metadata (title, section, page,
url, ranks and scores)."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import PrivateAttr

from assistant.app import Assistant
from assistant.contract import Passage
from assistant.settings import load_settings


class HASRetriever(BaseRetriever):
    """Hybrid (BM25 + dense, RRF) search over the has-assistant index."""

    k: int = 5
    doc_type: str | None = None
    kind: str = "hybrid"
    home: str | None = None  # data dir; default: HAS_ASSISTANT_HOME or the user data dir
    _assistant: Assistant | None = PrivateAttr(default=None)

    @property
    def assistant(self) -> Assistant:
        if self._assistant is None:
            overrides = {"home": self.home} if self.home else {}
            self._assistant = Assistant(load_settings(**overrides))
        return self._assistant

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        k = int(kwargs.get("k", self.k))
        hits = self.assistant.search(query, k, kwargs.get("doc_type", self.doc_type), self.kind)
        passages = [Passage.of(h) for h in hits]
        return [
            Document(page_content=p.text, id=p.chunk_id, metadata=p.model_dump(exclude={"text"}))
            for p in passages
        ]
