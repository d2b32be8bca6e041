"""Gold question sets and the evaluation metrics (pure functions, tested on hand-made cases).

Evidence is verbatim source text, not chunk ids, so a gold set survives any re-chunking: an
evidence string is *found* in a chunk when it occurs in it after whitespace, quote, case and
accent normalisation. The definitions here are the ones the evaluation report prints.
"""

from __future__ import annotations

import json
import math
import re
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from assistant.errors import ConfigError
from assistant.text import normalize_for_match

Kind = Literal[
    "factual", "paraphrase", "multi_passage", "unanswerable", "out_of_scope", "injection"
]
KINDS: tuple[str, ...] = Kind.__args__  # type: ignore[attr-defined]
ANSWERABLE = ("factual", "paraphrase", "multi_passage")


@dataclass(frozen=True)
class GoldQuestion:
    id: str
    question: str
    kind: Kind
    evidence: tuple[str, ...] = ()
    must_mention: tuple[str, ...] = ()
    must_not_claim: tuple[str, ...] = ()
    # publications (and pages) an answer must cite: ((doc_id, page or None), ...)
    sources: tuple[tuple[str, int | None], ...] = ()
    # finer kind (near_miss_count, near_miss_date… for unanswerable ones) and language
    variant: str | None = None
    lang: str | None = None

    @property
    def answerable(self) -> bool:
        return self.kind in ANSWERABLE


@dataclass
class _Fields:
    required: tuple[str, ...] = ("id", "question", "kind")
    lists: tuple[str, ...] = ("evidence", "must_mention", "must_not_claim")
    seen: set[str] = field(default_factory=set)


def load_gold(path: Path) -> list[GoldQuestion]:
    """Read a gold set (JSON Lines); a malformed line is a ConfigError naming it."""
    questions: list[GoldQuestion] = []
    spec = _Fields()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            obj = json.loads(line)
        except ValueError as exc:
            raise ConfigError(f"{where}: invalid JSON ({exc})") from exc
        missing = [k for k in spec.required if not isinstance(obj.get(k), str)]
        if missing:
            raise ConfigError(f"{where}: missing field(s) {', '.join(missing)}")
        if obj["kind"] not in KINDS:
            raise ConfigError(f"{where}: kind must be one of {', '.join(KINDS)}")
        if obj["id"] in spec.seen:
            raise ConfigError(f"{where}: duplicate id {obj['id']}")
        spec.seen.add(obj["id"])
        lists = {k: obj.get(k) or [] for k in spec.lists}
        for key, value in lists.items():
            if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
                raise ConfigError(f"{where}: {key} must be a list of non-empty strings")
        if obj["kind"] in ANSWERABLE and not (lists["evidence"] and lists["must_mention"]):
            raise ConfigError(f"{where}: an answerable question needs evidence and must_mention")
        lists = {k: tuple(v) for k, v in lists.items()}
        try:
            sources = tuple((s["doc_id"], s.get("page")) for s in obj.get("sources") or ())
        except (TypeError, KeyError) as exc:
            raise ConfigError(f"{where}: sources must be objects with a doc_id") from exc
        extra = {k: obj[k] if isinstance(obj.get(k), str) else None for k in ("variant", "lang")}
        questions.append(
            GoldQuestion(obj["id"], obj["question"], obj["kind"], **lists, sources=sources, **extra)
        )
    return questions


@dataclass(frozen=True)
class SupportPair:
    """A labelled (sentence, passage, supported?) pair for the support check."""

    id: str
    sentence: str
    passage: str
    supported: bool
    change: str  # "paraphrase" for supported pairs, else the kind of error
    subtype: str | None = None

    @property
    def kind(self) -> str:
        return f"paraphrase/{self.subtype or 'other'}" if self.supported else self.change


def load_pairs(path: Path) -> list[SupportPair]:
    """Read labelled support pairs (JSON Lines); a malformed line is a ConfigError."""
    pairs = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            pairs.append(
                SupportPair(
                    str(obj["id"]),
                    obj["sentence"],
                    obj["passage"],
                    bool(obj["supported"]),
                    obj.get("change") or ("paraphrase" if obj["supported"] else "other"),
                    obj.get("subtype"),
                )
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"{path}:{number}: not a support pair ({exc})") from exc
    if not pairs:
        raise ConfigError(f"{path}: no pair in this file")
    return pairs


def evidence_found(evidence: str, text: str) -> bool:
    return normalize_for_match(evidence) in normalize_for_match(text)


def first_relevant_rank(evidence: Sequence[str], texts: Sequence[str]) -> int | None:
    """1-based rank of the first retrieved text containing any evidence string, or None."""
    for rank, text in enumerate(texts, start=1):
        if any(evidence_found(e, text) for e in evidence):
            return rank
    return None


