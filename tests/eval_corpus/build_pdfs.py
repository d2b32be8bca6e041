"""Write the fictitious evaluation corpus as PDFs (one list of paragraphs per page).

    python tests/eval_corpus/build_pdfs.py

Every text here is invented for the tests and says so: none is HAS content. The core PDF font
is Latin-1, so the texts use straight apostrophes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

FICTIF = (
    "Document fictif de test : ce texte n'est pas une publication de la HAS. "
    "Les lieux, les instances, les dates et les chiffres sont inventés."
)

DOCUMENTS: dict[str, list[list[str]]] = {
    "fictif-guide-telesuivi.pdf": [
        [
            "Guide fictif de choix d'une solution de télésuivi",
            FICTIF,
            "Ce guide fictif s'adresse aux équipes de soins du Centre hospitalier fictif de "
            "Valombre qui envisagent une solution de télésuivi des patients insuffisants "
            "cardiaques.",
            "Il a été rédigé en 2031 par l'Agence fictive de santé numérique de Valombre.",
        ],
        [
            "Critères de choix",
            "Le comité fictif retient cinq critères de choix : la preuve clinique, "
            "l'interopérabilité avec le dossier patient, la sécurité des données, l'ergonomie "
            "pour les soignants et le coût total sur cinq ans.",
            "Une solution sans marquage CE ne doit jamais être retenue par le comité fictif.",
            "L'essai en conditions réelles dure douze semaines dans deux services pilotes.",
        ],
        [
            "Calendrier et responsabilités",
            "Le référent numérique du service rédige la fiche d'évaluation avant le 15 mars 2032.",
            "La décision finale revient à la commission fictive des équipements, qui se réunit "
            "deux fois par an.",
            "Le guide fictif sera révisé tous les trois ans.",
        ],
    ],
    "fictif-charte-ia-generative.pdf": [
        [
            "Charte fictive d'usage de l'IA générative au Centre hospitalier fictif de Valombre",
            FICTIF,
            "Cette charte fictive encadre l'usage des outils d'IA générative par les "
            "professionnels du Centre hospitalier fictif de Valombre.",
            "Aucune donnée permettant d'identifier un patient ne doit être saisie dans un outil "
            "d'IA générative.",
            "Chaque professionnel suit une formation de trois heures avant d'utiliser l'outil "
            "d'IA générative de l'établissement.",
        ],
        [
            "Contrôle et suivi",
            "Toute production de l'IA générative versée au dossier doit être relue et validée "
            "par un professionnel.",
            "Le comité fictif de vigilance numérique se réunit chaque trimestre pour examiner "
            "les incidents.",
        ],
    ],
    "fictif-bilan-incidents-2031.pdf": [
        [
            "Bilan fictif 2031 des incidents liés aux outils numériques",
            FICTIF,
            "En 2031, le Centre hospitalier fictif de Valombre a enregistré 42 incidents liés "
            "aux outils numériques.",
            "Les pannes de connexion représentent la moitié des incidents déclarés.",
            "Tout incident doit être déclaré au comité fictif de vigilance numérique dans un "
            "délai de 48 heures.",
        ],
        [
            "Recommandations du bilan fictif",
            "Le bilan fictif recommande un plan de continuité en mode dégradé pour chaque outil "
            "de télésuivi.",
            "Un exercice de panne est organisé une fois par an dans chaque service pilote.",
        ],
    ],
}


def build(folder: Path) -> list[Path]:
    """Write every document of :data:`DOCUMENTS` into ``folder``; return the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    fixed = datetime(2031, 1, 1, tzinfo=UTC)  # the same bytes at every build
    return [write_pdf(folder / name, pages, fixed) for name, pages in DOCUMENTS.items()]


def write_pdf(path: Path, pages: list[list[str]], created: datetime | None = None) -> Path:
    """Write a real PDF with one list of paragraphs per page (fpdf2, core font)."""
    from fpdf import FPDF

    pdf = FPDF()
    if created is not None:
        pdf.set_creation_date(created)
    pdf.set_font("helvetica", size=11)
    for paragraphs in pages:
        pdf.add_page()
        for paragraph in paragraphs:
            pdf.multi_cell(0, 6, paragraph)
            pdf.ln(4)
    pdf.output(str(path))
    return path


if __name__ == "__main__":
    for path in build(Path(__file__).parent / "documents"):
        print(path)
