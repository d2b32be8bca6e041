"""Small pure helpers for French text: normalisation and sentence splitting.

Shared by the chunker (never cut a sentence), and later by retrieval and grounding.
"""

from __future__ import annotations

import contextlib
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


# --------------------------------------------------------------------------- numbers, negation

_NUMBER_WORDS = {
    "zero": "0",
    "un": "1",
    "une": "1",
    "deux": "2",
    "trois": "3",
    "quatre": "4",
    "cinq": "5",
    "six": "6",
    "sept": "7",
    "huit": "8",
    "neuf": "9",
    "dix": "10",
    "onze": "11",
    "douze": "12",
    "treize": "13",
    "quatorze": "14",
    "quinze": "15",
    "seize": "16",
    "vingt": "20",
    "trente": "30",
    "quarante": "40",
    "cinquante": "50",
    "soixante": "60",
    "cent": "100",
    "mille": "1000",
    "premier": "1",
    "premiere": "1",
    "deuxieme": "2",
    "second": "2",
    "seconde": "2",
    "troisieme": "3",
    "quatrieme": "4",
    "cinquieme": "5",
    "sixieme": "6",
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "ten": "10",
    "first": "1",
    "third": "3",
    "sixth": "6",
}
_MONTHS = {
    "janvier": "m01",
    "fevrier": "m02",
    "mars": "m03",
    "avril": "m04",
    "mai": "m05",
    "juin": "m06",
    "juillet": "m07",
    "aout": "m08",
    "septembre": "m09",
    "octobre": "m10",
    "novembre": "m11",
    "decembre": "m12",
    "january": "m01",
    "february": "m02",
    "march": "m03",
    "april": "m04",
    "june": "m06",
    "july": "m07",
    "august": "m08",
    "september": "m09",
    "october": "m10",
    "november": "m11",
    "december": "m12",
}
# "un"/"une" are articles far more often than numbers: they never count as numbers.
_AMBIGUOUS = {"un", "une", "one", "second", "seconde", "mars", "may"}
# fractions said in words: « la moitié », « un tiers »
_FRACTIONS = {"moitie": "1/2", "tiers": "1/3", "quart": "1/4", "half": "1/2", "third": "1/3"}
_MAGNITUDE = re.compile(r"\b(\d+(?:[.,]\d+)?)\s*(millions?|milliards?|million|billion)\b")
_DATED_MONTH = re.compile(r"\b\d{1,2}(?:er)?\s+(mars)\b|\b(mars)\s+\d{4}\b")


#: a number written with French thousands separators (a space, no-break or narrow: « 1 200 »,
#: « 12 000 », « 3 000,5 »), after normalisation turned them into plain spaces
_THOUSANDS = re.compile(r"(?<![\d.,])\d{1,3}(?: \d{3})+(?![\d])")


def _grouped(folded: str) -> str:
    """« 1 200 » → « 1200 » in normalised text."""
    return _THOUSANDS.sub(lambda m: m.group(0).replace(" ", ""), folded)


def numbers_in(text: str) -> set[str]:
    """Numbers, years and months of a text, normalised: digits ("6e" → "6", "trois" → "3"),
    months as "m09". Articles ("un", "une") and ambiguous words are not counted."""
    found: set[str] = set()
    grouped = _grouped(normalize_for_match(text))
    scaled = _MAGNITUDE.sub(lambda m: _scaled(m.group(1), m.group(2)), grouped)
    folded = normalize_for_match(_compound_numbers_as_digits(scaled))
    found |= {"m03" for _ in _DATED_MONTH.finditer(folded)}
    found |= {_FRACTIONS[w] for w in re.findall(r"[a-z]+", folded) if w in _FRACTIONS}
    for token in re.findall(r"\d+(?:[.,]\d+)?|[a-z]+", folded):
        if token[0].isdigit():
            found.add(token.replace(",", ".").lstrip("0") or "0")
        elif token in _MONTHS and token not in _AMBIGUOUS:
            found.add(_MONTHS[token])
        elif token in _NUMBER_WORDS and token not in _AMBIGUOUS:
            found.add(_NUMBER_WORDS[token])
    return found