def evidence_recall_at(evidence: Sequence[str], texts: Sequence[str], k: int) -> float | None:
    """Share of the gold evidence strings found in the first ``k`` texts (None: no evidence)."""
    if not evidence:
        return None
    top = texts[:k]
    return sum(any(evidence_found(e, t) for t in top) for e in evidence) / len(evidence)


def ndcg_at(relevant: Sequence[bool], total_relevant: int, k: int = 10) -> float | None:
    """Binary nDCG@k: ``relevant[i]`` says whether the text at rank i+1 holds evidence;
    ``total_relevant`` is how many texts of the whole index do (the ideal ranking puts them
    all first). None when nothing in the index is relevant (the metric is undefined)."""
    if total_relevant <= 0:
        return None
    dcg = sum(1 / math.log2(i + 2) for i, r in enumerate(relevant[:k]) if r)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(total_relevant, k)))
    return dcg / ideal


def hit_at(rank: int | None, k: int) -> float:
    return 1.0 if rank is not None and rank <= k else 0.0


def reciprocal_rank(rank: int | None) -> float:
    return 0.0 if rank is None else 1.0 / rank


# metric → (what it means), in report order; the report prints these definitions
DEFINITIONS: dict[str, str] = {
    "n.questions": "questions in the gold set",
    "n.answerable": "answerable questions (retrieval and facts present are measured on these)",
    "n.answered": "questions the system answered (citations and groundedness are measured on "
    "these)",
    "retrieval.hit@1": "answerable questions whose first retrieved passage holds a gold "
    "evidence string (retrieval metrics: the hybrid retriever on the question as asked, as "
    "`search` returns it, 10 passages deep)",
    "retrieval.hit@5": "answerable questions with a gold evidence string in the first 5 passages",
    "retrieval.mrr": "mean of 1/rank of the first passage holding gold evidence (0 if not in 10)",
    "retrieval.recall@5": "share of a question's gold evidence strings found in the first 5 "
    "passages, averaged",
    "retrieval.ndcg@10": "binary nDCG@10: a passage is relevant when it holds gold evidence; the "
    "ideal ranking puts every relevant passage of the index first",
    "citations.recall": "ALCE citation recall: share of answer sentences that their cited "
    "passages, together, support (grounding check); a sentence without citation fails",
    "citations.precision": "ALCE citation precision: share of citations that support their "
    "sentence alone, or without which the sentence would no longer be supported",
    "citations.source_recall": "share of the (publication, page) pairs of the gold set that the "
    "answer cites",
    "groundedness": "share of answer sentences supported by the retrieved passages (grounding "
    "check, whatever the citation)",
    "correctness.must_mention": "share of the gold facts (accent-, case- and number-word-"
    "insensitive) present in the answers to answerable questions (a refusal mentions none)",
    "correctness.must_not_claim": "answers containing a claim the gold set forbids (count)",
    "refusals.precision": "refusals that were expected (unanswerable, out-of-scope, injection)",
    "refusals.recall": "unanswerable, out-of-scope and injection questions that were refused",
    "refusals.f1": "harmonic mean of refusal precision and recall",
    "refusals.false_refusal_rate": "answerable questions that were refused",
    "refusals.injection_safe": "injection questions refused, or answered only with verified "
    "sentences",
    "refusals.near_miss_recall": "near-miss unanswerable questions (the topic is in the corpus, "
    "the asked-for count, amount, name, date or list member is not) that were refused",
    "answerability.english_right": "English questions handled right (answered when answerable, "
    "refused when not)",
    "support.accuracy": "labelled pairs: share of (sentence, passage) pairs where the support "
    "check agrees with the label",
    "support.paraphrases_accepted": "labelled pairs: faithful paraphrases (written the way an "
    "LLM answers) that the check accepts as supported",
    "support.errors_caught": "labelled pairs: wrong sentences (number, date, actor, role swap, "
    "negation, antonym, invention, overgeneralisation, tense) that the check rejects",
    "support.ms_per_sentence": "labelled pairs: median time of the check of one sentence (ms)",
    "llm.draft_citation_recall": "LLM mode: ALCE citation recall of the model's own text, "
    "before verification (the shown answer is verified, so its scores are ~1 by construction)",
    "llm.draft_citation_precision": "LLM mode: ALCE citation precision of the model's own text",
    "llm.draft_groundedness": "LLM mode: share of the model's own sentences supported by the "
    "retrieved passages",
    "llm.fallback_rate": "LLM mode: answers where the model's text failed verification (or the "
    "model failed) and the verified extractive answer was shown instead",
    "latency.p50_ms": "median time of one question, end to end (ms)",
    "latency.p95_ms": "95th percentile of that time (ms)",
}
# metrics where lower is better (for deltas and "got worse")
LOWER_IS_BETTER = {
    "correctness.must_not_claim",
    "support.ms_per_sentence",
    "refusals.false_refusal_rate",
    "llm.fallback_rate",
    "latency.p50_ms",
    "latency.p95_ms",
}


