"""Rendering of answers for people, and uploads through the UI callbacks (real Assistant)."""

from __future__ import annotations

import time
from pathlib import Path

import gradio as gr
import pytest

from assistant.app import Assistant
from assistant.errors import AssistantError
from assistant.interfaces.render import answer_markdown, trainer_markdown
from assistant.interfaces.ui import ChatApp, parse_auth
from assistant.records.database import database
from assistant.records.feedback import FeedbackStore
from assistant.settings import load_settings

from conftest import make_pdf


def test_answer_markdown_marks_the_cited_words_and_escapes_html(bundled):
    answer = bundled.ask("Quels sont les trois axes du cadre de confiance ?")
    text = answer_markdown(answer)
    assert '<details class="source">' in text and "<mark>" in text
    assert "Vérification : 1/1" in text
    passage = answer.retrieved[0]
    hostile = passage.model_copy(
        update={"text": "<script>alert(1)</script> " + answer.citations[0].quote}
    )
    cited = answer.citations[0].model_copy(update={"chunk_id": passage.chunk_id})
    answer = answer.model_copy(update={"retrieved": [hostile], "citations": [cited]})
    assert "<script>" not in answer_markdown(answer)


def test_refusal_and_trainer_views(bundled):
    refused = bundled.ask("Qui est le président de la HAS ?")
    assert "Pas de réponse sourcée" in answer_markdown(refused)
    view = trainer_markdown(bundled.ask("Périmètre visé par les travaux ?"))
    assert "rang BM25" in view and "Vérification de chaque phrase" in view
    assert "Temps (ms)" in view
    assert "Posez une question" in trainer_markdown(None)


def test_parse_auth():
    assert parse_auth("a:b, c:d:e ,bad") == [("a", "b"), ("c", "d:e")]
    assert parse_auth(None) == []


@pytest.fixture
def chat_app(tmp_path, e5):
    assistant = Assistant(load_settings(home=tmp_path / "home"), e5)
    assistant.ingest()
    return ChatApp(
        assistant, FeedbackStore(database(f"sqlite:///{tmp_path / 'fb.sqlite3'}")), admins={"admin"}
    )


def request_as(user: str | None) -> gr.Request:
    request = gr.Request()
    request.username = user
    return request


def test_upload_is_admin_only_checked_and_indexed(chat_app, tmp_path):
    pdf = make_pdf(
        tmp_path / "note-fictive.pdf", [["Note fictive de test sur la stérilisation à Valombre."]]
    )
    message, _ = chat_app.upload(str(pdf), request_as("user"), lambda *a, **k: None)
    assert "administrateur" in message
    message, table = chat_app.upload(str(pdf), request_as("admin"), lambda *a, **k: None)
    assert message.startswith("✅") and any("note-fictive" in str(row) for row in table)
    fake = tmp_path / "faux.pdf"
    fake.write_bytes(b"MZ\x90\x00 not a pdf")
    message, table = chat_app.upload(str(fake), request_as("admin"), lambda *a, **k: None)
    assert "ce n'est pas un PDF" in message
    evil = tmp_path / "x.exe"
    evil.write_bytes(b"MZ")
    message, _ = chat_app.upload(str(evil), request_as("admin"), lambda *a, **k: None)
    assert "format non pris en charge" in message
    assert len(table) == 2  # the bundled page + the fictitious note


def test_upload_of_an_empty_pdf_is_refused_and_the_index_kept(chat_app, tmp_path):
    before = chat_app.assistant.index.info().n_chunks
    empty = tmp_path / "vide.pdf"
    empty.write_bytes(b"%PDF-1.4\n%%EOF")
    message, _ = chat_app.upload(str(empty), request_as("admin"), lambda *a, **k: None)
    assert message.startswith("❌")
    assert chat_app.assistant.index.info().n_chunks == before
    assert not (chat_app.assistant.uploads_dir / "vide.pdf").exists()


def test_a_bad_file_under_an_existing_name_keeps_the_good_one(chat_app, tmp_path):
    """Red team: a broken upload named like an indexed one deleted the good file and its
    passages."""
    good = tmp_path / "good" / "note-fictive.txt"
    good.parent.mkdir()
    good.write_text(
        "Note fictive\n\nNote fictive de test sur la stérilisation des outils à Valombre.\n",
        "utf-8",
    )
    message, _ = chat_app.upload(str(good), request_as("admin"), lambda *a, **k: None)
    assert message.startswith("✅")
    bad = tmp_path / "bad" / "note-fictive.txt"
    bad.parent.mkdir()
    bad.write_bytes(bytes(range(256)) * 40)  # binary, not text
    message, table = chat_app.upload(str(bad), request_as("admin"), lambda *a, **k: None)
    assert message.startswith("❌") and "note-fictive.txt" in message
    kept = chat_app.assistant.uploads_dir / "note-fictive.txt"
    assert kept.read_bytes() == good.read_bytes()
    assert any("note-fictive" in str(row) for row in table)
    hits = chat_app.assistant.search("stérilisation à Valombre", 5)
    assert "note-fictive" in {h.chunk.doc_id for h in hits}
    assert not [p for p in chat_app.assistant.settings.home.glob(".upload-*")]  # no debris


