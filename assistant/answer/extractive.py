"""The extractive answerer (the default, no LLM).

The extractive answerer quotes, exactly as published, the sentences of the retrieved passages
that best answer the question, each followed by its ``[n]`` marker. A sentence that introduces
a list (« … autour de 3 axes : ») is quoted with its list. Multi-part questions ("when did it
start, and from when…?") get the best sentence for each part. When no sentence answers well
enough, it says so (``no_evidence``) and points to the closest publications.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, NamedTuple

from assistant import messages as texts
from assistant.answer.answerability import answers, expectation
from assistant.answer.grounding import AnswerSentence
from assistant.contract import Citation
from assistant.index.bm25 import tokenize
from assistant.index.embeddings import Embedder
from assistant.index.records import chunk_sentences, line_sentences
from assistant.index.retrieval import Hit, lexical_query
from assistant.index.view import OpenIndex
from assistant.ingest.chunking import Chunk
from assistant.text import ANAPHOR, normalize_for_match, normalize_space, numbers_in

# the line that opens an extractive answer (a frame, not a claim: it cites nothing), by
# language and by whether every quote comes from a HAS publication (not from a user's file)
LEADS = {
    ("fr", True): "D'après les publications de la HAS :",
    ("en", True): "According to the HAS publications (quoted in French):",
    ("fr", False): "D'après les documents indexés (voir les sources) :",
    ("en", False): "According to the indexed documents (see the sources; quoted as written):",
}


def is_has_publication(chunk: Chunk) -> bool:
    """A passage of a HAS publication (its link is on has-sante.fr), not of a user's file."""
    return "has-sante.fr/" in (chunk.url or "")


# --------------------------------------------------------------------------- extractive


class ExtractiveResult(NamedTuple):
    """An extractive answer: its text, citations, the sentences to verify, and notices (the
    parts of the question that the publications do not answer)."""

    text: str
    citations: list[Citation]
    sentences: list[AnswerSentence]
    notices: list[str]


@dataclass(frozen=True)
class Unit:
    """A quotable passage: one sentence, or a lead-in with the list it introduces."""

    text: str
    hit: Hit
    members: tuple[int, ...]
    dense: float
    lexical: float
    score: float


def unit_score(dense: float, lexical: float, rank: int, language: str) -> float:
    """Relevance of a unit: e5 similarity rescaled to [0, 1] (0.80 → 0, 0.92 → 1) and the
    share of the question's French stems it contains — ignored for an English question,
    whose words cannot match the French text — plus a small bonus for the passage's rank."""
    dense_part = min(max((dense - 0.80) / 0.12, 0.0), 1.0)
    if language == "en":  # lexical: the French glosses of its words, when they help
        return max(dense_part, 0.5 * dense_part + 0.5 * lexical) + 0.03 / rank
    return 0.5 * dense_part + 0.5 * lexical + 0.03 / rank


_PART_SPLIT = re.compile(
    r"\s*(?:,\s*)?\b(?:et|and)\s+(?=(?:(?:dans|en|sous|pour|avec|par|de|a|au|chez|sur|in|within|with|on|"
    r"for|by|over)\s+)?(?:quand|quel|quels|quelle|quelles|qui|quoi|ou|comment|"
    r"pourquoi|combien|a partir|depuis|de quand|a qui|avec qui|lesquel\w*|que|qu'|from|when|"
    r"which|what|who|how|where|why)\b)|\?\s+(?=\S)|;\s*"
)
_FOCUS = [
    re.compile(
        r"^(?:quel|quelle|quels|quelles)\s+(?:est|sont|etait|etaient|sera|seront)\s+"
        r"(?:les\s+|le\s+|la\s+|l')(?:\d+\s+|(?:deux|trois|quatre|cinq|principaux|"
        r"principales|grands?|grandes?)\s+)?([a-z]+)"
    ),
    re.compile(r"^qui\s+(?:est|sont|etait)\s+(?:les\s+|le\s+|la\s+|l')([a-z]+)"),
    re.compile(r"^(?:quel|quelle|quels|quelles)\s+([a-z]+)"),
]
# nouns so general that their absence from the corpus says nothing
_GENERIC_FOCUS = frozenset(
    tokenize(
        "objectif objectifs but role interet definition principe contenu difference sujet theme "
        "place statut nom titre intitule type types exemple exemples liste nombre date annee "
        "moment periode portee perimetre champ finalite enjeu enjeux point points element "
        "elements etape etapes critere criteres axe axes condition conditions avantage avantages "
        "limite limites risque risques attente attentes recommandation recommandations mesure "
        "mesures action actions raison raisons organisme organismes document documents travaux "
        "publication publications production productions thematique thematiques question questions "
        # measures: the answer gives the value ("trois heures", "la moitié"), not the word
        "duree delai frequence periodicite part proportion pourcentage"
    )
)


