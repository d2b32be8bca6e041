"""The evaluation harness behind ``has-assistant eval``.

Every gold question goes through :meth:`Assistant.ask`, exactly as in ``ask`` (screening,
redaction, retrieval, answer, verification, LLM when asked), then is scored
(:mod:`assistant.evaluation.scoring`). Results are plain JSON-ready dicts: one row per question
and one set of aggregates per gold set (and ``all``), for each system (the assistant, and the
naive baseline with ``--baseline``); the gate and the comparison with a previous run
(:mod:`assistant.evaluation.gate`) and the RAGAS export work on them.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any, TypeVar

from assistant.answer.llm import model_label
from assistant.app import Assistant
from assistant.errors import ConfigError
from assistant.evaluation.baseline import Baseline
from assistant.evaluation.gate import check_thresholds, compare, load_thresholds
from assistant.evaluation.metrics import (
    DEFINITIONS,
    GoldQuestion,
    SupportPair,
    load_gold,
    load_pairs,
)
from assistant.evaluation.report import write_report
from assistant.evaluation.scoring import (
    RETRIEVAL_DEPTH,
    OnQuestion,
    Row,
    Scorer,
    score_pairs,
    system_results,
)
from assistant.index.store import Progress
from assistant.settings import DEFAULT_THRESHOLDS, Settings


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
        "systems": {name: system_results(rows) for name, rows in systems.items()},
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
