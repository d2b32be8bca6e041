"""Loaders on fictitious fixtures: structure kept, noise dropped, bad files named clearly."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.errors import DocumentLoadError
from assistant.ingest.loaders import DocMeta, load_file, load_files

from conftest import FIXTURES, make_image_only_pdf, make_pdf


def kinds(doc):
    return [(b.kind, b.text) for b in doc.blocks]


def test_markdown_headings_lists_tables_and_inline_markup():
    doc = load_file(FIXTURES / "fictif-guide.md")
    blocks = kinds(doc)
    assert blocks[0] == (
        "heading",
        "Guide fictif d'usage des outils numériques au centre de Valombre",
    )
    assert doc.meta.title == blocks[0][1]
    assert doc.meta.doc_id == "fictif-guide"
    headings = [(b.level, b.text) for b in doc.blocks if b.kind == "heading"]
    assert headings == [
        (1, "Guide fictif d'usage des outils numériques au centre de Valombre"),
        (2, "Contexte"),
        (2, "Critères de choix"),
        (3, "Suivi"),
    ]
    # wrapped lines joined into one paragraph, emphasis and links reduced to their text
    assert (
        "paragraph",
        "Le centre hospitalier fictif de Valombre a recensé 27 outils numériques "
        "en 2031. Cette note fictive décrit, p. ex., la façon dont l'équipe choisit ses "
        "logiciels. Voir l'art. 4 du règlement intérieur fictif.",
    ) in blocks
    assert ("list_item", "L'outil répond-il à un besoin clinique identifié ?") in blocks
    assert ("list_item", "Le fournisseur documente-t-il ses limites ?") in blocks
    assert ("table", "Besoin clinique | 3") in blocks
    assert not any("---" in text for _, text in blocks)


def test_html_keeps_main_content_only():
    doc = load_file(FIXTURES / "fictif-page.html")
    text = doc.text
    for noise in (
        "Accueil du site",
        "Menu Publications",
        "MENU SCRIPT",
        "Partager",
        "Mentions légales",
        "Voir aussi",
        "color: red",
        "Accueil > Publications",
    ):
        assert noise not in text
    blocks = kinds(doc)
    assert blocks[0] == ("heading", "Outils d'aide à la décision fictifs")
    assert ("list_item", "la traçabilité des recommandations de l'outil ;") in blocks
    assert ("list_item", "l'information des patients") in blocks
    assert ("list_item", "par un affichage en salle d'attente ;") in blocks
    assert ("table", "Taux d'usage | 41 %") in blocks
    assert doc.meta.title == "Outils d'aide à la décision fictifs"


def test_plain_text_detects_title_headings_and_lists():
    doc = load_file(FIXTURES / "fictif-note.txt")
    headings = [(b.level, b.text) for b in doc.blocks if b.kind == "heading"]
    assert headings == [
        (1, "Note fictive sur la télésurveillance à Valombre"),
        (2, "Contexte du projet"),
        (2, "Résultats attendus"),
    ]
    assert [b.text for b in doc.blocks if b.kind == "list_item"] == [
        "relever les alertes chaque matin ;",
        "appeler les patients sans transmission depuis 48 heures.",
    ]


def test_pdf_text_per_page_with_page_numbers(sample_pdf: Path):
    meta = DocMeta("fictif-rapport", "Rapport fictif", "rapport", "2031", "http://x.invalid/r.pdf")
    doc = load_file(sample_pdf, meta)
    assert doc.page_count == 3
    assert doc.meta is meta
    by_page = {b.page: b.text for b in doc.blocks if "page" in b.text}
    assert "premiere page" in by_page[1]
    assert "14 outils" in by_page[2]
    assert "troisieme page" in by_page[3]
    assert doc.fmt == "pdf"


def test_cp1252_text_is_decoded(tmp_path: Path):
    path = tmp_path / "ancien.txt"
    path.write_bytes("Note fictive encodée en Windows-1252 : été, où, cœur.".encode("cp1252"))
    assert "été, où, cœur" in load_file(path).text


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("vide.txt", b"", "empty file"),
        ("vide.pdf", b"", "empty file"),
        ("corrompu.pdf", b"%PDF-1.7\n1 0 obj << /Type /Catalog >> garbage \x00\xff", "corrupt"),
        ("pas-un-pdf.pdf", b"<html>error page</html>", "not a PDF"),
        ("binaire.txt", bytes(range(256)) * 4, "binary content"),
        ("binaire.md", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64, "binary content"),
        ("tableur.xlsx", b"PK\x03\x04 fake", "unsupported format '.xlsx'"),
        ("sans-extension", b"du texte", "unsupported format '(no extension)'"),
    ],
)
def test_bad_files_raise_clear_errors(tmp_path: Path, name: str, content: bytes, reason: str):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DocumentLoadError) as err:
        load_file(path)
    assert str(path) in str(err.value)
    assert reason in str(err.value)


def test_pdf_without_text_layer_says_to_run_ocr(tmp_path: Path):
    path = make_image_only_pdf(tmp_path / "scan.pdf")
    with pytest.raises(DocumentLoadError) as err:
        load_file(path)
    assert "no text layer" in err.value.reason
    assert "OCR" in (err.value.hint or "")


def test_load_files_reports_errors_and_keeps_the_good_files(tmp_path: Path, sample_pdf: Path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "bon.md").write_text("# Bon fictif\n\nUn paragraphe fictif.", encoding="utf-8")
    (folder / "vide.html").write_bytes(b"")
    (folder / "image.png").write_bytes(b"\x89PNG\r\n")
    sample_pdf.rename(folder / "rapport.pdf")
    report = load_files([folder])
    assert sorted(d.doc_id for d in report.documents) == ["bon", "rapport"]
    assert sorted(e.path.name for e in report.errors) == ["image.png", "vide.html"]


def test_pdf_wrapped_lines_are_joined_into_paragraphs(tmp_path: Path):
    from conftest import make_pdf

    long = (
        "Un long paragraphe fictif que la mise en page coupe sur plusieurs lignes, afin de "
        "verifier que le chargeur recolle les lignes. Une deuxieme phrase fictive assez "
        "longue pour depasser elle aussi la largeur de la page du document."
    )
    doc = load_file(make_pdf(tmp_path / "long.pdf", [[long, "- un item fictif"]]))
    assert [(b.kind, b.text) for b in doc.blocks] == [
        ("paragraph", long),
        ("list_item", "un item fictif"),
    ]


# text as PDF extraction gives it (FICTITIOUS, written for the test): « • » bullets, glued
# or alone on their line, items that wrap, label/description blocks
HAS_STYLE = """Guide fictif de test
Document fictif : ce texte n'est pas une publication de la HAS.
Critères de choix
Le comité fictif recommande de vérifier les points suivants :
• Vérifier le marquage CE de l'outil ;
•Évaluer l'interopérabilité avec le dossier
patient informatisé ;
•
Former les utilisateurs.
Le comité distingue quatre niveaux A, B, C et D.
Niveau A
Usage expérimental, limité à un service pilote.
Étape 1 – Cadrage
Le groupe projet décrit le besoin.
"""


@pytest.mark.parametrize("join_wrapped", [False, True])
def test_bullets_wrapped_items_and_label_blocks(join_wrapped):
    from assistant.ingest.loaders import _lines_to_blocks

    blocks = [(b.kind, b.text) for b in _lines_to_blocks(HAS_STYLE.splitlines(), 1, join_wrapped)]
    items = [text for kind, text in blocks if kind == "list_item"]
    assert items == [
        "Vérifier le marquage CE de l'outil ;",
        "Évaluer l'interopérabilité avec le dossier patient informatisé ;",
        "Former les utilisateurs.",
    ]
    assert ("paragraph", "Niveau A : Usage expérimental, limité à un service pilote.") in blocks
    assert ("paragraph", "Étape 1 – Cadrage : Le groupe projet décrit le besoin.") in blocks
    assert ("heading", "Critères de choix") in blocks  # a real heading stays a heading


def test_a_bullet_list_is_quoted_whole_with_its_lead_in(tmp_path: Path):
    """Loaded from a .txt file, chunked, grouped for quoting: the lead-in and its « • »
    items form one quotable unit."""
    from assistant.answer.extractive import ExtractiveAnswerer
    from assistant.index.records import line_sentences
    from assistant.ingest.chunking import chunk_document, regex_token_counter

    path = tmp_path / "fictif.txt"
    path.write_text(HAS_STYLE, "utf-8")
    chunks = chunk_document(load_file(path), regex_token_counter)
    chunk = next(c for c in chunks if "points suivants" in c.text)
    sentences = [s for line in chunk.text.split("\n") for s in line_sentences(line)]
    groups = ExtractiveAnswerer._groups(chunk.text, sentences)
    whole = [g for g in groups if len(g) == 4]
    assert whole and sentences[whole[0][0]].endswith("suivants :")


def test_a_file_is_parsed_once_and_a_changed_one_again(tmp_path: Path, monkeypatch):
    from assistant.ingest.loaders import ParseCache

    pdf = make_pdf(tmp_path / "r.pdf", [["Premiere page fictive."], ["Deuxieme page fictive."]])
    cache = ParseCache(tmp_path / "parsed")
    first = load_file(pdf, cache=cache)

    def no_parsing(path):
        raise AssertionError("parsed again")

    monkeypatch.setattr("assistant.ingest.loaders.parse_pdf", no_parsing)
    again = load_file(pdf, cache=ParseCache(tmp_path / "parsed"))  # another process, same dir
    assert again.blocks == first.blocks and again.sha256 == first.sha256
    assert again.page_count == 2 and again.doc_id == "r"
    make_pdf(pdf, [["Une page fictive modifiee."]])
    with pytest.raises(DocumentLoadError, match="parsed again"):  # the parser ran again
        load_file(pdf, cache=cache)
    kept = ParseCache(tmp_path / "parsed")
    kept.prune()  # nothing read through it: every parsed copy goes
    assert not list((tmp_path / "parsed").glob("*.json"))
