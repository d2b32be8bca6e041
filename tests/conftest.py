"""Shared fixtures. Every document generated here is fictitious and says so."""

from __future__ import annotations

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
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=11)
    for paragraphs in pages:
        pdf.add_page()
        for paragraph in paragraphs:
            pdf.multi_cell(0, 6, paragraph)
            pdf.ln(4)
    pdf.output(str(path))
    return path


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