def _compound_numbers_as_digits(text: str) -> str:
    """Numbers written in several words as one figure (« vingt-trois » → 23, « deux mille
    trente et un » → 2031) with text2num; single words are left to the table above."""
    from text_to_num import alpha2digit

    text = _MAGNITUDE.sub(lambda m: _scaled(m.group(1), m.group(2)), text)
    with contextlib.suppress(ValueError, IndexError, KeyError):  # text2num gives up on some
        text = alpha2digit(text, "fr", threshold=2)
    return _MAGNITUDE.sub(lambda m: _scaled(m.group(1), m.group(2)), text)


def _scaled(number: str, magnitude: str) -> str:
    """« 12 millions » → « 12000000 » (text2num writes « douze millions » that way)."""
    factor = 10**9 if magnitude.startswith(("milliard", "billion")) else 10**6
    value = float(number.replace(",", ".")) * factor
    return str(int(value)) if value.is_integer() else str(value)


def with_number_words_as_digits(text: str) -> str:
    """Folded text where number words are digits ("trois axes" → "3 axes"), for matching."""
    folded = _grouped(normalize_for_match(_compound_numbers_as_digits(text)))
    return re.sub(
        r"[a-z]+",
        lambda m: (
            _NUMBER_WORDS.get(m.group(0), m.group(0))
            if m.group(0) not in _AMBIGUOUS
            else m.group(0)
        ),
        folded,
    )


_NEGATION = re.compile(
    r"\b(?:ne|n')\b[^.;]{0,80}?\b(?:pas|plus|jamais|aucun|aucune|rien|guere|nullement|ni)\b"
    r"|\b(?:aucun|aucune|jamais|nullement|not|never|no|none|cannot)\b|n't\b"
    # negative polarity without « ne »: « sans », « faute de », « mais pas », « non conformes »,
    # « interdit », « exclus », « dépourvu », « absence de »
    r"|\b(?:sans|faute d|faute de|hors de|without|absence de|absence d)\b"
    r"|\b(?:mais|et|ou|non) pas\b|(?<!\bou )\bnon\b(?! seulement| plus)(?!$)"
    r"|\b(?:interdi\w*|proscri\w*|exclu\w*|depourvu\w*|empech\w*|refus\w*)\b"
)


def negations(text: str) -> int:
    """How many negations the text carries (« sans marquage CE … ne doit jamais » → 2)."""
    return len(_NEGATION.findall(normalize_for_match(text)))


def has_negation(text: str) -> bool:
    """True when the text carries a negation (« ne … pas », « aucun », « sans », « interdit »,
    "not", …)."""
    return bool(_NEGATION.search(normalize_for_match(text)))


# a sentence opening with a pronoun or a demonstrative speaks of what the one before named
ANAPHOR = re.compile(
    r"^(?:Ce|Cet|Cette|Ces|Ceci|Cela|Il|Elle|Ils|Elles|Celui-ci|Celle-ci|"
    r"Ceux-ci|Leur|Leurs|Son|Sa|Ses)\b"
)


_EN_WORDS = frozenset(
    "the what which who how is are does do of and for with when where why "
    "this that there can should".split()
)
_FR_WORDS = frozenset(
    "le la les des du de quel quels quelle quelles est sont et pour avec "
    "quand où pourquoi qui que une un dans sur ce cette ces".split()
)


def detect_language(text: str) -> str:
    """'en' or 'fr' (the default), from common function words."""
    words = re.findall(r"[a-z']+", normalize_for_match(text))
    en = sum(w in _EN_WORDS for w in words)
    fr = sum(w in _FR_WORDS for w in words)
    return "en" if en > fr else "fr"
