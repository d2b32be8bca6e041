"""Grounding check: is each answer sentence supported by the passage(s) it cites?

Signals, per sentence, against the cited passages:
- every number, year and month of the sentence appears in them ("trois" = "3");
- every acronym of the sentence (HAS, CNAM, DMN…) appears in them (actor changes);
- no negation mismatch with the best-aligned passage sentence;
- content-word coverage (French stems, accents folded) of the sentence by the best-aligned
  window of passage sentences, helped by an embedding similarity for paraphrases.
- no qualifier (« seul », « tous », « déjà », « après », « exclut »…) or actor (« patients »,
  « médecins »…) that the passage does not have, and no count of a thing that the passage
  counts differently ("trois critères" when it says "deux critères");
- at most two content words that the passage does not have.
A sentence without a citation, or citing an unknown marker, is never supported.
Thresholds are calibrated on eval/grounding_pairs.jsonl (see eval/bench_grounding.py).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np

from .bm25 import tokenize
from .embeddings import Embedder
from .text import (
    has_negation,
    normalize_for_match,
    numbers_in,
    split_sentences,
    with_number_words_as_digits,
)

MARKER = re.compile(r"\[(\d+)\]")
_ACRONYM = re.compile(r"\b[A-Z][A-Z0-9]{1,9}\b")


@dataclass(frozen=True)
class AnswerSentence:
    """One sentence of an answer and the citation markers attached to it."""

    text: str
    markers: tuple[int, ...]


@dataclass(frozen=True)
class Verdict:
    sentence: str
    markers: tuple[int, ...]
    supported: bool
    reason: str
    coverage: float = 0.0
    similarity: float | None = None
    best_match: str | None = None

    def as_dict(self) -> dict:
        return {
            "sentence": self.sentence,
            "markers": list(self.markers),
            "supported": self.supported,
            "reason": self.reason,
            "coverage": round(self.coverage, 3),
            "similarity": None if self.similarity is None else round(self.similarity, 3),
            "best_match": self.best_match,
        }


@dataclass(frozen=True)
class GroundingReport:
    verdicts: tuple[Verdict, ...] = field(default=())

    @property
    def supported(self) -> int:
        return sum(v.supported for v in self.verdicts)

    @property
    def total(self) -> int:
        return len(self.verdicts)

    @property
    def score(self) -> float:
        return self.supported / self.total if self.total else 0.0

    def as_dict(self) -> dict:
        return {
            "supported": self.supported,
            "total": self.total,
            "score": round(self.score, 4),
            "unsupported": [v.sentence for v in self.verdicts if not v.supported],
            "sentences": [v.as_dict() for v in self.verdicts],
        }


def _quotation_markers(lines: Sequence[str]) -> list[tuple[int, ...]]:
    """For each line, the markers closing the quotation « … » [n] it belongs to (() when it
    is not quoted): every sentence of a quotation is cited by the markers after it, even when
    the quotation spans several lines or holds several sentences. Nested « » are counted."""
    inherited: list[tuple[int, ...]] = [()] * len(lines)
    start, depth = None, 0
    for i, line in enumerate(lines):
        if start is None:
            if not line.lstrip().startswith("«"):
                continue
            start = i
        depth += line.count("«") - line.count("»")
        if depth > 0:
            continue
        closing = re.search(r"»((?:\s*\[\d+\])+)\s*[.;,]?\s*$", line)
        if closing:
            markers = tuple(int(n) for n in MARKER.findall(closing.group(1)))
            inherited[start : i + 1] = [markers] * (i + 1 - start)
        start, depth = None, 0
    return inherited


def parse_answer(text: str) -> list[AnswerSentence]:
    """Split an answer into sentences with their ``[n]`` markers.

    Markers written after the final punctuation ("… santé. [1]") belong to the sentence
    before them. Lines are split first (list items are sentences of their own). A sentence
    without marker inside a quotation « … » [n] is cited by the quotation's markers."""
    lines = text.splitlines()
    sentences: list[AnswerSentence] = []
    for line, inherited in zip(lines, _quotation_markers(lines), strict=True):
        line = re.sub(
            r"([.!?…:;]\s*[»”\"]?)((?:\s*\[\d+\])+)",
            lambda m: f" {m.group(2).strip()}{m.group(1)}",
            line,
        )
        item = re.sub(r"^\s*(?:[-•*]|\d{1,2}[.)])\s+", "", line).strip()  # list markers
        for sentence in split_sentences(item):
            markers = tuple(int(n) for n in MARKER.findall(sentence)) or inherited
            clean = re.sub(r" ?\[\d+\]", "", sentence).strip(' «»"')
            if clean.count("»") > clean.count("«"):  # « … » [n]. closing a quotation
                clean = re.sub(r"\s*»(?=[.;,!?]?$)", "", clean)
            if any(c.isalnum() for c in clean):
                sentences.append(AnswerSentence(clean.strip(), markers))
    return sentences


# words that restrict, extend or flip a claim: absent from the passage, they change its meaning
QUALIFIERS = frozenset(
    tokenize(
        "seul seuls seule seules uniquement exclusivement tous toutes tout toujours jamais "
        "systematiquement obligatoire obligatoires obligation imposer impose imposent interdire "
        "interdit interdisent exclure exclut excluent exclus remplacer remplacent remplace deja "
        "termine terminee terminees apres avant non garantit garantir certifie certifies "
        "only all always never every mandatory must forbid exclude replace already"
    )
)
# who does or receives something: a different actor is a different claim
ACTORS = frozenset(
    tokenize(
        "patient patients medecin medecins infirmier infirmiers infirmieres pharmacien "
        "pharmaciens fabricant fabricants industriel industriels editeur editeurs assurance "
        "ministere agence agences usagers citoyens"
    )
)
MAX_NOVEL_WORDS = 2