def test_local_files_show_their_name_never_a_server_path(chat_app, tmp_path):
    """Red team: source links and the corpus table showed file:///…/uploads/… paths."""
    note = tmp_path / "note-locale.txt"
    note.write_text(
        "Note locale\n\nNote fictive de test sur la désinfection des sondes à Valombre.\n", "utf-8"
    )
    message, table = chat_app.upload(str(note), request_as("admin"), lambda *a, **k: None)
    assert message.startswith("✅")
    home = str(chat_app.assistant.settings.home)
    row = next(r for r in table if r[0] == "Note locale")
    assert row[-1] == "note-locale.txt"
    assert all(home not in str(cell) and "file://" not in str(cell) for r in table for cell in r)
    answer = chat_app.assistant.ask("Quelle note fictive traite de la désinfection des sondes ?")
    rendered = answer_markdown(answer)
    assert "note-locale" in {c.doc_id for c in answer.citations}
    assert "file://" not in rendered and home not in rendered


def test_markup_inside_a_document_is_shown_as_text(chat_app, tmp_path):
    """Red team: a document drew a full-screen overlay, a password form and remote images in
    answers, refusals and the Formateur tab (fictitious payloads)."""
    payload = (
        '<div style="position:fixed;inset:0">Session expirée</div>'
        '<form action="http://exemple.invalid/vol"><input type="password"></form>'
        "![pixel](http://exemple.invalid/pixel.png) [ici](http://exemple.invalid)"
    )
    doc = tmp_path / "piege-fictif.txt"
    doc.write_text(
        f"Piège fictif\n\nLa stérilisation fictive des endoscopes à Valombre {payload}.\n", "utf-8"
    )
    message, _ = chat_app.upload(str(doc), request_as("admin"), lambda *a, **k: None)
    assert message.startswith("✅")
    answer = chat_app.assistant.ask(
        f"Comment se fait la stérilisation fictive des endoscopes à Valombre {payload} ?"
    )
    assert "piege-fictif" in {c.doc_id for c in answer.citations}
    for view in (answer_markdown(answer), trainer_markdown(answer)):
        for raw in ("<div style", "<form", "<input", "](http", "![pixel]"):
            assert raw not in view
        assert "&lt;form" in view  # shown, as text


def hostile_files(folder: Path) -> dict[str, Path]:
    """Generated hostile files (fictitious, no content worth reading)."""
    import random

    import hostile_pdfs

    rng = random.Random(7)
    files = {
        "profond.html": "<html><body>" + "<div>" * 20000 + "x" + "</div>" * 20000,
        "plat.html": "<html><body>" + "<p>texte fictif</p>" * 1_500_000 + "</body></html>",
        "aleatoire.txt": bytes(rng.randrange(256) for _ in range(200_000)),
        "bombe.pdf": hostile_pdfs.inflation_bomb(),
        "arbre.pdf": hostile_pdfs.deep_page_tree(),
    }
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, content in files.items():
        path = folder / name
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            path.write_bytes(content)
        paths[name] = path
    return paths


def test_hostile_uploads_are_read_under_limits_and_never_touch_the_index(tmp_path, e5):
    """Red team: a 9 KB PDF ran > 24 min, nested HTML grew ~n^2.7, flat HTML took ~165 MB per
    MB, in the server's own process. Each is now read in a child process under limits."""
    settings = load_settings(
        home=tmp_path / "home", parse_timeout_s=4, parse_memory_mb=400, max_upload_mb=64
    )
    assistant = Assistant(settings, e5)
    assistant.ingest()
    before = assistant.index.info().n_chunks
    for name, path in hostile_files(tmp_path / "files").items():
        started = time.monotonic()
        with pytest.raises(AssistantError) as err:
            assistant.add_upload(path)
        assert name in str(err.value)
        assert time.monotonic() - started < 30  # bounded (4 s of parsing, plus start-up)
        assert not (assistant.uploads_dir / name).exists()
    assert assistant.index.info().n_chunks == before
    report = assistant.ingest()
    assert not report.errors and report.collection is None  # later ingests unaffected


def test_one_session_cannot_run_more_than_its_share_of_questions(chat_app):
    """Red team: five clients sending long questions made a sixth user wait 56 s; twenty
    queued requests from one client, 125 s. A session past its share is told to retry."""
    limit = chat_app.assistant.settings.max_per_session
    request = request_as("medecin")
    key = chat_app.slots.key(request)
    for _ in range(limit):  # this user's questions still running
        assert chat_app.slots.acquire(key)
    with pytest.raises(gr.Error, match="réessayez"):
        chat_app.ask_api("Quels sont les trois axes du cadre de confiance ?", request)
    *_, last = chat_app.respond("Quels sont les axes ?", [], "extractive", request)
    assert "réessayez" in last[0][-1]["content"]
    other = chat_app.ask_api("Quels sont les trois axes du cadre de confiance ?", request_as("b"))
    assert other["citations"]  # another user is served
    chat_app.slots.release(key)
    assert chat_app.ask_api("Quels sont les trois axes du cadre de confiance ?", request)[
        "citations"
    ]


class FailingAssistant(Assistant):
    """The real Assistant, with a fault injected in the pipeline."""

    def ask(self, *args, **kwargs):
        raise RuntimeError("panne simulée")


def test_any_failure_of_the_pipeline_reaches_the_chat_as_a_message(tmp_path, e5, caplog):
    """Before: only AssistantError was caught; anything else showed as KeyError: 'answer'."""
    app = ChatApp(
        FailingAssistant(load_settings(home=tmp_path / "home"), e5),
        FeedbackStore(database(f"sqlite:///{tmp_path / 'fb.sqlite3'}")),
    )
    *_, last = app.respond("Quels sont les axes ?", [], "extractive", request_as("u"))
    reply = last[0][-1]["content"]
    assert reply.startswith("Erreur : erreur interne (RuntimeError)")
    assert "panne simulée" in caplog.text  # the trace is in the server's log
