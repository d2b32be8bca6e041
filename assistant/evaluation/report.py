"""The evaluation report: Markdown and HTML (self-contained, plots as inline SVG).

Pure functions of the results of :mod:`assistant.harness`; no plotting library: the few
charts a quality team needs (per-kind scores, score and latency distributions) are drawn as
SVG here.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from markdown_it import MarkdownIt

from assistant.evaluation.metrics import DEFINITIONS, LOWER_IS_BETTER, worse_direction

COLOURS = {"assistant": "#1f5fa8", "baseline": "#c98a1a"}
Table = tuple[list[str], list[list[str]]]


def fmt(value: float | None, metric: str = "") -> str:
    if value is None:
        return "—"
    if metric.startswith("latency") or metric.startswith("n.") or metric.endswith("must_not_claim"):
        return f"{value:.0f}"
    return f"{value:.3f}"


# ---------------------------------------------------------------- SVG charts


def bar_chart(
    title: str, groups: Sequence[str], series: Mapping[str, Sequence[float | None]]
) -> str:
    """Grouped bars on a 0–1 scale, one group per label, one colour per series."""
    width, height, left, bottom, top = 640, 260, 40, 60, 30
    plot_w, plot_h = width - left - 10, height - bottom - top
    group_w = plot_w / max(len(groups), 1)
    bar_w = group_w * 0.8 / max(len(series), 1)
    parts = [
        f'<text x="{width / 2}" y="18" text-anchor="middle" font-weight="bold">'
        f"{html.escape(title)}</text>"
    ]
    for tick in (0, 0.25, 0.5, 0.75, 1):
        y = top + plot_h * (1 - tick)
        parts.append(
            f'<line x1="{left}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="#ddd"/><text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" '
            f'font-size="10">{tick:g}</text>'
        )
    for g, label in enumerate(groups):
        x0 = left + g * group_w + group_w * 0.1
        for s, (name, values) in enumerate(series.items()):
            value = values[g]
            x = x0 + s * bar_w
            if value is None:
                parts.append(
                    f'<text x="{x + bar_w / 2:.1f}" y="{top + plot_h - 4}" '
                    f'text-anchor="middle" font-size="9">n/a</text>'
                )
                continue
            h = plot_h * max(0.0, min(value, 1.0))
            parts.append(
                f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w - 2:.1f}" '
                f'height="{h:.1f}" fill="{COLOURS.get(name, "#777")}"><title>{name} '
                f"{html.escape(label)}: {value:.3f}</title></rect>"
            )
        parts.append(
            f'<text x="{x0 + group_w * 0.4:.1f}" y="{top + plot_h + 14}" '
            f'text-anchor="middle" font-size="10">{html.escape(label)}</text>'
        )
    for s, name in enumerate(series):
        parts.append(
            f'<rect x="{left + s * 120}" y="{height - 20}" width="10" height="10" '
            f'fill="{COLOURS.get(name, "#777")}"/><text x="{left + s * 120 + 14}" '
            f'y="{height - 11}" font-size="11">{name}</text>'
        )
    return _svg(width, height, parts)


def histogram(title: str, values: Sequence[float], bins: Sequence[float], unit: str = "") -> str:
    """Counts of ``values`` per bin (``bins`` are the bin edges; the last bin is open)."""
    width, height, left, bottom, top = 640, 220, 40, 40, 30
    counts = [0] * len(bins)
    for v in values:
        i = max(i for i, edge in enumerate(bins) if v >= edge) if v >= bins[0] else 0
        counts[i] += 1
    peak = max(counts) or 1
    plot_w, plot_h = width - left - 10, height - bottom - top
    bar_w = plot_w / len(bins)
    parts = [
        f'<text x="{width / 2}" y="18" text-anchor="middle" font-weight="bold">'
        f"{html.escape(title)}</text>"
    ]
    for i, count in enumerate(counts):
        h = plot_h * count / peak
        x = left + i * bar_w
        label = f"≥{bins[i]:g}{unit}" if i == len(bins) - 1 else f"{bins[i]:g}–{bins[i + 1]:g}"
        parts.append(
            f'<rect x="{x + 1:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w - 2:.1f}" '
            f'height="{h:.1f}" fill="{COLOURS["assistant"]}"><title>{label}: {count}</title>'
            f'</rect><text x="{x + bar_w / 2:.1f}" y="{top + plot_h - h - 3:.1f}" '
            f'text-anchor="middle" font-size="10">{count}</text>'
            f'<text x="{x + bar_w / 2:.1f}" y="{top + plot_h + 14}" text-anchor="middle" '
            f'font-size="9">{label}</text>'
        )
    return _svg(width, height, parts)


def _svg(width: int, height: int, parts: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">'
        + "".join(parts)
        + "</svg>"
    )


# ---------------------------------------------------------------- content


def _summary(
    results: Mapping[str, Any],
    name: str,
    thresholds: Mapping[str, Any],
    comparison: Mapping[str, Any] | None,
) -> Table:
    systems = results["systems"]
    header = ["metric", *systems, "threshold"]
    if comparison:
        header.append("Δ vs previous")
    override = thresholds.get("sets", {}).get(name, {})
    rows = []
    for metric in DEFINITIONS:
        if metric.startswith("support."):
            continue  # labelled pairs have their own section
        cells = [metric]
        cells += [fmt(s["aggregates"].get(name, {}).get(metric), metric) for s in systems.values()]
        low = {**thresholds.get("min", {}), **override.get("min", {})}.get(metric)
        high = {**thresholds.get("max", {}), **override.get("max", {})}.get(metric)
        value = systems["assistant"]["aggregates"].get(name, {}).get(metric)
        crossed = value is not None and (
            (low is not None and value < low) or (high is not None and value > high)
        )
        bound = f"≥ {low}" if low is not None else f"≤ {high}" if high is not None else ""
        cells.append(f"{bound} ✗ FAILED" if crossed else f"{bound} ✓" if bound else "")
        if comparison:
            d = comparison["deltas"].get(name, {}).get(metric, {}).get("delta")
            cells.append(
                "—"
                if d is None
                else f"{d:+.3f}{' ▼ worse' if worse_direction(metric, d) else ''}"
                if abs(d) > 1e-9
                else "0"
            )
        rows.append(cells)
    return header, rows


def _kinds(results: Mapping[str, Any], name: str) -> Table:
    header = ["kind", "n", "system", "handled right", "facts present", "groundedness", "hit@5"]
    rows = []
    for system, data in results["systems"].items():
        for kind, v in data["by_kind"].get(name, {}).items():
            rows.append(
                [
                    kind,
                    f"{v['n']:.0f}",
                    system,
                    fmt(v["handled_right"]),
                    fmt(v["must_mention"]),
                    fmt(v["groundedness"]),
                    fmt(v["hit@5"]),
                ]
            )
    rows.sort(key=lambda r: (r[0], r[2]))
    return header, rows


def _variants(results: Mapping[str, Any], name: str) -> Table:
    """Handled right per variant (near-miss kinds…) and per language, assistant only."""
    data = results["systems"]["assistant"].get("by_variant", {}).get(name, {})
    rows = [[v, str(d["n"]), fmt(d["handled_right"])] for v, d in data.items()]
    return ["variant", "n", "handled right"], rows


def _support(data: Mapping[str, Any]) -> Table:
    """The support check's aggregates, then its accuracy per kind of pair."""
    rows = [[m, "", fmt(v, m)] for m, v in data["aggregates"].items()]
    rows += [[k, str(v["n"]), fmt(v["right"])] for k, v in data["by_kind"].items()]
    return ["metric / kind of pair", "n", "value"], rows


