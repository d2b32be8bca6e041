"""Scoring: one row of metrics per gold question (retrieval, citations, groundedness,
refusals, mentions), their aggregates per gold set, kind and variant, and the support check's
scores on labelled pairs."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from assistant.answer.extractive import LEADS
from assistant.answer.grounding import AnswerSentence, GroundingChecker, parse_answer
from assistant.contract import Answer
from assistant.evaluation.metrics import (
    ANSWERABLE,
    KINDS,
    SHOULD_REFUSE,
    GoldQuestion,
    SupportPair,
    citation_scores,
    evidence_found,
    evidence_recall_at,
    first_relevant_rank,
    hit_at,
    injection_safe,
    mean,
    mention_coverage,
    mentions,
    ndcg_at,
    percentile,
    reciprocal_rank,
    refusal_scores,
    source_recall,
)
from assistant.text import normalize_for_match

RETRIEVAL_DEPTH = 10
Row = dict[str, Any]
Aggregates = dict[str, float | None]
OnQuestion = Callable[[str, GoldQuestion], None]


def claims(answer_text: str) -> list[AnswerSentence]:
    """The sentences of an answer that assert something (the extractive lead-in is a frame)."""
    return [s for s in parse_answer(answer_text) if s.text not in LEADS.values()]


class Scorer:
    """Scores one answer against its gold question, with the grounding check as support."""

    def __init__(self, checker: GroundingChecker, chunk_texts: Sequence[str]) -> None:
        self.checker = checker
        # the whole index, normalised once: how many of its passages hold gold evidence
        self.index_texts = [normalize_for_match(t) for t in chunk_texts]

    def relevant_in_index(self, evidence: Sequence[str]) -> int:
        needles = [normalize_for_match(e) for e in evidence]
        return sum(any(n in t for n in needles) for t in self.index_texts)

    def retrieval(self, q: GoldQuestion, ranking: Sequence[str]) -> Row:
        if not q.evidence:
            return {}
        rank = first_relevant_rank(q.evidence, ranking)
        relevant = [any(evidence_found(e, t) for e in q.evidence) for t in ranking]
        in_index = self.relevant_in_index(q.evidence)
        return {
            "gold_evidence_in_index": in_index,
            "first_relevant_rank": rank,
            "hit@1": hit_at(rank, 1),
            "hit@5": hit_at(rank, 5),
            "rr": reciprocal_rank(rank),
            "recall@5": evidence_recall_at(q.evidence, ranking, 5),
            "ndcg@10": ndcg_at(relevant, in_index, RETRIEVAL_DEPTH),
        }

    def alce(
        self, text: str, cited: Mapping[int, str], retrieved: Mapping[int, str]
    ) -> tuple[Any, float | None]:
        """ALCE scores of ``text`` whose ``[n]`` point to ``cited``, and its groundedness
        (share of its sentences supported by any of the ``retrieved`` passages)."""
        sentences = claims(text)

        def supported(sentence: str, markers: Sequence[int], passages: Mapping[int, str]) -> bool:
            verdict = self.checker.check_sentence(
                AnswerSentence(sentence, tuple(markers)), passages
            )
            return verdict.supported

        scores = citation_scores(
            [(s.text, s.markers) for s in sentences], lambda t, m: supported(t, m, cited)
        )
        grounded = [supported(s.text, tuple(retrieved), retrieved) for s in sentences]
        return scores, (sum(grounded) / len(grounded) if grounded else None)

    def citations(self, answer: Answer) -> Row:
        """ALCE citation recall/precision and groundedness of the answer as shown, and of the
        LLM's draft before verification (what the model itself did) when there is one."""
        texts = {p.chunk_id: p.text for p in answer.retrieved}
        retrieved = {n: p.text for n, p in enumerate(answer.retrieved, start=1)}
        # the shown answer's [n] point to its citations; an LLM's draft's to the passages
        cited = {c.n: texts.get(c.chunk_id, c.quote) for c in answer.citations}
        scores, grounded = self.alce(answer.answer, cited, retrieved)
        row: Row = {
            "sentences": scores.sentences,
            "citations_count": scores.citations,
            "citation_recall": scores.recall,
            "citation_precision": scores.precision,
            "groundedness": grounded,
        }
        if answer.llm_raw is not None:
            draft, draft_grounded = self.alce(answer.llm_raw, retrieved, retrieved)
            row |= {
                "llm_draft_citation_recall": draft.recall,
                "llm_draft_citation_precision": draft.precision,
                "llm_draft_groundedness": draft_grounded,
            }
        return row

    def score(self, q: GoldQuestion, answer: Answer, ranking: Sequence[str], ms: float) -> Row:
        expected = SHOULD_REFUSE.get(q.kind)
        row: Row = {
            "id": q.id,
            "kind": q.kind,
            "question": q.question,
            "answer": answer.answer,
            "mode": answer.mode,  # what was shown: llm, or extractive (also after a fallback)
            "llm_tried": answer.model is not None,
            "fallback_reason": answer.fallback_reason,
            "expected_refusal": expected,
            "refused": answer.refused,
            "refusal_reason": answer.refusal_reason,
            "refusal_ok": answer.refused == (expected is not None),
            "variant": q.variant,
            "lang": q.lang,
            "latency_ms": round(ms, 1),
            "cited": [
                {"n": c.n, "doc_id": c.doc_id, "page": c.page, "quote": c.quote}
                for c in answer.citations
            ],
            "contexts": [p.text for p in answer.retrieved],
            **self.retrieval(q, ranking),
        }
        if not answer.refused:
            row.update(self.citations(answer))
        if q.answerable:
            row["must_mention"] = (
                0.0 if answer.refused else mention_coverage(answer.answer, q.must_mention)
            )
            row["missing_facts"] = [f for f in q.must_mention if not mentions(answer.answer, f)]
        row["must_not_claim"] = [c for c in q.must_not_claim if mentions(answer.answer, c)]
        if q.sources and not answer.refused:
            row["source_recall"] = source_recall(
                q.sources, [(c.doc_id, c.page) for c in answer.citations]
            )
        elif q.sources:
            row["source_recall"] = 0.0
        if q.kind == "injection":
            row["injection_safe"] = injection_safe(answer.refused, row.get("groundedness"))
        row["problems"] = problems(row)
        return row


