"""Chunker: follows structure, never cuts a sentence, sizes in e5 tokens, stable ids."""

from __future__ import annotations

from pathlib import Path

from assistant.ingest.chunking import chunk_document, e5_token_counter
from assistant.ingest.loaders import DocMeta, load_file
from assistant.text import normalize_space, split_sentences

from conftest import FIXTURES, make_pdf

SENTENCE = (
    "La phrase fictive numéro {n} décrit, p. ex., l'art. {n} du règlement intérieur "
    "fictif de Valombre et M. Lenoir la relit avec soin."
)


def long_markdown(tmp_path: Path, sentences: int = 40) -> Path:
    body = " ".join(SENTENCE.format(n=i) for i in range(sentences))
    path = tmp_path / "long.md"
    path.write_text(
        f"# Titre fictif\n\n## Section A\n\n{body}\n\n## Section B\n\nCourt.\n", encoding="utf-8"
    )
    return path


def test_headings_start_chunks_and_give_the_section_path():
    doc = load_file(FIXTURES / "fictif-guide.md")
    chunks = chunk_document(doc)
    sections = [c.section_path for c in chunks]
    assert sections == [(), ("Contexte",), ("Critères de choix",), ("Critères de choix", "Suivi")]
    assert chunks[0].text.startswith("Document fictif pour les tests")
    assert all(c.title == doc.meta.title and c.doc_id == "fictif-guide" for c in chunks)
    # the lead-in "... trois questions :" stays with its list items
    assert chunks[2].text.startswith("Avant tout achat, l'équipe se pose trois questions :\n- ")
    assert chunks[3].section == "Critères de choix › Suivi"


def test_long_section_is_split_between_sentences_within_token_budget(tmp_path: Path):
    doc = load_file(long_markdown(tmp_path))
    count = e5_token_counter()
    chunks = chunk_document(doc, target_tokens=120, max_tokens=200)
    section_a = [c for c in chunks if c.section_path == ("Section A",)]
    assert len(section_a) > 3
    sentences = {SENTENCE.format(n=i) for i in range(40)}
    for chunk in section_a:
        assert chunk.n_tokens == count(chunk.text)
        assert chunk.n_tokens <= 200
        # "p. ex.", "art." and "M." must not have been taken for sentence ends
        assert set(split_sentences(chunk.text)) <= sentences
    rebuilt = " ".join(c.text for c in section_a)
    assert rebuilt == " ".join(SENTENCE.format(n=i) for i in range(40))
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))


def test_chunk_ids_are_stable_and_derived_from_content(tmp_path: Path):
    path = long_markdown(tmp_path)
    first = [c.chunk_id for c in chunk_document(load_file(path))]
    assert first == [c.chunk_id for c in chunk_document(load_file(path))]
    assert len(set(first)) == len(first)
    path.write_text(
        path.read_text(encoding="utf-8").replace("Court.", "Court et modifié."), encoding="utf-8"
    )
    second = [c.chunk_id for c in chunk_document(load_file(path))]
    assert second[:-1] == first[:-1]
    assert second[-1] != first[-1]


def test_pdf_chunks_carry_page_and_page_anchor(tmp_path: Path):
    pdf = make_pdf(tmp_path / "r.pdf", [["Premiere page fictive."], ["Deuxieme page fictive."]])
    meta = DocMeta("r", "Rapport fictif", "rapport", "2031", "https://exemple.invalid/r.pdf")
    chunks = chunk_document(load_file(pdf, meta), target_tokens=32, max_tokens=64)
    assert [(c.page, c.url) for c in chunks] == [
        (1, "https://exemple.invalid/r.pdf#page=1"),
        (2, "https://exemple.invalid/r.pdf#page=2"),
    ]
    assert all(c.date == "2031" and c.doc_type == "rapport" for c in chunks)


def test_a_sentence_running_over_a_page_break_stays_in_one_chunk(tmp_path: Path):
    pdf = make_pdf(
        tmp_path / "r.pdf", [["Une phrase fictive qui continue"], ["sur la page suivante."]]
    )
    chunks = chunk_document(load_file(pdf), target_tokens=64, max_tokens=128)
    assert len(chunks) == 1
    assert (chunks[0].page, chunks[0].page_end) == (1, 2)


def test_chunks_keep_all_text_of_the_document():
    doc = load_file(FIXTURES / "fictif-note.txt")
    chunks = chunk_document(doc)
    body = normalize_space(" ".join(c.text.replace("\n- ", " ") for c in chunks))
    for block in doc.blocks:
        if block.kind != "heading":
            assert block.text in body


def test_bundled_corpus_chunks_fit_the_embedder():
    from assistant.ingest.corpus import Corpus
    from assistant.settings import load_settings

    report = Corpus(load_settings()).load()
    assert not report.errors
    chunks = chunk_document(report.documents[0])
    assert 8 <= len(chunks) <= 30
    assert max(c.n_tokens for c in chunks) <= 320
    # each piece is counted once and the counts are summed: exact on the published page
    assert [c.n_tokens for c in chunks] == [e5_token_counter()(c.text) for c in chunks]
    cadre = next(c for c in chunks if "s’articule autour de 3 axes" in c.text)
    assert cadre.section == "Construire un cadre de confiance"
    assert "- Développer un cadre d’évaluation adapté" in cadre.text
