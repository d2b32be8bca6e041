"""The LangChain adapter passes langchain-tests' standard retriever suite."""

from __future__ import annotations

import pytest
from langchain_tests.integration_tests import RetrieversIntegrationTests

from assistant.app import Assistant
from assistant.interfaces.langchain_retriever import HASRetriever
from assistant.settings import load_settings

HOME: dict[str, str] = {}


@pytest.fixture(scope="module", autouse=True)
def indexed_home(tmp_path_factory: pytest.TempPathFactory, e5):
    home = tmp_path_factory.mktemp("lc-home")
    Assistant(load_settings(home=home), e5).ingest()
    HOME["path"] = str(home)


class TestHASRetriever(RetrieversIntegrationTests):
    @property
    def retriever_constructor(self) -> type[HASRetriever]:
        return HASRetriever

    @property
    def retriever_constructor_params(self) -> dict:
        return {"home": HOME["path"]}

    @property
    def retriever_query_example(self) -> str:
        return "Quels sont les trois axes du cadre de confiance ?"


def test_documents_carry_citation_metadata():
    docs = HASRetriever(home=HOME["path"], k=2).invoke("périmètre visé par les travaux")
    assert len(docs) == 2
    meta = docs[0].metadata
    assert meta["doc_id"] == "p_3363066" and meta["url"].startswith("https://has-sante.fr/")
    assert meta["rank"] == 1 and docs[0].id == meta["chunk_id"]
    assert "périmètre" in docs[0].page_content.lower()
