"""Every user-facing text: refusals, notices, the chat's answer frame and statuses, LLM failures
(French, with English where a reader may not read French)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assistant.contract import ClosestPublication

_REFUSALS = {
    "unsafe_request": {
        "fr": "Je ne peux pas répondre à cette demande : je réponds uniquement à partir des "
        "publications de la HAS, en citant mes sources, et je ne change pas ces règles. "
        "Posez votre question sur le choix ou l'usage des outils numériques et de l'IA "
        "en contexte de soins.",
        "en": "I cannot do that: I only answer from the HAS publications, citing my sources, "
        "and I do not change these rules. Ask a question about choosing or using "
        "digital tools and AI in care.",
    },
    "out_of_scope": {
        "fr": "Cette question sort du champ de l'assistant, qui éclaire le choix et l'usage des "
        "outils numériques et de l'IA en contexte de soins à partir des publications de "
        "la HAS. Une décision concernant un patient (diagnostic, dose, traitement) relève "
        "de votre jugement clinique et des recommandations de bonne pratique. "
        "N'indiquez jamais de données permettant d'identifier un patient.",
        "en": "This question is outside the assistant's scope: it helps choose and use digital "
        "tools and AI in care, from the HAS publications. A decision about a patient "
        "(diagnosis, dose, treatment) belongs to your clinical judgement and to clinical "
        "guidelines. Never enter data that could identify a patient.",
    },
    "no_evidence": {
        "fr": "Les publications de la HAS indexées ne répondent pas à cette question : je "
        "préfère ne rien affirmer sans source.",
        "en": "The indexed HAS publications do not answer this question, so I will not state "
        "anything without a source.",
    },
}


#: the chat's heading of a refusal, by reason
REFUSAL_HEADINGS = {
    "no_evidence": "les publications indexées ne répondent pas",
    "out_of_scope": "hors du champ de l'assistant",
    "unsafe_request": "demande contraire aux règles de l'assistant",
}
NO_SOURCED_ANSWER = "Pas de réponse sourcée"
SOURCES = "Sources"


def verification_line(supported: int, total: int, model: str | None) -> str:
    """The chat's line under the sources: how many sentences their source supports."""
    mode = f"rédigée par {model}" if model else "extractive"
    return (
        f"Vérification : {supported}/{total} phrase(s) appuyée(s) par la source citée — "
        f"réponse {mode}."
    )


def refusal(
    reason: str, language: str, question: str, closest: Sequence[ClosestPublication]
) -> str:
    """The refusal text; for ``no_evidence``, followed by the closest publications."""
    text = _REFUSALS[reason]["en" if language == "en" else "fr"]
    if reason == "no_evidence" and closest:
        head = "Closest publications:" if language == "en" else "Publications les plus proches :"
        lines = [
            f"- {p.title}"
            + (f" — {p.url}" if p.url else "")
            + ("" if p.indexed else " (non indexée : `has-assistant corpus sync`)")
            for p in closest
        ]
        text = "\n".join([text, head, *lines])
    return text


def fallback(reason: str) -> str:
    return (
        f"Réponse du LLM non retenue ({reason}) : la réponse extractive vérifiée est "
        f"affichée à la place. / LLM answer not used; the verified extractive answer is "
        f"shown instead."
    )


def patient_data(kinds: tuple[str, ...]) -> str:
    labels = {
        "nir": "numéro de sécurité sociale",
        "telephone": "téléphone",
        "email": "e-mail",
        "date_de_naissance": "date de naissance",
        "adresse": "adresse",
        "ipp": "IPP",
        "nom": "nom",
    }
    found = ", ".join(labels.get(k, k) for k in kinds)
    return (
        f"Données patient retirées de la question ({found}) : elles n'ont été ni "
        f"utilisées ni enregistrées. N'indiquez jamais de données identifiant un patient. / "
        f"Patient data removed from the question; never enter it."
    )


def truncated(length: int, limit: int) -> str:
    return (
        f"Question tronquée à {limit} caractères (elle en comptait {length}). / "
        f"Question truncated to {limit} characters (it had {length})."
    )


def too_many_parts(count: int, limit: int) -> str:
    return (
        f"Question en {count} parties : seules les {limit} premières sont traitées. / "
        f"A {count}-part question: only the first {limit} parts are answered."
    )


def part_unanswered(part: str, language: str) -> str:
    """A part of a multi-part question that no indexed passage answers."""
    if language == "en":
        return f"The indexed documents do not answer this part of the question: « {part} »."
    return f"Les documents indexés ne répondent pas à cette partie de la question : « {part} »."


# --------------------------------------------------------------------------- the chat

SEARCHING = "⏳ Recherche dans les publications…"
BUSY = (
    "⏳ Une question de cette session est déjà en cours : réessayez dans un instant. / "
    "A question of this session is still running: retry in a moment."
)
ASK_FIRST = "Posez d'abord une question."
ADMIN_ONLY_UPLOAD = "Seul un administrateur peut ajouter des documents."
CHOOSE_FILE = "Choisissez d'abord un fichier."
CHECKING_UPLOAD = "Vérification et indexation…"


def error(message: str) -> str:
    return f"Erreur : {message}"


def internal_error(kind: str) -> str:
    """Any unexpected failure of an answer: the user gets this, the log the traceback."""
    return (
        f"erreur interne ({kind}) : la réponse n'a pas pu être produite ; le détail est dans "
        "le journal du serveur"
    )


def feedback_saved(useful: bool, row: int) -> str:
    return f"Merci : avis « {'utile' if useful else 'pas utile'} » enregistré (n° {row})."


def upload_done(added: int, changed: int, chunks: int) -> str:
    return f"✅ Indexé : {added} ajouté(s), {changed} modifié(s), {chunks} passage(s) calculé(s)."


def unknown_answer(answer_id: str) -> str:
    return f"réponse inconnue ou trop ancienne : {answer_id}"


# --------------------------------------------------------------------------- LLM failures


def llm_failure(kind: str, detail: str = "", timeout_s: float = 0.0, where: str = "") -> str:
    """Why an LLM answer was not used: ``kind`` is key, timeout, unreachable or error."""
    if kind == "key":
        return "le serveur LLM a refusé la clé d'API (401/403) / the LLM server rejected the key"
    if kind == "timeout":
        return f"pas de réponse du LLM en {timeout_s:.0f} s / no answer from the LLM in time"
    if kind == "unreachable":
        return f"LLM injoignable ({where or 'local'}) / LLM unreachable: {detail}"
    return f"erreur du LLM / LLM error: {detail}"