def _problem_rows(results: Mapping[str, Any], name: str) -> Table:
    rows = [
        [
            r["id"],
            r["kind"],
            r["question"],
            "; ".join(r["problems"]),
            (r["answer"][:220] + "…") if len(r["answer"]) > 220 else r["answer"],
        ]
        for r in results["systems"]["assistant"]["questions"]
        if r["set"] == name and r["problems"]
    ]
    return ["id", "kind", "question", "problem", "answer (start)"], rows


def _charts(results: Mapping[str, Any], name: str) -> dict[str, str]:
    systems = results["systems"]
    kinds = list(systems["assistant"]["by_kind"].get(name, {}))
    per_kind = bar_chart(
        "Questions handled right, per kind (answered when answerable, refused otherwise)",
        kinds,
        {s: [d["by_kind"][name][k]["handled_right"] for k in kinds] for s, d in systems.items()},
    )
    headline = [
        "retrieval.mrr",
        "retrieval.ndcg@10",
        "citations.recall",
        "citations.precision",
        "groundedness",
        "correctness.must_mention",
        "refusals.f1",
    ]
    scores = bar_chart(
        "Main scores (0–1, higher is better)",
        [m.split(".")[-1] for m in headline],
        {s: [d["aggregates"][name].get(m) for m in headline] for s, d in systems.items()},
    )
    rows = [r for r in systems["assistant"]["questions"] if r["set"] == name]
    facts = histogram(
        "Facts present per answerable question (assistant)",
        [r["must_mention"] for r in rows if "must_mention" in r],
        [0, 0.25, 0.5, 0.75, 1],
    )
    latency = histogram(
        "Time per question, end to end (assistant, ms)",
        [r["latency_ms"] for r in rows],
        [0, 25, 50, 100, 200, 400, 800, 1600, 3200],
        " ms",
    )
    return {"per_kind": per_kind, "scores": scores, "facts": facts, "latency": latency}