# a part that refers back to the part before it (« s'y », « celle-ci »…)
_REFERS_BACK = re.compile(
    r"\b(?:s'y|y (?:sont|est|a|ont)|celui-ci|celle-ci|ceux-ci|celles-ci|ce dernier|"
    r"cette derniere|ces derniers|ces dernieres)\b"
)


def _ranked(units: Sequence[Unit]) -> list[Unit]:
    """Best unit first (then the better-ranked passage, then the earlier sentence)."""
    return sorted(units, key=lambda u: (-u.score, u.hit.rank, u.members))


MAX_PARTS = 6  # parts searched and answered separately; more would let one question hold
# the queue (one search per part)


def question_parts(question: str, limit: int | None = MAX_PARTS) -> list[str]:
    """The parts of a multi-part question (just the question when it has one part), at most
    ``limit`` of them (the first ones)."""
    text = normalize_space(question)
    folded = normalize_for_match(text)
    # split on the folded text, cut the question as written (same length once folded)
    source = text if len(folded) == len(text) else folded
    parts, start = [], 0
    for match in _PART_SPLIT.finditer(folded):
        parts.append(source[start : match.start()])
        start = match.end()
    parts.append(source[start:])
    parts = [p.strip(" ,?") for p in parts if len(tokenize(p)) >= 1]
    parts = list({normalize_for_match(p): p for p in parts}.values())  # once each
    return parts[:limit] if len(parts) > 1 else [question]


def question_focus(question: str) -> str | None:
    """The stem of what a French question asks for ("Quel est le prix…" → "prix")."""
    folded = normalize_for_match(question)
    for pattern in _FOCUS:
        if match := pattern.match(folded):
            stems = tokenize(match.group(1))
            return stems[0] if stems else None
    return None


