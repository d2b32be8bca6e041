"""The evaluation harness behind ``has-assistant eval``.

Every gold question goes through :meth:`Assistant.ask`, exactly as in ``ask`` (screening,
redaction, retrieval, answer, verification, LLM when asked), then is scored with the metrics of
:mod:`assistant.evaluation`. Results are plain JSON-ready dicts: one row per question and one
set of aggregates per gold set (and ``all``), for each system (the assistant, and the naive
baseline with ``--baseline``). Thresholds, run comparison and the RAGAS export work on them.
"""

from __future__ import annotations

import json
import tempfile
import time
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any, TypeVar

from assistant.answer.extractive import LEADS
from assistant.answer.grounding import AnswerSentence, GroundingChecker, parse_answer
from assistant.answer.llm import model_label
from assistant.app import Assistant
from assistant.contract import Answer
from assistant.errors import ConfigError
from assistant.evaluation.baseline import Baseline
from assistant.evaluation.metrics import (
    ANSWERABLE,
    DEFINITIONS,
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
    load_gold,
    load_pairs,
    mean,
    mention_coverage,
    mentions,
    ndcg_at,
    percentile,
    reciprocal_rank,
    refusal_scores,
    source_recall,
)
from assistant.evaluation.report import write_report
from assistant.index.store import Progress
from assistant.settings import DEFAULT_THRESHOLDS, Settings
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


def _system_results(rows_by_set: Mapping[str, list[Row]]) -> dict[str, Any]:
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


def run(
    assistant: Assistant,
    gold_sets: Mapping[str, Sequence[GoldQuestion]],
    mode: str = "extractive",
    baseline: bool = False,
    on_question: OnQuestion | None = None,
) -> dict[str, Any]:
    """Ask every question (and the baseline's, with ``baseline``); return the results."""
    opened = assistant.opened
    chunk_texts = [c.text for c in opened.chunks(opened.bm25.ids).values()]
    scorer = Scorer(assistant.checker, chunk_texts)
    mode = assistant.resolve_mode(mode)
    systems: dict[str, dict[str, list[Row]]] = {"assistant": {}}
    naive: tuple[Baseline, Scorer] | None = None
    if baseline:
        docs = assistant.corpus.load(assistant.user_sources()).documents
        built = Baseline.build(docs, assistant.embedder)
        naive = (built, Scorer(assistant.checker, [c.text for c in built.chunks]))
        systems["baseline"] = {}
    assistant.ask("Quels sont les trois axes du cadre de confiance ?", mode="extractive")  # warm
    for name, questions in gold_sets.items():
        systems["assistant"][name] = rows = []
        for q in questions:
            if on_question:
                on_question(name, q)
            started = time.perf_counter()
            answer = assistant.ask(q.question, mode=mode)
            ms = (time.perf_counter() - started) * 1000
            ranking = [h.chunk.text for h in assistant.search(q.question, RETRIEVAL_DEPTH)]
            rows.append(scorer.score(q, answer, ranking, ms))
            if naive is not None:
                assistant.embedder.__dict__.pop("_query_cache", None)  # no head start
                started = time.perf_counter()
                plain = naive[0].ask(q.question)
                ms = (time.perf_counter() - started) * 1000
                ranking = [h.chunk.text for h in naive[0].search(q.question, RETRIEVAL_DEPTH)]
                systems["baseline"].setdefault(name, []).append(
                    naive[1].score(q, plain, ranking, ms)
                )
    info = opened.info
    s = assistant.settings
    return {
        "meta": {
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "version": version("has-assistant"),
            "mode": mode,
            "model": model_label(s) if mode == "llm" else None,
            "embedder": assistant.embedder.id,
            "corpus_version": info.corpus_version,
            "corpus_dir": str(s.corpus_dir),
            "sets": {name: len(qs) for name, qs in gold_sets.items()},
            "retrieval_depth": RETRIEVAL_DEPTH,
        },
        "definitions": DEFINITIONS,
        "systems": {name: _system_results(rows) for name, rows in systems.items()},
    }


# ---------------------------------------------------------------- thresholds