def _sentences(passage: str) -> list[str]:
    """Passage sentences, plus pairs of neighbours within a paragraph (never across list
    items): a claim may span two sentences."""
    units: list[str] = []
    lead_in = None
    for line in passage.splitlines():
        sentences = split_sentences(line.lstrip("- "))
        units += sentences + [f"{a} {b}" for a, b in pairwise(sentences)]
        if line.startswith("- ") and lead_in and sentences:
            units.append(f"{lead_in} {sentences[0]}")  # a list item read with its lead-in
        elif sentences and not line.startswith("- "):
            lead_in = sentences[-1] if sentences[-1].endswith(":") else None
    return units


def _counted(text: str) -> dict[str, set[str]]:
    """Nouns preceded by a number: {"axe": {"3"}} for "3 axes" or "trois axes"."""
    tokens = with_number_words_as_digits(text).split()
    counted: dict[str, set[str]] = {}
    for number, word in pairwise(tokens):
        if number.isdigit() and (stems := tokenize(word)):
            counted.setdefault(stems[0], set()).add(number)
    return counted


def _lexical_problem(text: str, cited: str) -> str | None:
    """A reason why ``text`` says something ``cited`` does not, from words alone."""
    missing = numbers_in(text) - numbers_in(cited)
    if missing:
        return f"number or date not in the cited passage: {', '.join(sorted(missing))}"
    folded = normalize_for_match(cited)
    absent = [a for a in _ACRONYM.findall(text) if a.lower() not in folded]
    if absent:
        return f"name not in the cited passage: {absent[0]}"
    passage_counts = _counted(cited)
    for noun, numbers in _counted(text).items():
        if noun in passage_counts and not numbers & passage_counts[noun]:
            return f"count differs from the cited passage: {noun}"
    novel = set(tokenize(text)) - set(tokenize(cited))
    for kind, lexicon in (("qualifier", QUALIFIERS), ("actor", ACTORS)):
        if novel & lexicon:
            return f"{kind} not in the cited passage: {sorted(novel & lexicon)[0]}"
    if len(novel) > MAX_NOVEL_WORDS:
        return f"{len(novel)} words not in the cited passage: {', '.join(sorted(novel)[:4])}"
    return None


class GroundingChecker:
    """Checks answer sentences against passages; thresholds calibrated on eval/grounding."""

    def __init__(
        self,
        embedder: Embedder | None = None,
        min_coverage: float = 0.7,
        min_similarity: float = 0.87,
    ) -> None:
        self.embedder = embedder
        self.min_coverage = min_coverage
        self.min_similarity = min_similarity
        self._vectors: dict[str, np.ndarray] = {}

    def _passage_vectors(self, texts: list[str]) -> np.ndarray:
        """Vectors of passage sentences, cached (the same passages are checked again and
        again)."""
        todo = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        if todo and self.embedder is not None:
            if len(self._vectors) > 5000:
                self._vectors.clear()
            self._vectors.update(zip(todo, self.embedder.embed_batch(todo, "passage"), strict=True))
        return np.vstack([self._vectors[t] for t in texts])

    def check_sentence(self, sentence: AnswerSentence, passages: Mapping[int, str]) -> Verdict:
        """Verdict for one sentence against the passages its markers point to."""
        text, markers = sentence.text, sentence.markers
        if not markers:
            return Verdict(text, markers, False, "no citation")
        unknown = [n for n in markers if n not in passages]
        if unknown:
            return Verdict(text, markers, False, f"unknown citation marker [{unknown[0]}]")
        cited = "\n".join(passages[n] for n in markers)
        if normalize_for_match(text) in normalize_for_match(cited):
            return Verdict(text, markers, True, "quoted verbatim", 1.0, 1.0, text)
        problem = _lexical_problem(text, cited)
        if problem:
            return Verdict(text, markers, False, problem)
        return self._align(text, markers, cited)

    def _align(self, text: str, markers: tuple[int, ...], cited: str) -> Verdict:
        """Coverage by, similarity to, and negation of the best-aligned passage sentence."""
        stems = set(tokenize(text))
        units = _sentences(cited) or [cited]
        coverages = [len(stems & set(tokenize(u))) / len(stems) if stems else 0.0 for u in units]
        best = int(np.argmax(coverages))
        coverage, match = coverages[best], units[best]
        similarity = None
        if self.embedder is not None:
            sims = self._passage_vectors(units) @ self.embedder.embed_query(text)
            similarity = float(sims.max())
        if has_negation(text) != has_negation(match):
            return Verdict(
                text,
                markers,
                False,
                "negation differs from the cited passage",
                coverage,
                similarity,
                match,
            )
        if coverage < self.min_coverage:
            return Verdict(
                text,
                markers,
                False,
                f"too little of it in the cited passage (coverage {coverage:.2f})",
                coverage,
                similarity,
                match,
            )
        if similarity is not None and similarity < self.min_similarity:
            return Verdict(
                text,
                markers,
                False,
                f"meaning too far from the cited passage (similarity {similarity:.2f})",
                coverage,
                similarity,
                match,
            )
        return Verdict(text, markers, True, "content words covered", coverage, similarity, match)

    def check(
        self, sentences: Sequence[AnswerSentence], passages: Mapping[int, str]
    ) -> GroundingReport:
        return GroundingReport(tuple(self.check_sentence(s, passages) for s in sentences))

    def check_text(self, answer: str, passages: Mapping[int, str]) -> GroundingReport:
        """Parse ``answer`` (with ``[n]`` markers) and check each sentence."""
        return self.check(parse_answer(answer), passages)
