"""The bad-input matrix: every kind of bad file or bad question, in one table.

Each file goes through both ways in: the CLI (`has-assistant ingest PATH`, a subprocess) and the
chat's upload (`Assistant.add_upload`), each on its own copy of a home already holding the
bundled HAS page and a fictitious user document; the index must keep everything it held
(same documents, same chunk counts). Each question goes through `has-assistant ask` and
`Assistant.ask`. Every file written here is fictitious and says so when it holds text.

Some of these cases are also checked closer to their code (test_loaders.py for the loaders
alone, test_render_upload.py for the upload callback, test_answer.py for the questions); this
file is the one place listing them all, end to end.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import hostile_pdfs
import pytest

from assistant.app import Assistant
from assistant.errors import AssistantError
from assistant.index.records import iter_records
from assistant.settings import load_settings

from conftest import FICTITIOUS, FIXTURES, console_script, make_image_only_pdf

AXES = "Quels sont les trois axes du cadre de confiance ?"
SCRIPT_WORD = "zorglubinex"  # appears only inside <script> elements
VISIBLE_WORD = "quintavellerie"  # appears only in the visible text of the same page
CP1252_TEXT = "l’été, où bat le cœur du budget fictif de 20 € — à Valombre"
LATIN1_TEXT = "à Valombre, le comité fictif a étudié la télésurveillance en 2031"


# --------------------------------------------------------------------------- files


def corrupt_pdf(folder: Path) -> Path:
    path = folder / "corrompu.pdf"
    path.write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog >> garbage \x00\xff trailer")
    return path


def inflation_bomb_pdf(folder: Path) -> Path:
    path = folder / "bombe.pdf"
    path.write_bytes(hostile_pdfs.inflation_bomb())
    return path


def deep_tree_pdf(folder: Path) -> Path:
    path = folder / "arbre-profond.pdf"
    path.write_bytes(hostile_pdfs.deep_page_tree())
    return path


def empty_pdf(folder: Path) -> Path:
    path = folder / "vide.pdf"
    path.write_bytes(b"")
    return path


def scanned_pdf(folder: Path) -> Path:
    return make_image_only_pdf(folder / "scan-fictif.pdf")


def oversized_pdf(folder: Path) -> Path:
    """One byte over both size limits (HAS_ASSISTANT_MAX_FILE_MB for ingest, ..._MAX_UPLOAD_MB
    for the chat); sparse, so it costs no disk and no time."""
    settings = load_settings()
    path = folder / "enorme.pdf"
    with path.open("wb") as fh:
        fh.write(b"%PDF-1.4\n% Document fictif de test\n")
        fh.truncate(max(settings.max_file_mb, settings.max_upload_mb) * 2**20 + 1)
    return path


def binary_named_pdf(folder: Path) -> Path:
    path = folder / "image.pdf"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8)
    return path


def html_with_scripts(folder: Path) -> Path:
    path = folder / "page-scripts.html"
    path.write_text(
        f"""<!DOCTYPE html>
