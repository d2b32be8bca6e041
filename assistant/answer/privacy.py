"""Patient-data guard: find and redact data that could identify a patient in a question.

The HAS asks professionals never to enter data identifying a patient into an AI tool. Every
question goes through :func:`redact` before retrieval, before any LLM call and before it is
stored: French social security numbers (NIR, with or without a valid key), phone numbers,
e-mail addresses, dates of birth, postal addresses, hospital patient identifiers (IPP), and
names introduced by a civility or by "patient(e)". Detected data is replaced by a tag such
as ``[NIR]``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# a name: capitalised or in capitals, hyphenated parts kept whole (Jean-Pierre, LE GOFF), or
# an initial; up to three words (« DUPONT Marie », « Jean-Pierre Martin »)
_WORD = r"(?:[A-ZÀ-Ý][a-zà-ÿ'’]+|[A-ZÀ-Ý]{2,})"
_NAME = rf"{_WORD}(?:-{_WORD})*|[A-ZÀ-Ý]\.?"
_NAMES = rf"(?:{_NAME})(?:[ ](?:{_NAME})){{0,2}}"
_CIVILITY = r"(?:M\.|(?i:mme|mlle|monsieur|madame|mademoiselle)\.?|(?i:mr|mrs|ms)\.?)"

PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("email", re.compile(r"\b[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+\b")),
    # NIR: sex, year, month (or 20/30-42, 50, 62-63…), department (2A/2B…), commune, order, key
    (
        "nir",
        re.compile(
            r"\b[12][ .\-]*\d{2}[ .\-]*(?:0[1-9]|1[0-2]|[2-9]\d)[ .\-]*(?:\d{2}|2[AB])[ .\-]*"
            r"\d{3}[ .\-]*\d{3}(?:[ .\-]*\d{2})?\b",
            re.I,
        ),
    ),
    (
        "telephone",
        re.compile(
            r"(?<![\w/])(?:(?:\+|00)33[ .\-]?\(?0?\)?[ .\-]?[1-9]|0[1-9])(?:[ .\-]?\d{2}){4}(?!\d)"
        ),
    ),
    (
        "ipp",
        re.compile(
            r"\b(?:IPP|NIP|n° ?patient|numéro (?:de )?patient|dossier n°)"
            r"\s*[:n°#]*\s*[A-Z0-9\-]{5,}\b",
            re.I,
        ),
    ),
    (
        "date_de_naissance",
        re.compile(
            r"\b(?:n[ée]e?s?\s+le|DDN|date\s+de\s+naissance|born(?:\s+on)?)\s*:?\s*"
            r"(?:\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2,4}|\d{1,2}(?:er)?\s+[a-zéû]+\s+\d{4})",
            re.I,
        ),
    ),
    (
        "adresse",
        re.compile(
            r"\b\d{1,4}(?:\s?(?:bis|ter))?,?\s+(?:rue|avenue|av\.|boulevard|bd|allée|chemin|"
            r"impasse|place|route|quai|cours|square|résidence)\s+[\w'’\- ]{2,40}?"
            r"(?:,?\s+\d{5}(?:\s+[A-ZÀ-Ý][\w\- ]{1,30})?)?"
            r"(?=\s*[,.;:!?)]|\s*$|\s+(?:à|a|et|pour)\b)",
            re.I,
        ),
    ),
    (
        "nom",
        re.compile(rf"\b{_CIVILITY}\s+({_NAMES})"),
    ),
    (
        "nom_patient",
        re.compile(
            rf"\b(?i:patiente?|résidente?)\s+({_NAMES})"
            rf"(?=[\s,.;:?!)]|$)"
        ),
    ),
]
# words after "patient" that are not names
_NOT_NAMES = {
    "Le",
    "La",
    "Les",
    "Un",
    "Une",
    "Des",
    "De",
    "Du",
    "En",
    "Et",
    "Ou",
    "Il",
    "Elle",
    "Ce",
    "Cette",
    "Avec",
    "Dans",
    "Pour",
    "Sur",
    "Sans",
    "Au",
    "Aux",
    "A",
    "À",
    "M",
    "Mme",
    "Mlle",
    "Monsieur",
    "Madame",
    "Mr",
    "Mrs",
    "Ms",
    "Dr",
    "Pr",
    # acronyms of the field, in capitals after "patient" (« le dossier du patient DMP »)
    "Ia",
    "Dmp",
    "Dmn",
    "Dm",
    "Has",
    "Ans",
    "Cnil",
    "Rgpd",
    "Si",
    "Ehpad",
}


def nir_key_ok(digits: str) -> bool:
    """The NIR's 2-digit key is 97 - (the 13 first digits mod 97); Corsica: 2A→19, 2B→18."""
    body, key = digits[:13].upper(), digits[13:]
    if len(body) != 13 or len(key) != 2:
        return False
    number = int(body.replace("2A", "19").replace("2B", "18"))
    if "2A" in body:
        number -= 1000000
    elif "2B" in body:
        number -= 2000000
    return 97 - number % 97 == int(key)


@dataclass(frozen=True)
class Redaction:
    """What the guard found: the kinds of data, and the question without them."""

    text: str
    detected: tuple[str, ...]


def _nir_match(match: re.Match[str]) -> bool:
    """A NIR-shaped number, with or without its key: redacted even when the key is wrong (a
    typo in a real number still identifies someone)."""
    digits = re.sub(r"[ .\-]", "", match.group(0))
    return len(digits) in (13, 15)


def redact(text: str) -> Redaction:
    """Replace patient-identifying data by ``[KIND]`` tags; report the kinds found."""
    found: list[str] = []
    for kind, pattern in PATTERNS:

        def replace(match: re.Match[str], kind: str = kind) -> str:
            if kind == "nir" and not _nir_match(match):
                return match.group(0)
            if kind.startswith("nom"):
                name = match.group(1).strip(".")
                if kind == "nom_patient" and name.capitalize() in _NOT_NAMES:
                    return match.group(0)  # "patient Il…": a word, not a name
                found.append("nom")
                start = match.start(1) - match.start(0)
                return match.group(0)[:start] + "[NOM]"
            found.append(kind)
            return f"[{kind.upper()}]"

        text = pattern.sub(replace, text)
    return Redaction(text, tuple(dict.fromkeys(found)))
