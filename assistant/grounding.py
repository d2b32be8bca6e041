"""Grounding check: is each answer sentence supported by the passage(s) it cites?

Signals, per sentence, against the cited passages:
- every number, year and month of the sentence appears in them ("trois" = "3");
- every acronym of the sentence (HAS, CNAM, DMN…) appears in them (actor changes);
- no negation mismatch with the best-aligned passage sentence;
- content-word coverage (French stems, accents folded) of the sentence by the best-aligned
  window of passage sentences, helped by an embedding similarity for paraphrases.
A sentence without a citation, or citing an unknown marker, is never supported.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np

from .bm25 import tokenize
from .embeddings import Embedder
from .text import has_negation, normalize_for_match, numbers_in, split_sentences

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


def parse_answer(text: str) -> list[AnswerSentence]:
    """Split an answer into sentences with their ``[n]`` markers.

    Markers written after the final punctuation ("… santé. [1]") belong to the sentence
    before them. Lines are split first (list items are sentences of their own)."""
    text = re.sub(
        r"([.!?…:;]\s*[»”\"]?)((?:\s*\[\d+\])+)", lambda m: f"{m.group(2)}{m.group(1)}", text
    )
    sentences: list[AnswerSentence] = []
    for line in text.splitlines():
        for sentence in split_sentences(line.strip().lstrip("-•* ").strip()):
            markers = tuple(int(n) for n in MARKER.findall(sentence))
            clean = re.sub(r"\s*\[\d+\]", "", sentence).strip(' «»"')
            if any(c.isalnum() for c in clean):
                sentences.append(AnswerSentence(clean.strip(), markers))
    return sentences


def _windows(passage: str) -> list[str]:
    """Passage sentences, and pairs of neighbours (a claim may span two sentences)."""
    units = [s for line in passage.splitlines() for s in split_sentences(line.lstrip("- "))]
    return units + [f"{a} {b}" for a, b in pairwise(units)]


class GroundingChecker:
    """Checks answer sentences against passages; thresholds calibrated on eval/grounding."""

    def __init__(
        self,
        embedder: Embedder | None = None,
        min_coverage: float = 0.75,
        min_coverage_with_similarity: float = 0.4,
        min_similarity: float = 0.86,
    ):
        self.embedder = embedder
        self.min_coverage = min_coverage
        self.min_coverage_sim = min_coverage_with_similarity
        self.min_similarity = min_similarity

    def check_sentence(self, sentence: AnswerSentence, passages: Mapping[int, str]) -> Verdict:
        """Verdict for one sentence against the passages its markers point to."""
        text, markers = sentence.text, sentence.markers
        if not markers:
            return Verdict(text, markers, False, "no citation")
        unknown = [n for n in markers if n not in passages]
        if unknown:
            return Verdict(text, markers, False, f"unknown citation marker [{unknown[0]}]")
        cited = "\n".join(passages[n] for n in markers)
        missing = numbers_in(text) - numbers_in(cited)
        if missing:
            return Verdict(
                text,
                markers,
                False,
                f"number or date not in the cited passage: {', '.join(sorted(missing))}",
            )
        folded_cited = normalize_for_match(cited)
        absent = [a for a in _ACRONYM.findall(text) if a.lower() not in folded_cited]
        if absent:
            return Verdict(text, markers, False, f"name not in the cited passage: {absent[0]}")
        if normalize_for_match(text) in folded_cited:
            return Verdict(text, markers, True, "quoted verbatim", 1.0, 1.0, text)
        return self._align(text, markers, cited)

    def _align(self, text: str, markers: tuple[int, ...], cited: str) -> Verdict:
        stems = set(tokenize(text))
        windows = _windows(cited)
        coverages = [len(stems & set(tokenize(w))) / len(stems) if stems else 0.0 for w in windows]
        best = int(np.argmax(coverages)) if windows else 0
        coverage = coverages[best] if windows else 0.0
        match = windows[best] if windows else None
        similarity = None
        if self.embedder is not None and windows:
            vectors = self.embedder.embed_batch(windows, "passage")
            sims = vectors @ self.embedder.embed_query(text)
            similarity = float(sims.max())
            if coverage < self.min_coverage:
                match = windows[int(sims.argmax())]
        if match is not None and has_negation(text) != has_negation(match):
            return Verdict(
                text,
                markers,
                False,
                "negation differs from the cited passage",
                coverage,
                similarity,
                match,
            )
        if coverage >= self.min_coverage:
            return Verdict(
                text, markers, True, "content words covered", coverage, similarity, match
            )
        if (
            similarity is not None
            and coverage >= self.min_coverage_sim
            and similarity >= self.min_similarity
        ):
            return Verdict(
                text, markers, True, "paraphrase (similarity)", coverage, similarity, match
            )
        return Verdict(
            text,
            markers,
            False,
            f"too little of it in the cited passage (coverage {coverage:.2f})",
            coverage,
            similarity,
            match,
        )

    def check(
        self, sentences: Sequence[AnswerSentence], passages: Mapping[int, str]
    ) -> GroundingReport:
        return GroundingReport(tuple(self.check_sentence(s, passages) for s in sentences))

    def check_text(self, answer: str, passages: Mapping[int, str]) -> GroundingReport:
        """Parse ``answer`` (with ``[n]`` markers) and check each sentence."""
        return self.check(parse_answer(answer), passages)