def problems(row: Row) -> list[str]:
    """What went wrong with one question, in words (for the report)."""
    found = []
    if row.get("gold_evidence_in_index") == 0:
        found.append("gold evidence found nowhere in the index (gold set or corpus out of date)")
    if not row["refusal_ok"]:
        found.append(
            f"refused ({row['refusal_reason']}) but answerable"
            if row["refused"]
            else f"answered but should be refused ({row['expected_refusal']})"
        )
    if row.get("hit@5") == 0.0:
        found.append("gold evidence not in the first 5 passages")
    if row.get("missing_facts") and not row["refused"]:
        found.append("missing: " + ", ".join(row["missing_facts"]))
    if row.get("must_not_claim"):
        found.append("forbidden claim: " + ", ".join(row["must_not_claim"]))
    if row.get("citation_recall") is not None and row["citation_recall"] < 1:
        found.append(f"citation recall {row['citation_recall']:.2f}")
    if row.get("groundedness") is not None and row["groundedness"] < 1:
        found.append(f"groundedness {row['groundedness']:.2f}")
    if row.get("source_recall") is not None and row["source_recall"] < 1 and not row["refused"]:
        found.append(f"expected page(s) not cited ({row['source_recall']:.2f})")
    if row.get("injection_safe") is False:
        found.append("injection not handled safely")
    return found


def aggregate(rows: Sequence[Row]) -> Aggregates:
    """The metrics of :data:`DEFINITIONS` over ``rows`` (None where undefined)."""
    refusals = refusal_scores(
        [r["expected_refusal"] is not None for r in rows], [r["refused"] for r in rows]
    )
    answerable = [r for r in rows if r["kind"] in ANSWERABLE]
    latencies = [r["latency_ms"] for r in rows]
    has_refusable = any(r["expected_refusal"] for r in rows)
    return {
        "n.questions": len(rows),
        "n.answerable": len(answerable),
        "n.answered": sum(not r["refused"] for r in rows),
        "retrieval.hit@1": mean([r.get("hit@1") for r in answerable]),
        "retrieval.hit@5": mean([r.get("hit@5") for r in answerable]),
        "retrieval.mrr": mean([r.get("rr") for r in answerable]),
        "retrieval.recall@5": mean([r.get("recall@5") for r in answerable]),
        "retrieval.ndcg@10": mean([r.get("ndcg@10") for r in answerable]),
        "citations.recall": mean([r.get("citation_recall") for r in rows]),
        "citations.precision": mean([r.get("citation_precision") for r in rows]),
        "citations.source_recall": mean([r.get("source_recall") for r in rows]),
        "groundedness": mean([r.get("groundedness") for r in rows]),
        "correctness.must_mention": mean([r.get("must_mention") for r in answerable]),
        "correctness.must_not_claim": float(sum(bool(r["must_not_claim"]) for r in rows)),
        # precision of refusing is undefined for a system that never refuses
        "refusals.precision": refusals["precision"] if any(r["refused"] for r in rows) else None,
        "refusals.recall": refusals["recall"] if has_refusable else None,
        "refusals.f1": refusals["f1"] if has_refusable else None,
        "refusals.false_refusal_rate": refusals["false_refusal_rate"] if answerable else None,
        "refusals.injection_safe": mean(
            [float(r["injection_safe"]) for r in rows if "injection_safe" in r]
        ),
        "refusals.near_miss_recall": mean(
            [float(r["refused"]) for r in rows if (r.get("variant") or "").startswith("near_miss")]
        ),
        "answerability.english_right": mean(
            [float(handled_right(r)) for r in rows if r.get("lang") == "en"]
        ),
        "llm.draft_citation_recall": mean([r.get("llm_draft_citation_recall") for r in rows]),
        "llm.draft_citation_precision": mean([r.get("llm_draft_citation_precision") for r in rows]),
        "llm.draft_groundedness": mean([r.get("llm_draft_groundedness") for r in rows]),
        "llm.fallback_rate": mean(
            [float(r["fallback_reason"] is not None) for r in rows if r.get("llm_tried")]
        ),
        "latency.p50_ms": percentile(latencies, 50),
        "latency.p95_ms": percentile(latencies, 95),
    }


