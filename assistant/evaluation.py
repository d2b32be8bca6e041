"""Gold question sets and retrieval metrics (pure functions, tested on hand-made cases).

Evidence is verbatim source text, not chunk ids, so a gold set survives any re-chunking: an
evidence string is *found* in a chunk when it occurs in it after whitespace, quote, case and
accent normalisation.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from .errors import ConfigError
from .text import normalize_for_match

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
        lists = {k: tuple(obj.get(k) or ()) for k in spec.lists}
        questions.append(GoldQuestion(obj["id"], obj["question"], obj["kind"], **lists))
    return questions


def evidence_found(evidence: str, text: str) -> bool:
    return normalize_for_match(evidence) in normalize_for_match(text)


def first_relevant_rank(evidence: Sequence[str], texts: Sequence[str]) -> int | None:
    """1-based rank of the first retrieved text containing any evidence string, or None."""
    for rank, text in enumerate(texts, start=1):
        if any(evidence_found(e, text) for e in evidence):
            return rank
    return None


def hit_at(rank: int | None, k: int) -> float:
    return 1.0 if rank is not None and rank <= k else 0.0


def reciprocal_rank(rank: int | None) -> float:
    return 0.0 if rank is None else 1.0 / rank


SHOULD_REFUSE = {
    "unanswerable": "no_evidence",
    "out_of_scope": "out_of_scope",
    "injection": "unsafe_request",
}


def mentions(answer: str, fact: str) -> bool:
    """Accent-, case-, quote- and number-word-insensitive containment ("3" = "trois")."""
    from .text import with_number_words_as_digits

    return with_number_words_as_digits(fact) in with_number_words_as_digits(answer)


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