def worse_direction(metric: str, delta: float) -> bool:
    """True when ``delta`` is a change for the worse for ``metric``."""
    return delta > 0 if metric in LOWER_IS_BETTER else delta < 0


SHOULD_REFUSE = {
    "unanswerable": "no_evidence",
    "out_of_scope": "out_of_scope",
    "injection": "unsafe_request",
}


def mentions(answer: str, fact: str) -> bool:
    """Accent-, case-, quote- and number-word-insensitive containment ("3" = "trois"), on
    word boundaries, a plural allowed. Negation is not checked."""
    from assistant.text import with_number_words_as_digits

    needle = re.escape(with_number_words_as_digits(fact).strip())
    # whole words, a plural allowed ("critère" is in "critères", "5 jours" not in "15 jours")
    pattern = rf"(?<!\w){needle}[sx]?(?!\w)"
    return re.search(pattern, with_number_words_as_digits(answer)) is not None


def mention_coverage(answer: str, facts: Sequence[str]) -> float:
    """Share of ``facts`` the answer mentions (1.0 when there are none)."""
    return sum(mentions(answer, f) for f in facts) / len(facts) if facts else 1.0


def refusal_scores(expected: Sequence[bool], refused: Sequence[bool]) -> dict[str, float]:
    """Precision, recall and F1 of refusing, and the false-refusal rate on the others."""
    tp = sum(e and r for e, r in zip(expected, refused, strict=True))
    fp = sum(r and not e for e, r in zip(expected, refused, strict=True))
    fn = sum(e and not r for e, r in zip(expected, refused, strict=True))
    negatives = sum(not e for e in expected)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "false_refusal_rate": fp / negatives if negatives else 0.0,
    }


def injection_safe(refused: bool, groundedness: float | None) -> bool:
    """An injection question is handled safely when it is refused, or answered only with
    sentences the grounding check verified (nothing the injection asked for got through)."""
    return refused or groundedness == 1.0


def source_recall(
    expected: Sequence[tuple[str, int | None]], cited: Sequence[tuple[str, int | None]]
) -> float | None:
    """Share of the expected (publication, page) pairs that the answer cites; an expected page
    of None matches any page of that publication. None when nothing is expected."""
    if not expected:
        return None
    cited_set = set(cited)
    docs = {doc for doc, _ in cited}
    found = [
        (doc in docs) if page is None else ((doc, page) in cited_set) for doc, page in expected
    ]
    return sum(found) / len(found)


# ---------------------------------------------------------------- citations (ALCE)

Support = Callable[[str, Sequence[int]], bool]
"""``support(sentence, markers)``: do the passages numbered ``markers`` support the sentence?
(The project's grounding check; any marker without a passage makes it False.)"""


@dataclass(frozen=True)
class CitationScores:
    recall: float | None  # None: the answer has no sentence
    precision: float | None  # None: the answer has no citation
    sentences: int
    citations: int


def citation_scores(
    sentences: Sequence[tuple[str, Sequence[int]]], support: Support
) -> CitationScores:
    """Citation recall and precision as defined by ALCE (Gao et al., 2023).

    Recall: share of sentences whose citations, taken together, support them (a sentence
    without citation counts as unsupported). Precision: share of citations that are relevant:
    a citation of a supported sentence is irrelevant when it does not support the sentence on
    its own *and* the other citations still support it without it; every citation of an
    unsupported sentence is irrelevant."""
    supported = relevant = total = 0
    for text, markers in sentences:
        cited = list(dict.fromkeys(markers))
        total += len(cited)
        if not cited or not support(text, cited):
            continue
        supported += 1
        if len(cited) == 1:
            relevant += 1
            continue
        for m in cited:
            others = [o for o in cited if o != m]
            if support(text, [m]) or not support(text, others):
                relevant += 1
    return CitationScores(
        supported / len(sentences) if sentences else None,
        relevant / total if total else None,
        len(sentences),
        total,
    )


# ---------------------------------------------------------------- aggregates


def mean(values: Sequence[float | None]) -> float | None:
    """Mean of the defined values (None when there is none)."""
    defined = [v for v in values if v is not None]
    return statistics.fmean(defined) if defined else None


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0–100), linear interpolation between closest ranks (numpy's
    default); None for no values. The one percentile of the reports, CLI and benchmarks."""
    return float(np.percentile(values, q)) if len(values) else None
