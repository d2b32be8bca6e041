"""Small pure helpers for French text: normalisation and sentence splitting.

Shared by the chunker (never cut a sentence), and later by retrieval and grounding.
"""

from __future__ import annotations

import re
import unicodedata

# Abbreviations after which a period does not end a sentence (lowercase, without the period).
FRENCH_ABBREVIATIONS = frozenset(
    {
        "art",
        "p",
        "pp",
        "ex",
        "m",
        "mm",
        "mme",
        "mmes",
        "mlle",
        "dr",
        "pr",
        "me",
        "st",
        "ste",
        "cf",
        "vol",
        "chap",
        "éd",
        "fig",
        "env",
        "min",
        "max",
        "n",
        "no",
        "nº",
        "tél",
        "av",
        "bd",
        "réf",
        "coll",
        "dir",
        "etc",
        "c.-à-d",
        "c-à-d",
        "i.e",
        "e.g",
        "resp",
        "suiv",
        "sq",
        "sqq",
        "op",
        "cit",
        "ibid",
        "id",
        "al",
        "hab",
        "janv",
        "févr",
        "avr",
        "juil",
        "sept",
        "oct",
        "nov",
        "déc",
        "vs",
        "approx",
        "mg",
        "ml",
        "kg",
    }
)

_SPACES = re.compile(r"\s+")
_QUOTES = str.maketrans({"’": "'", "‘": "'", "«": '"', "»": '"', "“": '"', "”": '"', "\u00a0": " "})
# Candidate sentence ends: . ! ? … (possibly followed by a closing quote/bracket), then space(s),
# then something that can start a sentence.
_CANDIDATE_END = re.compile(
    r"([.!?…]+(?:[\s\u00a0]?[»”\")\]])?)(\s+)(?=[«\"“(\[]?\s*[A-ZÀ-ÖØ-Ý0-9])"
)


def normalize_space(text: str) -> str:
    """Collapse runs of whitespace (incl. non-breaking spaces) into one space and strip."""
    return _SPACES.sub(" ", text.replace("\u00a0", " ")).strip()


def normalize_for_match(text: str) -> str:
    """Lowercase, strip accents, unify quotes and whitespace: for robust substring matching."""
    text = unicodedata.normalize("NFKD", text.translate(_QUOTES))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return normalize_space(text.lower())


def _is_abbreviation(before: str) -> bool:
    """True when the text ``before`` a period ends with an abbreviation or an initial."""
    match = re.search(r"([\wÀ-ÿ.\-º]+)$", before)
    if not match:
        return False
    word = match.group(1).rstrip(".").lower()
    if word in FRENCH_ABBREVIATIONS:
        return True
    # "p. ex." / "c.-à-d." : the last dotted component
    last = word.rsplit(".", 1)[-1]
    if last in FRENCH_ABBREVIATIONS and "." in word:
        return True
    # a single capital letter: an initial ("J. Dupont")
    return len(match.group(1).rstrip(".")) == 1 and match.group(1)[0].isupper()


def split_sentences(text: str) -> list[str]:
    """Split French text into sentences, keeping abbreviations (« art. », « p. ex. », « M. »)
    and decimal numbers inside their sentence. Returns the stripped sentences, in order."""
    text = text.strip()
    if not text:
        return []
    sentences: list[str] = []
    start = 0
    for match in _CANDIDATE_END.finditer(text):
        punct = match.group(1)
        before = text[start : match.start(1)]
        if punct == "." and _is_abbreviation(before):
            continue
        sentences.append(text[start : match.end(1)].strip())
        start = match.end(2)
    tail = text[start:].strip()
    if tail:
        sentences.append(tail)
    return sentences