def load_thresholds(path: Path) -> dict[str, Any]:
    """``[min]`` / ``[max]`` tables of metric → bound, and ``[sets.<name>.min|max]``
    overrides; a metric name that does not exist is a ConfigError (a typo never passes)."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"thresholds file not found: {path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML ({exc})") from exc
    tables = [raw, *raw.get("sets", {}).values()]
    for table in tables:
        for bound in ("min", "max"):
            unknown = set(table.get(bound, {})) - set(DEFINITIONS)
            if unknown:
                raise ConfigError(f"{path}: unknown metric(s) {', '.join(sorted(unknown))}")
            for metric, limit in table.get(bound, {}).items():
                if isinstance(limit, bool) or not isinstance(limit, int | float):
                    raise ConfigError(f"{path}: {metric} = {limit!r} is not a number")
    return raw


# metrics measured on the answers: undefined when nothing was answered, which must not pass
ON_ANSWERS = ("citations.recall", "citations.precision", "groundedness")


def check_thresholds(results: Mapping[str, Any], thresholds: Mapping[str, Any]) -> list[str]:
    """Every bound crossed by the assistant, per gold set, as readable lines (empty: pass)."""
    failures = []
    aggregates = dict(results["systems"]["assistant"]["aggregates"])
    aggregates |= {name: data["aggregates"] for name, data in results.get("support", {}).items()}
    for name, values in aggregates.items():
        override = thresholds.get("sets", {}).get(name, {})
        for bound in ("min", "max"):
            limits = {**thresholds.get(bound, {}), **override.get(bound, {})}
            for metric, limit in limits.items():
                value = values.get(metric)
                if value is None:
                    if metric in ON_ANSWERS and values.get("n.answerable"):
                        failures.append(f"{name}: {metric} undefined (no question answered)")
                    continue
                if (bound == "min" and value < limit) or (bound == "max" and value > limit):
                    sign = "<" if bound == "min" else ">"
                    failures.append(f"{name}: {metric} = {value:.3f} {sign} {bound} {limit}")
    return failures


# ---------------------------------------------------------------- comparison


def _question_score(row: Row) -> dict[str, float]:
    keys = ("refusal_ok", "must_mention", "citation_recall", "groundedness", "rr", "source_recall")
    return {k: float(row[k]) for k in keys if row.get(k) is not None}


def compare(results: Mapping[str, Any], previous: Mapping[str, Any]) -> dict[str, Any]:
    """Aggregate deltas (current − previous) of the assistant per set, and the questions that
    got worse on any per-question score."""
    now = results["systems"]["assistant"]
    before = previous["systems"]["assistant"]
    deltas: dict[str, dict[str, dict[str, float | None]]] = {}
    for name, values in now["aggregates"].items():
        old = before["aggregates"].get(name, {})
        deltas[name] = {
            metric: {
                "previous": old.get(metric),
                "current": value,
                "delta": None if value is None or old.get(metric) is None else value - old[metric],
            }
            for metric, value in values.items()
        }
    old_rows = {(r["set"], r["id"]): r for r in before["questions"]}
    caveats = [
        f"{key} differs: {previous.get('meta', {}).get(key)} → {results['meta'].get(key)}"
        for key in ("mode", "embedder", "corpus_version")
        if previous.get("meta", {}).get(key) != results["meta"].get(key)
    ]
    worse, compared, other_text = [], 0, []
    for row in now["questions"]:
        old_row = old_rows.get((row["set"], row["id"]))
        if old_row is None:
            continue
        if old_row["question"] != row["question"]:
            other_text.append(row["id"])
            continue
        compared += 1
        then, current = _question_score(old_row), _question_score(row)
        changes = [
            f"{k} {then[k]:.2f} → {current[k]:.2f}"
            for k in then
            if k in current and current[k] < then[k] - 1e-9
        ]
        if changes:
            worse.append(
                {
                    "set": row["set"],
                    "id": row["id"],
                    "question": row["question"],
                    "changes": changes,
                }
            )
    if other_text:
        caveats.append(f"same id, another question (not compared): {', '.join(other_text)}")
    if not compared:
        caveats.append("no question in common with the previous run: nothing was compared")
    return {
        "previous_date": previous.get("meta", {}).get("date"),
        "deltas": deltas,
        "worse": worse,
        "compared": compared,
        "caveats": caveats,
    }


# ---------------------------------------------------------------- RAGAS


def ragas_rows(
    results: Mapping[str, Any], questions: Mapping[tuple[str, str], GoldQuestion]
) -> list[tuple[tuple[str, str], dict[str, Any]]]:
    """The assistant's answers to the answerable questions, as RAGAS single-turn samples:
    ``user_input``, ``retrieved_contexts``, ``response``, ``reference`` (the gold evidence,
    verbatim: the gold set has no written-out answer) and ``reference_contexts`` (the same
    evidence strings); each with its (set, id). Refusal questions have no reference: left out."""
    out = []
    for row in results["systems"]["assistant"]["questions"]:
        q = questions[(row["set"], row["id"])]
        if not q.answerable:
            continue
        sample = {
            "user_input": row["question"],
            "retrieved_contexts": row["contexts"],
            "response": row["answer"],
            "reference": " … ".join(q.evidence),
            "reference_contexts": list(q.evidence),
        }
        out.append(((row["set"], row["id"]), sample))
    return out


# ---------------------------------------------------------------- one command


#: the bundled corpus's gold set, in a source checkout (the package does not ship gold sets)
DEFAULT_QUESTIONS = Path("eval") / "questions.jsonl"


@dataclass
class EvalRun:
    """What ``has-assistant eval`` produced."""

    results: dict[str, Any]
    failures: list[str]
    comparison: dict[str, Any] | None
    files: list[Path] = field(default_factory=list)


def default_question_files(corpus_dir: Path | None) -> list[Path]:
    """The gold sets shipped with a corpus folder (``questions*.jsonl`` in it), else the
    bundled corpus's ``eval/questions.jsonl`` of a source checkout (the working folder)."""
    shipped = sorted(corpus_dir.glob("questions*.jsonl")) if corpus_dir else []
    if shipped:
        return shipped
    if not DEFAULT_QUESTIONS.is_file():
        raise ConfigError(
            f"no gold set: {corpus_dir or 'the corpus folder'} holds no questions*.jsonl and "
            f"there is no {DEFAULT_QUESTIONS} here",
            "pass --questions FILE (JSONL, one question per line; see eval/ in the repository)",
        )
    return [DEFAULT_QUESTIONS]