class ExtractiveAnswerer:
    """Quotes the best sentences of the retrieved passages."""

    #: below this best-unit score, the passages do not answer (calibrated on the gold set:
    #: an English question only has the dense signal, hence its lower bar)
    MIN_SCORE: ClassVar[dict[str, float]] = {"fr": 0.33, "en": 0.22}

    def __init__(
        self, index: OpenIndex, embedder: Embedder, max_units: int = 4, margin: float = 0.15
    ) -> None:
        self.index = index
        self.embedder = embedder
        self.max_units = max_units
        self.margin = margin

    # ---------------------------------------------------------------- units

    def units(self, question: str, hits: Sequence[Hit], language: str = "fr") -> list[Unit]:
        """Every quotable unit of the hits, scored against ``question``."""
        q_vector = self.embedder.embed_query(question)
        q_stems = set(tokenize(lexical_query(question, language)))
        units: list[Unit] = []
        vectors = self.index.sentence_vectors([hit.chunk for hit in hits])
        for hit in hits:
            sentences = chunk_sentences(hit.chunk) or [hit.chunk.text]
            sims = (vectors[hit.chunk.chunk_id] @ q_vector).tolist()
            for members in self._groups(hit.chunk.text, sentences):
                text = self._span(hit.chunk.text, [sentences[i] for i in members])
                stems = set(tokenize(text))
                lexical = len(q_stems & stems) / len(q_stems) if q_stems else 0.0
                dense = max(sims[i] for i in members)
                score = unit_score(dense, lexical, hit.rank, language)
                units.append(Unit(text, hit, tuple(members), dense, lexical, score))
        return units

    @staticmethod
    def _groups(text: str, sentences: list[str]) -> list[list[int]]:
        """Each sentence alone; each lead-in (ending with ':') with the list items after it;
        each sentence opening with an anaphor (« Ce guide… ») with the sentence before it."""
        is_item: list[bool] = []
        line_of: list[int] = []
        for number, line in enumerate(text.split("\n")):
            count = len(line_sentences(line))
            is_item += [line.startswith("- ")] * count
            line_of += [number] * count
        if len(is_item) != len(sentences):  # single-sentence chunk: the chunk itself
            return [[0]]
        groups = [[i] for i in range(len(sentences))]
        for i, sentence in enumerate(sentences):
            if sentence.rstrip().endswith(":") and i + 1 < len(sentences) and is_item[i + 1]:
                j = i + 1
                while j < len(sentences) and is_item[j]:
                    j += 1
                groups.append(list(range(i, j)))
            if i and line_of[i] == line_of[i - 1] and ANAPHOR.match(sentence):
                groups.append([i - 1, i])
        return groups

    @staticmethod
    def _span(text: str, parts: list[str]) -> str:
        """The exact passage text from the first part to the last one."""
        start = text.find(parts[0])
        end = text.find(parts[-1], start) + len(parts[-1])
        if start < 0 or end < start:
            return " ".join(parts)
        return text[start:end]

    # ---------------------------------------------------------------- selection

    @staticmethod
    def _take(unit: Unit, chosen: list[Unit]) -> None:
        for other in chosen:
            same_chunk = other.hit.chunk.chunk_id == unit.hit.chunk.chunk_id
            if same_chunk and set(unit.members) <= set(other.members):
                return  # already quoted inside a larger unit
            if same_chunk and set(other.members) < set(unit.members):
                chosen[chosen.index(other)] = unit  # the larger unit replaces it
                return
            a, b = set(tokenize(unit.text)), set(tokenize(other.text))
            if a and len(a & b) / len(a) > 0.8:
                return  # says the same thing
        chosen.append(unit)

    # ---------------------------------------------------------------- evidence

    def lacks_evidence(
        self, question: str, hits: Sequence[Hit], best: Unit | None, language: str = "fr"
    ) -> bool:
        """True when the passages do not answer: weak best sentence, a number or year of the
        question absent from every passage, or the thing asked for never mentioned."""
        if best is None or best.score < self.MIN_SCORE.get(language, self.MIN_SCORE["fr"]):
            return True
        passages = "\n".join(h.chunk.text for h in hits)
        if numbers_in(question) - numbers_in(passages):
            return True
        focus = question_focus(question)
        return bool(focus and not self.index.bm25.knows(focus) and focus not in _GENERIC_FOCUS)

    # ---------------------------------------------------------------- answerability

    def answering(
        self, question: str, hits: Sequence[Hit], language: str, whole: list[Unit]
    ) -> tuple[list[Unit], list[str]] | None:
        """Units that answer each part of the question, and the parts nothing answers.

        A part that expects a value (count, amount, date, duration, frequency, name,
        person, a labelled member) is answered only by a unit holding such a value about
        its focus (:mod:`assistant.answerability`); other parts by their best unit.
        ``whole``: the units scored against the whole question. None when no part is
        answered."""
        parts = question_parts(question)
        floor = self.MIN_SCORE.get(language, self.MIN_SCORE["fr"])
        chosen: list[Unit] = []
        missing: list[str] = []
        for part in parts:
            if missing and _REFERS_BACK.search(normalize_for_match(part)):
                missing.append(part)  # « … et quelles règles s'y appliquent ? »
                continue
            exp = expectation(part, language)
            units = (self.units(part, hits, language) if len(parts) > 1 else None) or whole
            ranked = _ranked(units)
            if not exp.typed and len(parts) > 1 and not (ranked and ranked[0].score >= floor):
                ranked = _ranked(whole)  # a short part (« que dois-je faire ») read whole
            if exp.typed:
                ranked = [
                    u
                    for u in ranked
                    if u.score >= floor and answers(u.text, exp, question, u.hit.chunk.text)
                ]
            if not ranked or ranked[0].score < floor:
                missing.append(part)
                continue
            for unit in ranked:
                if unit.score < ranked[0].score - self.margin:
                    break
                self._take(unit, chosen)
        if len(missing) == len(parts):
            return None
        return chosen[: self.max_units + len(parts) - 1], missing

    # ---------------------------------------------------------------- the answer

    def answer(
        self, question: str, hits: Sequence[Hit], language: str = "fr"
    ) -> ExtractiveResult | None:
        """The quoted answer, or None when nothing answers."""
        units = self.units(question, hits, language)
        best = max(units, key=lambda u: u.score) if units else None
        if self.lacks_evidence(question, hits, best, language):
            return None
        found = self.answering(question, hits, language, units)
        if found is None:
            return None
        chosen, missing = found
        citations, sentences, lines = [], [], []
        for n, unit in enumerate(chosen, start=1):
            c = unit.hit.chunk
            citations.append(Citation.of(n, c, unit.text))
            sentences.append(AnswerSentence(unit.text, (n,)))
            lines.append(f"« {unit.text} » [{n}]")
        has_only = all(is_has_publication(u.hit.chunk) for u in chosen)
        lead = LEADS["en" if language == "en" else "fr", has_only]
        notices = [texts.part_unanswered(part, language) for part in missing]
        return ExtractiveResult("\n".join([lead, *lines]), citations, sentences, notices)