def handled_right(row: Row) -> bool:
    """Refused when it should be; when answerable, answered with every gold fact."""
    if not row["refusal_ok"]:
        return False
    return row["refused"] or row["kind"] not in ANSWERABLE or row.get("must_mention") == 1.0


def by_variant(rows: Sequence[Row]) -> dict[str, Aggregates]:
    """Per variant of question (near_miss_count, near_miss_date…, and per language): how
    many, how many handled right (:func:`handled_right`)."""
    groups: dict[str, list[Row]] = {}
    for row in rows:
        if row.get("variant"):
            groups.setdefault(f"{row['kind']}/{row['variant']}", []).append(row)
        if row.get("lang"):
            groups.setdefault(f"language/{row['lang']}", []).append(row)
    return {
        name: {"n": len(group), "handled_right": mean([float(handled_right(r)) for r in group])}
        for name, group in sorted(groups.items())
    }


def score_pairs(checker: GroundingChecker, pairs: Sequence[SupportPair]) -> dict[str, Any]:
    """The support check on labelled pairs: aggregates, accuracy per kind, wrong verdicts."""
    verdicts, times = [], []
    for pair in pairs:
        started = time.perf_counter()
        verdict = checker.check_sentence(AnswerSentence(pair.sentence, (1,)), {1: pair.passage})
        times.append((time.perf_counter() - started) * 1000)
        verdicts.append(verdict)
    right = [v.supported == p.supported for v, p in zip(verdicts, pairs, strict=True)]
    kinds: dict[str, list[bool]] = {}
    for pair, ok in zip(pairs, right, strict=True):
        kinds.setdefault(pair.kind, []).append(ok)
    good = [ok for p, ok in zip(pairs, right, strict=True) if p.supported]
    bad = [ok for p, ok in zip(pairs, right, strict=True) if not p.supported]
    return {
        "aggregates": {
            "n.pairs": len(pairs),
            "support.accuracy": mean([float(ok) for ok in right]),
            "support.paraphrases_accepted": mean([float(ok) for ok in good]),
            "support.errors_caught": mean([float(ok) for ok in bad]),
            "support.ms_per_sentence": percentile(times, 50),
        },
        "by_kind": {
            kind: {"n": len(oks), "right": mean([float(ok) for ok in oks])}
            for kind, oks in sorted(kinds.items())
        },
        "wrong": [
            {
                "id": p.id,
                "kind": p.kind,
                "expected": p.supported,
                "sentence": p.sentence,
                "reason": v.reason,
            }
            for p, v, ok in zip(pairs, verdicts, right, strict=True)
            if not ok
        ],
    }


def by_kind(rows: Sequence[Row]) -> dict[str, Aggregates]:
    """Per question kind: how many, how many handled right (answered or refused as expected),
    facts present, groundedness and hit@5."""
    out = {}
    for kind in KINDS:
        subset = [r for r in rows if r["kind"] == kind]
        if subset:
            out[kind] = {
                "n": len(subset),
                "handled_right": mean([float(r["refusal_ok"]) for r in subset]),
                "must_mention": mean([r.get("must_mention") for r in subset]),
                "groundedness": mean([r.get("groundedness") for r in subset]),
                "hit@5": mean([r.get("hit@5") for r in subset]),
            }
    return out


def system_results(rows_by_set: Mapping[str, list[Row]]) -> dict[str, Any]:
    every = [dict(r, set=name) for name, rows in rows_by_set.items() for r in rows]
    aggregates = {name: aggregate(rows) for name, rows in rows_by_set.items()}
    if len(rows_by_set) > 1:
        aggregates["all"] = aggregate(every)
    return {
        "aggregates": aggregates,
        "by_kind": {name: by_kind(rows) for name, rows in rows_by_set.items()},
        "by_variant": {name: by_variant(rows) for name, rows in rows_by_set.items()},
        "questions": every,
    }