T = TypeVar("T")


def _by_stem(paths: Sequence[Path], load: Callable[[Path], list[T]]) -> dict[str, list[T]]:
    """``load`` of each file, by name (the file stem, which must be unique)."""
    sets: dict[str, list[T]] = {}
    for path in paths:
        if path.stem in sets:
            raise ConfigError(f"two files named {path.stem}", "rename one of the files")
        sets[path.stem] = load(path)
    return sets


def load_sets(paths: Sequence[Path]) -> dict[str, list[GoldQuestion]]:
    """Gold sets by name; an empty gold set is a ConfigError."""
    sets = _by_stem(paths, load_gold)
    if empty := next((p for p in paths if not sets[p.stem]), None):
        raise ConfigError(f"{empty}: no question in this gold set")
    return sets


def load_pair_sets(paths: Sequence[Path]) -> dict[str, list[SupportPair]]:
    """Labelled support pairs by name (an empty file is refused by :func:`load_pairs`)."""
    return _by_stem(paths, load_pairs)


def _read_results(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        data["systems"]["assistant"]["aggregates"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"{path}: not a results.json of has-assistant eval ({exc})") from exc
    return data


def evaluate(
    settings: Settings,
    sets: Mapping[str, Sequence[GoldQuestion]],
    *,
    corpus_dir: Path | None = None,
    mode: str = "extractive",
    report_dir: Path = Path("eval-report"),
    thresholds_path: Path = DEFAULT_THRESHOLDS,
    compare_to: Path | None = None,
    baseline: bool = False,
    ragas_path: Path | None = None,
    pairs: Mapping[str, Sequence[SupportPair]] | None = None,
    on_question: OnQuestion | None = None,
    on_ingest: Progress | None = None,
) -> EvalRun:
    """Run the gold sets, write results.json and the reports into ``report_dir``, check the
    thresholds. With ``corpus_dir``, on a fresh temporary index of that corpus folder (the
    current index is never touched); else on the current index (built if there is none).
    Nothing is written to the audit trail."""
    thresholds = load_thresholds(thresholds_path)
    previous = _read_results(compare_to) if compare_to else None
    with tempfile.TemporaryDirectory(prefix="has-eval-", ignore_cleanup_errors=True) as tmp:
        update: dict[str, Any] = {"audit": False}
        if corpus_dir is not None:
            update |= {"home": Path(tmp), "corpus_dir": corpus_dir.resolve()}
        assistant = Assistant(settings.model_copy(update=update))
        if corpus_dir is not None:
            report = assistant.ingest(progress=on_ingest)
            if report.errors:
                raise ConfigError(
                    f"{corpus_dir}: {len(report.errors)} document(s) failed to load",
                    "; ".join(str(e) for e in report.errors[:3]),
                )
        else:
            assistant.ensure_index(on_ingest)
        results = run(assistant, sets, mode, baseline, on_question)
        results["support"] = {
            name: score_pairs(assistant.checker, labelled)
            for name, labelled in (pairs or {}).items()
        }
    failures = check_thresholds(results, thresholds)
    comparison = compare(results, previous) if previous else None
    run_sets = set(results["systems"]["assistant"]["aggregates"]) | set(results["support"])
    results["thresholds"] = {
        "file": str(thresholds_path),
        "failures": failures,
        # a typo in a [sets.<name>] table would otherwise silently never apply
        "sets_not_in_this_run": sorted(set(thresholds.get("sets", {})) - run_sets),
    }
    report_dir.mkdir(parents=True, exist_ok=True)
    results_path = report_dir / "results.json"
    results_path.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    files = [results_path, *write_report(results, report_dir, thresholds, failures, comparison)]
    if ragas_path is not None:
        questions = {(name, q.id): q for name, qs in sets.items() for q in qs}
        samples = ragas_rows(results, questions)
        ragas_path.parent.mkdir(parents=True, exist_ok=True)
        ragas_path.write_text(
            "".join(json.dumps(s, ensure_ascii=False) + "\n" for _, s in samples), "utf-8"
        )
        ids = ragas_path.with_suffix(".ids.json")  # line i of the export ↔ (set, id) i
        ids.write_text(json.dumps([list(key) for key, _ in samples]), encoding="utf-8")
        files += [ragas_path, ids]
    return EvalRun(results, failures, comparison, files)
