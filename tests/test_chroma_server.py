"""The index on a real `chroma run` server started on 127.0.0.1 by the test."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.errors import IndexStoreError
from assistant.index.retrieval import make_retriever
from assistant.index.store import Index
from assistant.ingest.loaders import load_file
from assistant.settings import load_settings

from conftest import fictitious_docs, free_port, load_bench


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory):
    proc, url = load_bench().start_chroma(tmp_path_factory.mktemp("chroma-server"))
    yield url
    proc.terminate()
    proc.wait(timeout=20)


def test_ingest_and_search_through_a_chroma_server(tmp_path: Path, e5, chroma_server: str):
    settings = load_settings(home=tmp_path / "home", chroma_url=chroma_server)
    index = Index(settings, e5)
    paths = fictitious_docs(tmp_path / "docs", 3)
    report = index.ingest([load_file(p) for p in paths])
    assert report.total_chunks > 0
    assert not settings.chroma_dir.exists()  # nothing embedded locally
    hits = make_retriever(index.open()).search("le tri des appels", 3)
    assert hits[0].chunk.doc_id == "fictif-01"

    again = Index(settings, e5).ingest([load_file(p) for p in paths])
    assert again.embedded_chunks == 0 and again.collection is None

    # another machine (empty local data dir) shares the server: BM25 is rebuilt from it
    other = load_settings(home=tmp_path / "other-home", chroma_url=chroma_server, index_refresh_s=0)
    reader = Index(other, e5).open()
    hits = make_retriever(reader).search("le tri des appels", 3)
    assert hits[0].chunk.doc_id == "fictif-01"
    assert len(list((other.index_dir / report.collection / "terms").glob("*.npz"))) == 3
    # and it fills its own sentence vectors on first use
    vectors = reader.sentence_vectors([hits[0].chunk])
    assert vectors[hits[0].chunk.chunk_id].shape[1] == 384

    # an update made by the first machine reaches the other one without reopening
    paths[2].write_text(
        paths[2].read_text(encoding="utf-8") + "\nUne note fictive sur la buanderie.\n", "utf-8"
    )
    update = Index(settings, e5).ingest([load_file(p) for p in paths[1:]])
    assert update.changed == ["fictif-02"] and update.removed == ["fictif-00"]
    assert make_retriever(reader).search("la buanderie", 1)[0].chunk.doc_id == "fictif-02"
    assert "fictif-00" not in {d["doc_id"] for d in reader.documents()}


def test_unreachable_chroma_server_is_a_clear_error(tmp_path: Path, e5):
    settings = load_settings(home=tmp_path, chroma_url=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(IndexStoreError) as err:
        Index(settings, e5).info()
    assert "cannot reach the Chroma server" in str(err.value)
