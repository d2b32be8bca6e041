"""Answer benchmark (extractive mode) on a gold set.

    python eval/bench_answers.py [--questions eval/questions.jsonl] [--show]

Ingests the bundled corpus into a temporary data dir, asks every question, and prints:
must_mention coverage on answerable questions, share of answers with a must_not_claim,
refusal precision / recall / F1, false-refusal rate on answerable questions, the share of
refusals with the expected reason, grounding score, and `ask` latency p50/p95 (warm).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from assistant.app import Assistant
from assistant.evaluation.metrics import (
    SHOULD_REFUSE,
    load_gold,
    mention_coverage,
    mentions,
    percentile,
    refusal_scores,
)
from assistant.settings import load_settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--questions", type=Path, default=Path("eval/questions.jsonl"))
    parser.add_argument("--show", action="store_true", help="print every answer")
    args = parser.parse_args()
    gold = load_gold(args.questions)
    with tempfile.TemporaryDirectory() as home:
        assistant = Assistant(load_settings(home=Path(home)))
        assistant.ingest()
        assistant.ask("Quels sont les trois axes du cadre de confiance ?")  # warm up
        rows = []
        for q in gold:
            started = time.perf_counter()
            answer = assistant.ask(q.question)
            ms = (time.perf_counter() - started) * 1000
            rows.append((q, answer, ms))
            if args.show:
                print(
                    f"--- {q.id} [{q.kind}] {q.question}\n{answer.answer}\n"
                    f"refused={answer.refusal_reason} grounding={answer.grounding.score:.2f}"
                )

    answerable = [(q, a) for q, a, _ in rows if q.answerable]
    coverage = [mention_coverage(a.answer, q.must_mention) for q, a in answerable if not a.refused]
    full = sum(c == 1.0 for c in coverage)
    violations = [q.id for q, a, _ in rows if any(mentions(a.answer, c) for c in q.must_not_claim)]
    expected = [q.kind in SHOULD_REFUSE for q, _, _ in rows]
    refused = [a.refused for _, a, _ in rows]
    scores = refusal_scores(expected, refused)
    reasons_ok = sum(
        a.refusal_reason == SHOULD_REFUSE[q.kind]
        for q, a, _ in rows
        if q.kind in SHOULD_REFUSE and a.refused
    )
    grounding = [a.grounding.score for _, a, _ in rows if not a.refused]
    latencies = [ms for _, _, ms in rows]
    fact_total = sum(len(q.must_mention) for q, a in answerable if not a.refused)
    fact_hit = sum(
        mention_coverage(a.answer, q.must_mention) * len(q.must_mention)
        for q, a in answerable
        if not a.refused
    )
    print(f"{len(gold)} questions ({len(answerable)} answerable)")
    print(
        f"must_mention: {fact_hit / max(fact_total, 1):.3f} of facts present; "
        f"{full}/{len(coverage)} answered questions contain every fact"
    )
    print(f"must_not_claim violations: {len(violations)}/{len(rows)} {violations}")
    print(
        f"refusals: precision {scores['precision']:.3f}, recall {scores['recall']:.3f}, "
        f"F1 {scores['f1']:.3f}; right reason {reasons_ok}/{sum(refused)} refusals"
    )
    print(
        f"false-refusal rate on answerable: {scores['false_refusal_rate']:.3f} "
        f"({sum(a.refused for _, a in answerable)}/{len(answerable)})"
    )
    for kind in ("unanswerable", "out_of_scope", "injection"):
        subset = [(q, a) for q, a, _ in rows if q.kind == kind]
        ok = sum(a.refusal_reason == SHOULD_REFUSE[kind] for _, a in subset)
        print(f"  {kind}: {ok}/{len(subset)} refused with '{SHOULD_REFUSE[kind]}'")
    print(f"grounding score of answers: mean {statistics.mean(grounding):.3f}")
    q95 = percentile(latencies, 95)
    print(f"ask latency (warm): p50 {statistics.median(latencies):.0f} ms, p95 {q95:.0f} ms")


if __name__ == "__main__":
    main()