<html lang="fr"><head><title>Page fictive de test</title>
<script>var cle = "{SCRIPT_WORD}"; document.write("{SCRIPT_WORD}");</script>
<script type="application/ld+json">{{"description": "{SCRIPT_WORD} fictif"}}</script>
</head><body>
<script>window.{SCRIPT_WORD} = "Le service fictif pratique aussi le {SCRIPT_WORD}";</script>
<main>
<h1>Page fictive : la {VISIBLE_WORD} à Valombre</h1>
<p>{FICTITIOUS}</p>
<script>console.log("{SCRIPT_WORD} dans le contenu principal");</script>
<p>Le service fictif de Valombre pratique la {VISIBLE_WORD} <script>alert("{SCRIPT_WORD}")
</script>depuis 2031, avec 12 soignants fictifs.</p>
<ul><li>Un point fictif de la liste <script>{SCRIPT_WORD}();</script></li></ul>
<table><tr><td>Outils fictifs</td><td><script>"{SCRIPT_WORD}"</script>7</td></tr></table>
</main>
<script src="inexistant.js">{SCRIPT_WORD}</script>
</body></html>
""",
        encoding="utf-8",
    )
    return path


def cp1252_text(folder: Path) -> Path:
    path = folder / "note-cp1252.txt"
    path.write_bytes(
        f"Note fictive en Windows-1252\n\n{FICTITIOUS}\n\nOn y lit {CP1252_TEXT}.\n".encode(
            "cp1252"
        )
    )
    return path


def latin1_text(folder: Path) -> Path:
    path = folder / "note-latin1.txt"
    path.write_bytes(
        f"Note fictive en ISO-8859-1\n\n{FICTITIOUS}\n\nOn y lit {LATIN1_TEXT}.\n".encode("latin-1")
    )
    return path


def garbage_text(folder: Path) -> Path:
    """Bytes that are neither UTF-8 nor Windows-1252 (and hold no NUL byte)."""
    path = folder / "illisible.txt"
    path.write_bytes(bytes(range(1, 256)) * 40)
    return path


def exe_file(folder: Path) -> Path:
    path = folder / "programme.exe"
    path.write_bytes(b"MZ\x90\x00\x03\x00\x00\x00" + bytes(range(256)))
    return path


def docx_file(folder: Path) -> Path:
    path = folder / "note-fictive.docx"
    path.write_bytes(b"PK\x03\x04\x14\x00\x06\x00word/document.xml Document fictif de test")
    return path


# --------------------------------------------------------------------------- index state


def index_state(assistant: Assistant) -> tuple[int, list[dict]]:
    """Chunks recorded by the active generation, and its publications (id, title, chunks…)."""
    info = assistant.index.info()
    assert info is not None
    return info.n_chunks, assistant.indexed_publications()


def chunk_texts(assistant: Assistant) -> dict[str, list[str]]:
    """doc id → texts of every record of the active generation (chunks and sentences)."""
    texts: dict[str, list[str]] = {}
    for record in iter_records(assistant.opened.collection):
        meta = record["metadata"]
        texts.setdefault(meta["doc_id"], []).append(
            " ".join(
                [str(meta.get("title") or ""), str(meta.get("section") or ""), record["document"]]
            )
        )
    return texts


def check_scripts_not_indexed(assistant: Assistant, doc_id: str) -> None:
    texts = chunk_texts(assistant)
    assert any(VISIBLE_WORD in t for t in texts[doc_id])
    assert "12 soignants fictifs" in " ".join(texts[doc_id])
    assert not any(SCRIPT_WORD in t.lower() for ts in texts.values() for t in ts)
    assert assistant.search(SCRIPT_WORD, kind="bm25") == []
    assert not any(SCRIPT_WORD in h.chunk.text.lower() for h in assistant.search(SCRIPT_WORD))
    found = assistant.search(VISIBLE_WORD, kind="bm25")  # the visible text is searchable
    assert found and found[0].chunk.doc_id == doc_id


def check_decoded(expected: str) -> Callable[[Assistant, str], None]:
    def check(assistant: Assistant, doc_id: str) -> None:
        assert expected in " ".join(chunk_texts(assistant)[doc_id])
        hits = assistant.search(expected, k=1)
        assert hits[0].chunk.doc_id == doc_id and expected in hits[0].chunk.text

    return check


# --------------------------------------------------------------------------- the matrix


@dataclass(frozen=True)
class FileCase:
    name: str
    write: Callable[[Path], Path]
    cli_error: str | None  # the reason the CLI gives; None: the file is indexed
    upload_error: str | None  # the reason the upload gives; None: the file is indexed
    check: Callable[[Assistant, str], None] | None = None  # for an indexed file


@dataclass(frozen=True)
class QuestionCase:
    name: str
    question: str
    error: str | None  # None: answered or refused with a reason, never an error
    cli_question: str | None = None  # when the OS cannot pass the question (NUL bytes)
    expected_question: str | None = None  # the question as the answer records it
    notice: str | None = None


MATRIX: list[FileCase | QuestionCase] = [
    FileCase("corrupt-pdf", corrupt_pdf, "corrupt or unreadable PDF", "corrupt or unreadable PDF"),
    FileCase("empty-pdf", empty_pdf, "empty file (0 bytes)", "fichier vide (0 octet)"),
    # found by the red team: pypdf's own limits raised past the loader and poisoned uploads/
    FileCase(
        "pdf-inflation-bomb",
        inflation_bomb_pdf,
        "unreadable file (LimitReachedError",
        "unreadable file (LimitReachedError",
    ),
    FileCase(
        "pdf-page-tree-too-deep",
        deep_tree_pdf,
        "unreadable file (LimitReachedError",
        "unreadable file (LimitReachedError",
    ),
    FileCase("pdf-without-text-layer", scanned_pdf, "PDF has no text layer", "run OCR"),
    FileCase("oversized-file", oversized_pdf, "file too large", "fichier trop volumineux"),
    FileCase(
        "binary-named-pdf", binary_named_pdf, "not a PDF (no %PDF header)", "ce n'est pas un PDF"
    ),
    FileCase("html-full-of-scripts", html_with_scripts, None, None, check_scripts_not_indexed),
    FileCase("text-cp1252", cp1252_text, None, None, check_decoded(CP1252_TEXT)),
    FileCase("text-latin-1", latin1_text, None, None, check_decoded(LATIN1_TEXT)),
    FileCase(
        "text-garbage-bytes",
        garbage_text,
        "not readable as text (unknown encoding or binary content)",
        "not readable as text",
    ),
    FileCase(
        "unknown-format-exe",
        exe_file,
        "unsupported format '.exe'",
        "format non pris en charge (.exe)",
    ),
    FileCase(
        "unknown-format-docx",
        docx_file,
        "unsupported format '.docx'",
        "format non pris en charge (.docx)",
    ),
    QuestionCase("empty-question", "", "question vide"),
    QuestionCase("whitespace-only-question", "  \t \n   ", "question vide"),
    QuestionCase(
        "question-of-10000-characters",
        (AXES + " Précisez le cadre et les axes." * 400)[:10_000],
        None,
        notice="Question tronquée à 2000 caractères (elle en comptait 10000)",
    ),
    QuestionCase(
        "non-breaking-and-thin-spaces",  # as pasted from a word processor or a web page
        "Quels\u00a0sont les\u2009trois axes du cadre de confiance\u202f?",
        None,
        expected_question=AXES,
    ),
    QuestionCase(
        "control-characters-in-question",
        "Quels sont les trois\x00 axes\x07 du cadre\x1b de confiance\x7f ?\x0b\x08",
        None,
        cli_question="Quels sont les trois axes\x07 du cadre\x1b de confiance\x7f ?\x0b\x08",
        expected_question=AXES,
    ),
]


# --------------------------------------------------------------------------- helpers


@contextmanager
def cli(*args: str, home: Path) -> Iterator[Callable[[], subprocess.CompletedProcess]]:
    """Start `has-assistant ARGS` with ``home`` as data dir; yields a function that waits for
    it and returns its result. The command runs while the test does its in-process half."""
    proc = subprocess.Popen(
        [console_script(), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "HAS_ASSISTANT_HOME": str(home)},
    )

    def result() -> subprocess.CompletedProcess:
        out, err = proc.communicate(timeout=300)
        return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)

    try:
        yield result
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def copy_home(pristine: Path, target: Path) -> Path:
    shutil.copytree(pristine, target)
    return target


@pytest.fixture(scope="module")
def pristine_home(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest):
    """A home ingested by the CLI: the bundled HAS page plus a fictitious user document."""
    home = tmp_path_factory.mktemp("pristine-home")
    with cli("ingest", str(FIXTURES / "fictif-note.txt"), home=home) as result:
        request.getfixturevalue("bundled")  # meanwhile, the in-process assistant gets ready
        run = result()
    assert run.returncode == 0, run.stderr
    return home


@pytest.fixture(scope="module")
def baseline(pristine_home: Path, tmp_path_factory: pytest.TempPathFactory, e5):
    """The index state every copy of the pristine home starts from."""
    home = copy_home(pristine_home, tmp_path_factory.mktemp("baseline") / "home")
    n_chunks, publications = index_state(Assistant(load_settings(home=home), e5))
    assert {p["doc_id"] for p in publications} == {"p_3363066", "fictif-note"}
    assert n_chunks == sum(p["chunks"] for p in publications) > 0
    return n_chunks, publications


@pytest.fixture(scope="module")
def ask_home(pristine_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_home(pristine_home, tmp_path_factory.mktemp("ask") / "home")


def assert_kept(baseline: tuple[int, list[dict]], after: tuple[int, list[dict]], added: str):
    """Nothing already indexed is lost; ``added`` (a doc id, or '') is the only newcomer."""
    if not added:
        assert after == baseline
        return
    n_before, before = baseline
    n_after, publications = after
    assert [p for p in publications if p["doc_id"] != added] == before
    new = next(p for p in publications if p["doc_id"] == added)
    assert new["chunks"] > 0 and n_after == n_before + new["chunks"]


def check_answer(answer: dict, case: QuestionCase) -> None:
    """Answered with citations, or refused with a reason; notices and question as expected."""
    if answer["refused"]:
        assert answer["refusal_reason"] in ("no_evidence", "out_of_scope", "unsafe_request")
    else:
        assert answer["citations"] and answer["grounding"]["score"] == 1.0
    if case.notice:
        assert any(case.notice in n for n in answer["notices"])
    if case.expected_question:
        assert answer["question"] == case.expected_question
        assert answer["citations"][0]["doc_id"] == "p_3363066"
    assert len(answer["question"]) <= 2000
    assert all(c.isprintable() or c in "\n\t" for c in answer["question"])


# --------------------------------------------------------------------------- the test


@pytest.mark.parametrize("case", MATRIX, ids=lambda case: case.name)
def test_bad_input(case: FileCase | QuestionCase, request: pytest.FixtureRequest, tmp_path: Path):
    if isinstance(case, FileCase):
        check_file(case, request, tmp_path)
    else:
        check_question(case, request)


def check_file(case: FileCase, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    pristine, baseline = (
        request.getfixturevalue("pristine_home"),
        request.getfixturevalue("baseline"),
    )
    e5 = request.getfixturevalue("e5")
    source = tmp_path / "files"
    source.mkdir()
    path = case.write(source).resolve()
    doc_id = path.stem
    cli_home = copy_home(pristine, tmp_path / "cli-home")
    with cli("ingest", str(path), home=cli_home) as cli_result:
        # 1. the chat's upload, in this process, while the CLI runs
        assistant = Assistant(load_settings(home=copy_home(pristine, tmp_path / "up-home")), e5)
        assert index_state(assistant) == baseline
        if case.upload_error:
            with pytest.raises(AssistantError) as err:
                assistant.add_upload(path)
            assert path.name in str(err.value) and case.upload_error in str(err.value)
            assert not (assistant.uploads_dir / path.name).exists()  # not kept
            assert_kept(baseline, index_state(assistant), "")
            assert not assistant.ingest().errors  # later ingests are not poisoned
        else:
            report = assistant.add_upload(path)
            assert report.added == [doc_id] and not report.errors
            assert_kept(baseline, index_state(assistant), doc_id)
            if case.check:
                case.check(assistant, doc_id)
        # 2. the CLI, as a user runs it
        run = cli_result()
    assert "Traceback" not in run.stdout + run.stderr
    if case.cli_error:
        assert run.returncode == 1, run.stdout
        assert f"Erreur / Error: {path}: {case.cli_error}" in run.stderr
        assert "unchanged: 2" in run.stdout  # the two documents already indexed
    else:
        assert run.returncode == 0, run.stderr
        assert f"added: 1  ({doc_id})" in run.stdout
    cli_side = Assistant(load_settings(home=cli_home), e5)
    assert_kept(baseline, index_state(cli_side), "" if case.cli_error else doc_id)
    if case.check and not case.cli_error:
        case.check(cli_side, doc_id)


def check_question(case: QuestionCase, request: pytest.FixtureRequest) -> None:
    home, bundled = request.getfixturevalue("ask_home"), request.getfixturevalue("bundled")
    question = case.question if case.cli_question is None else case.cli_question
    with cli("ask", question, "--json", home=home) as cli_result:
        # 1. the Assistant (what the chat and the API call), while the CLI runs
        if case.error:
            with pytest.raises(AssistantError) as err:
                bundled.ask(case.question)
            assert case.error in str(err.value)
        else:
            check_answer(bundled.ask(case.question).to_json(), case)
        # 2. the CLI
        run = cli_result()
    assert "Traceback" not in run.stdout + run.stderr
    if case.error:
        assert run.returncode == 1 and case.error in run.stderr and not run.stdout
    else:
        assert run.returncode == 0, run.stderr
        check_answer(json.loads(run.stdout), case)
