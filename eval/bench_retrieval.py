"""Retrieval benchmark: BM25 alone, dense alone and hybrid, side by side, on a gold set.

    python eval/bench_retrieval.py [--questions eval/questions.jsonl] [--k 5] [--no-context]

Ingests the bundled corpus into a fresh temporary data dir (prints the ingest time), then
prints hit@1, hit@5 and MRR per retriever over the answerable questions, and the latency of
`search` (hybrid, model loaded) p50/p95 over all questions.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from assistant.app import Assistant
from assistant.evaluation.metrics import first_relevant_rank, hit_at, load_gold, reciprocal_rank
from assistant.settings import load_settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--questions", type=Path, default=Path("eval/questions.jsonl"))
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument(
        "--no-context", action="store_true", help="embed chunk text alone (no title/section prefix)"
    )
    parser.add_argument(
        "--sentence-max", action="store_true", help="dense score of a chunk = best sentence's"
    )
    args = parser.parse_args()
    gold = load_gold(args.questions)
    answerable = [q for q in gold if q.answerable]

    with tempfile.TemporaryDirectory() as home:
        settings = load_settings(
            home=Path(home),
            embed_context=not args.no_context,
            dense_sentence_max=args.sentence_max,
        )
        assistant = Assistant(settings)
        started = time.perf_counter()
        report = assistant.ingest()
        print(
            f"ingest (bundled corpus, cold, model load included): "
            f"{time.perf_counter() - started:.2f} s, {report.total_chunks} chunks, "
            f"embed_context={settings.embed_context}, "
            f"dense_sentence_max={settings.dense_sentence_max}"
        )
        started = time.perf_counter()
        again = assistant.ingest()
        print(
            f"second ingest (unchanged corpus): {time.perf_counter() - started:.2f} s, "
            f"{again.embedded_chunks} chunks embedded"
        )
        assistant.search("échauffement")  # load the model and the BM25 index once

        print(f"\n{len(answerable)} answerable questions of {len(gold)}; k={args.k}")
        print(f"{'retriever':<10} {'hit@1':>6} {'hit@5':>6} {'MRR':>6}")
        for kind in ("bm25", "dense", "hybrid"):
            ranks = []
            for q in answerable:
                hits = assistant.search(q.question, max(args.k, 5), kind=kind)
                ranks.append(first_relevant_rank(q.evidence, [h.chunk.text for h in hits]))
            n = len(ranks)
            print(
                f"{kind:<10} {sum(hit_at(r, 1) for r in ranks) / n:6.3f} "
                f"{sum(hit_at(r, 5) for r in ranks) / n:6.3f} "
                f"{sum(reciprocal_rank(r) for r in ranks) / n:6.3f}"
            )

        latencies = []
        for q in gold:
            assistant.embedder.__dict__.pop("_query_cache", None)  # a question never seen
            started = time.perf_counter()
            assistant.search(q.question, args.k)
            latencies.append((time.perf_counter() - started) * 1000)
        q = statistics.quantiles(latencies, n=20)
        print(
            f"\nsearch latency (hybrid, warm, {len(latencies)} questions): "
            f"p50 {statistics.median(latencies):.1f} ms, p95 {q[18]:.1f} ms"
        )


if __name__ == "__main__":
    main()
