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
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from assistant.answer.claims import (
    figures_problem,
    invented_clause_problem,
    item_swap_problem,
    novel_words,
    polarity_problem,
    qualifier_problem,
    restriction_dropped,
    role_order_problem,
    status_problem,
    unit_numbers_problem,
)
from assistant.answer.lexicon import Word, content_words, forms_of, matches
from assistant.contract import GroundingReport, Verdict
from assistant.index.embeddings import Embedder
from assistant.text import normalize_for_match, numbers_in, split_sentences

MARKER = re.compile(r"\[(\d+)\]")


@dataclass(frozen=True)
class AnswerSentence:
    """One sentence of an answer and the citation markers attached to it."""

    text: str
    markers: tuple[int, ...]


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


MAX_NOVEL_WORDS = 2


def passage_units(passage: str) -> list[str]:
    """What a sentence may be aligned on: each passage sentence, pairs of neighbours within
    a paragraph (never across list items), each list item read with its lead-in, and the
    lead-in with all its items (a sentence may summarise a list)."""
    units: list[str] = []
    lead_in: str | None = None
    items: list[str] = []

    def close_list() -> None:
        if lead_in and len(items) > 1:
            units.append(" ".join([lead_in, *items]))

    for line in passage.splitlines():
        is_item = line.startswith("- ")
        sentences = split_sentences(line[2:] if is_item else line)
        units += sentences + [f"{a} {b}" for a, b in pairwise(sentences)]
        if is_item and lead_in and sentences:
            units.append(f"{lead_in} {' '.join(sentences)}")
            items.append(" ".join(sentences))
        elif sentences and not is_item:
            close_list()
            lead_in = sentences[-1] if sentences[-1].endswith(":") else None
            items = []
    close_list()
    return units


def coverage(words: list[Word], unit: str) -> float:
    """Share of the sentence's content words found in ``unit`` under some form (lemma,
    derivation, synonym, acronym or its expansion)."""
    words = [w for w in words if not numbers_in(w.text)]  # figures are checked apart
    if not words:
        return 0.0
    unit_words = content_words(unit)
    forms, keys = forms_of(unit), {w.key for w in unit_words}
    return sum(matches(w, forms, keys) for w in words) / len(words)


class GroundingChecker:
    """Checks answer sentences against passages; thresholds calibrated on the dev pairs of
    eval/support_pairs_dev.jsonl and eval/grounding_pairs.jsonl (see eval/bench_grounding.py).

    A sentence is supported when no check finds it saying something else (figures, names,
    qualifiers, polarity, items, status) and its content words are covered by one passage
    unit — or mostly covered with a meaning close to it (e5 similarity)."""

    def __init__(
        self,
        embedder: Embedder | None = None,
        min_coverage: float = 0.75,
        rescue_coverage: float = 0.5,
        rescue_similarity: float = 0.9,
        min_similarity: float = 0.8,
    ) -> None:
        self.embedder = embedder
        self.min_coverage = min_coverage
        self.rescue_coverage = rescue_coverage
        self.rescue_similarity = rescue_similarity
        self.min_similarity = min_similarity
        self._vectors: dict[str, np.ndarray] = {}

    def _passage_vectors(self, texts: list[str]) -> np.ndarray:
        """Vectors of passage units, cached (the same passages are checked again and
        again)."""
        todo = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        if todo and self.embedder is not None:
            if len(self._vectors) > 5000:
                self._vectors.clear()
            self._vectors.update(zip(todo, self.embedder.embed_batch(todo, "passage"), strict=True))
        return np.vstack([self._vectors[t] for t in texts])

    @staticmethod
    def _rejected(text: str, markers: tuple[int, ...], reason: str) -> Verdict:
        return Verdict(sentence=text, markers=markers, supported=False, reason=reason)

    def check_sentence(self, sentence: AnswerSentence, passages: Mapping[int, str]) -> Verdict:
        """Verdict for one sentence against the passages its markers point to."""
        text, markers = sentence.text, sentence.markers
        if not markers:
            return self._rejected(text, markers, "no citation")
        unknown = [n for n in markers if n not in passages]
        if unknown:
            return self._rejected(text, markers, f"unknown citation marker [{unknown[0]}]")
        cited = "\n".join(passages[n] for n in markers)
        if normalize_for_match(text) in normalize_for_match(cited):
            return Verdict(
                sentence=text,
                markers=markers,
                supported=True,
                reason="quoted verbatim",
                coverage=1.0,
                similarity=1.0,
                best_match=text,
            )
        novel = novel_words(text, cited)
        problem = (
            figures_problem(text, cited)
            or qualifier_problem(text, cited, novel)
            or item_swap_problem(text, cited)
            or invented_clause_problem(text, novel)
        )
        if not problem and len(novel) > MAX_NOVEL_WORDS:
            shown = ", ".join(sorted(w.text for w in novel)[:4])
            problem = f"{len(novel)} words not in the cited passage: {shown}"
        if problem:
            return self._rejected(text, markers, problem)
        return self._align(text, markers, cited)

    def _align(self, text: str, markers: tuple[int, ...], cited: str) -> Verdict:
        """Coverage by, similarity to, polarity and status of the best-aligned unit."""
        words = content_words(text)
        units = passage_units(cited) or [cited]
        coverages = [coverage(words, u) for u in units]
        sims = None
        if self.embedder is not None:
            sims = self._passage_vectors(units) @ self.embedder.embed_query(text)
        # best coverage; among units as good, the closest in meaning (or the shortest)
        top = max(coverages)
        near = [i for i in range(len(units)) if coverages[i] >= top - 1e-9]
        best = max(near, key=lambda i: (sims[i], 0) if sims is not None else (0, -len(units[i])))
        match = units[best]
        # the whole passage counts for coverage (a summary) but the checks of polarity,
        # figures and status look at the best part of it
        cover = max(coverages[best], coverage(words, cited))
        similarity = None if sims is None else float(sims[best])

        def verdict(supported: bool, reason: str) -> Verdict:
            return Verdict(
                sentence=text,
                markers=markers,
                supported=supported,
                reason=reason,
                coverage=cover,
                similarity=similarity,
                best_match=match,
            )

        problem = (
            polarity_problem(text, match, cited)
            or role_order_problem(text, match)
            or unit_numbers_problem(text, match, cited)
            or status_problem(text, match)
            or restriction_dropped(text, match)
        )
        if problem:
            return verdict(False, problem)
        close = similarity is not None and similarity >= self.rescue_similarity
        if cover < self.min_coverage and not (close and cover >= self.rescue_coverage):
            return verdict(False, f"too little of it in the cited passage (coverage {cover:.2f})")
        if similarity is not None and similarity < self.min_similarity:
            return verdict(
                False, f"meaning too far from the cited passage (similarity {similarity:.2f})"
            )
        return verdict(True, "content words covered")

    def check(
        self, sentences: Sequence[AnswerSentence], passages: Mapping[int, str]
    ) -> GroundingReport:
        return GroundingReport(verdicts=tuple(self.check_sentence(s, passages) for s in sentences))

    def check_text(self, answer: str, passages: Mapping[int, str]) -> GroundingReport:
        """Parse ``answer`` (with ``[n]`` markers) and check each sentence."""
        return self.check(parse_answer(answer), passages)