def _intro(results: Mapping[str, Any], failures: Sequence[str]) -> list[str]:
    m = results["meta"]
    verdict = (
        "**FAILED** — thresholds crossed:" if failures else "**PASSED** — no threshold crossed."
    )
    lines = [
        f"Run of {m['date']} · has-assistant {m['version']} · mode **{m['mode']}**"
        + (f" (model {m['model']})" if m.get("model") else "")
        + f" · embedder {m['embedder']} · corpus version {m['corpus_version']}"
        f" ({m['corpus_dir']})",
        "Gold sets: " + ", ".join(f"{k} ({v} questions)" for k, v in m["sets"].items()),
        verdict,
        *[f"- {f}" for f in failures],
    ]
    if m["mode"] == "extractive":
        lines.append(
            "In extractive mode the answers are verbatim quotes verified by the same check that "
            "scores them: citation recall/precision and groundedness are 1 by construction and "
            "only guard against regressions; they measure the LLM mode (`--mode llm`, with the "
            "model's own draft scored as llm.draft_*)."
        )
    if "baseline" in results["systems"]:
        lines.append(
            "The **baseline** is what a quick RAG tutorial would build: dense retrieval only, "
            "fixed windows of 800 characters, no refusal, the answer is the top passage. Its "
            "citation scores are 1 by construction (it quotes the passage it cites): judge it "
            "on retrieval, facts present and refusals."
        )
    return lines


CAVEATS = [
    "The grounding check is a set of rules plus an embedding similarity (no judge LLM): "
    "it was calibrated on eval/grounding_pairs.jsonl (83 labelled pairs); a sentence it "
    "calls supported is close to its passage, not proven true.",
    "The refusal thresholds of the extractive answerer were tuned on eval/questions.jsonl; "
    "eval/questions_heldout.jsonl was written afterwards and never tuned on.",
    "Facts present is a string match against the gold facts: a correct paraphrase with "
    "other words counts as missing.",
]


# ---------------------------------------------------------------- Markdown / HTML


def _md_table(table: Table) -> str:
    header, rows = table

    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _worse_table(comparison: Mapping[str, Any]) -> Table:
    return ["set", "id", "question", "what got worse"], [
        [w["set"], w["id"], w["question"], "; ".join(w["changes"])] for w in comparison["worse"]
    ]


def _definitions() -> Table:
    return ["metric", "definition"], [
        [m, d + (" (lower is better)" if m in LOWER_IS_BETTER else "")]
        for m, d in DEFINITIONS.items()
    ]


class _Markdown:
    """The report as Markdown: its one source (the HTML page is rendered from it)."""

    def __init__(self) -> None:
        self.md: list[str] = []

    def _end_list(self) -> None:
        if self.md and self.md[-1].startswith("- "):
            self.md.append("")

    def heading(self, level: int, text: str) -> None:
        self._end_list()
        self.md += ["#" * level + " " + text, ""]

    def para(self, line: str) -> None:
        if line.startswith("- "):
            self.md.append(line)
        else:
            self._end_list()
            self.md += [line, ""]

    def table(self, table: Table) -> None:
        if not table[1]:
            self.para("None.")
            return
        self._end_list()
        self.md += [_md_table(table), ""]


