"""The regression gate and the comparison of two runs: thresholds (``eval/thresholds.toml``)
checked against a run's aggregates; deltas and the questions that got worse since a previous
run."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from assistant.errors import ConfigError
from assistant.evaluation.metrics import (
    DEFINITIONS,
)
from assistant.evaluation.scoring import Row

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