def to_html(markdown: str, folder: Path) -> str:
    """The report's Markdown as a self-contained HTML page: rendered by markdown-it (raw HTML
    in the text is escaped), each ``plots/*.svg`` image inlined from ``folder``."""
    renderer = MarkdownIt("commonmark", {"html": False}).enable("table")

    def inline_svg(self: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
        src = str(tokens[idx].attrGet("src") or "")
        path = (folder / src).resolve()
        if src.endswith(".svg") and path.parent == (folder / "plots").resolve():
            return path.read_text(encoding="utf-8")
        return self.image(tokens, idx, options, env)

    renderer.add_render_rule("image", inline_svg)
    return _page(renderer.render(markdown))


def write_report(
    results: Mapping[str, Any],
    folder: Path,
    thresholds: Mapping[str, Any],
    failures: Sequence[str] = (),
    comparison: Mapping[str, Any] | None = None,
) -> tuple[Path, Path]:
    """Write ``report.md`` (+ ``plots/*.svg``) and ``report.html`` into ``folder``."""
    (folder / "plots").mkdir(parents=True, exist_ok=True)
    out = _Markdown()
    out.heading(1, "Évaluation de has-assistant — evaluation report")
    for line in _intro(results, failures):
        out.para(line)
    if comparison:
        out.para(
            f"Compared with the run of {comparison['previous_date']} "
            f"({comparison['compared']} questions in common)."
        )
        for caveat in comparison["caveats"]:
            out.para(f"- Caution: {caveat}")
    unused = results.get("thresholds", {}).get("sets_not_in_this_run")
    if unused:
        out.para(f"Thresholds given for gold sets not in this run: {', '.join(unused)}.")
    for name in results["systems"]["assistant"]["aggregates"]:
        out.heading(2, f"Gold set {name}")
        out.table(_summary(results, name, thresholds, comparison))
        if name == "all":
            continue
        charts = _charts(results, name)
        for key, svg in charts.items():
            path = folder / "plots" / f"{name}-{key}.svg"
            path.write_text(svg, encoding="utf-8")
            out.md += [f"![{key}](plots/{path.name})", ""]
        out.heading(3, "Per kind of question")
        out.table(_kinds(results, name))
        variants = _variants(results, name)
        if variants[1]:
            out.heading(3, "Per variant and language")
            out.table(variants)
        problems = _problem_rows(results, name)
        out.heading(3, f"Questions with a problem ({len(problems[1])})")
        out.table(problems)
    for name, data in results.get("support", {}).items():
        out.heading(2, f"Support check — labelled pairs {name}")
        out.table(_support(data))
        if data["wrong"]:
            out.heading(3, f"Wrong verdicts ({len(data['wrong'])})")
            out.table(
                (
                    ["id", "kind", "expected", "sentence", "check said"],
                    [
                        [w["id"], w["kind"], str(w["expected"]), w["sentence"], w["reason"]]
                        for w in data["wrong"]
                    ],
                )
            )
    if comparison:
        worse = _worse_table(comparison)
        out.heading(2, f"Questions that got worse ({len(worse[1])})")
        out.table(worse)
    out.heading(2, "Definitions")
    out.table(_definitions())
    out.heading(2, "Limits")
    for caveat in CAVEATS:
        out.para(f"- {caveat}")
    md_path, html_path = folder / "report.md", folder / "report.html"
    markdown = "\n".join(out.md) + "\n"
    md_path.write_text(markdown, encoding="utf-8")
    html_path.write_text(to_html(markdown, folder), encoding="utf-8")
    return md_path, html_path


def _page(body: str) -> str:
    return f"""<!doctype html>
<html lang="fr"><head><meta charset="utf-8">
<title>Évaluation de has-assistant</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0; font-size: 14px; }}
th, td {{ border: 1px solid #ccc; padding: 4px 8px; text-align: left; vertical-align: top; }}
th {{ background: #f0f3f8; }}
td:nth-child(n+2) {{ font-variant-numeric: tabular-nums; }}
p > svg {{ margin: 0.5em 1em 0.5em 0; border: 1px solid #eee; }}
</style></head><body>
{body}
</body></html>
"""
