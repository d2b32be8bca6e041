"""``has-assistant`` command line: a thin shell over the pipeline modules.

Errors of the :mod:`assistant.errors` tree become one clean message on stderr and a non-zero
exit code; nothing here does retrieval or parsing itself.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.table import Table

from assistant.errors import AssistantError
from assistant.settings import DEFAULT_THRESHOLDS, Settings, load_settings

F = TypeVar("F", bound=Callable[..., Any])


def _console() -> Console:
    """Rich console; when piped, a fixed width of 140 columns keeps tables readable."""
    return Console(width=None if sys.stdout.isatty() else 140, highlight=False)


def handle_errors(func: F) -> F:
    """Turn AssistantError into a message and an exit code instead of a traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except AssistantError as exc:
            click.echo(f"Erreur / Error: {exc}", err=True)
            sys.exit(exc.exit_code)

    return wrapper  # type: ignore[return-value]


def _settings(ctx: click.Context) -> Settings:
    return ctx.ensure_object(dict).setdefault("settings", load_settings())


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="has-assistant")
def main() -> None:
    """Assistant sur les publications de la HAS : technologies numériques et IA en santé."""


@main.group()
def corpus() -> None:
    """Publications HAS connues (manifeste), téléchargement et vérification."""


def _source_label(url: str | None) -> str:
    """Short form of a source URL for tables: host and kind (the full URL is in --json)."""
    if not url:
        return "—"
    host = url.split("/")[2].removeprefix("www.")
    return f"{host} ({'PDF' if url.lower().endswith('.pdf') else 'page'})"


@corpus.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array instead of a table.")
@click.pass_context
@handle_errors
def corpus_list(ctx: click.Context, as_json: bool) -> None:
    """Table des publications : id, titre, type, date, source, statut local."""
    from assistant.ingest.corpus import Corpus

    statuses = Corpus(_settings(ctx)).statuses()
    if as_json:
        rows = [
            {
                "id": s.publication.id,
                "title": s.publication.title,
                "type": s.publication.type,
                "date": s.publication.date,
                "updated": s.publication.updated,
                "source": s.publication.download_url or s.publication.landing_url,
                "local": s.label,
                "path": str(s.local_path) if s.local_path else None,
            }
            for s in statuses
        ]
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table(title=f"Publications HAS ({len(statuses)})", expand=True)
    table.add_column("id", overflow="fold", ratio=2)
    table.add_column("titre", ratio=5)
    for column in ("type", "date", "source", "local"):
        table.add_column(column, ratio=2)
    for s in statuses:
        p = s.publication
        date = p.date or "" if not p.updated else f"{p.date} (m.à.j. {p.updated})"
        table.add_row(p.id, p.title, p.type, date, _source_label(p.download_url), s.label)
    _console().print(table)
    click.echo("URLs: has-assistant corpus list --json")


@corpus.command("sync")
@click.option("--only", multiple=True, metavar="ID", help="Sync only this publication id.")
@click.pass_context
@handle_errors
def corpus_sync(ctx: click.Context, only: tuple[str, ...]) -> None:
    """Télécharge les publications du manifeste (PDF ou page) dans le dossier de données."""
    from assistant.ingest.corpus import Corpus
    from assistant.ingest.sync import sync_corpus

    settings = _settings(ctx)
    results = sync_corpus(Corpus(settings), only)
    table = Table(title=f"corpus sync → {settings.downloads_dir}")
    for column in ("id", "status", "detail", "size", "sha256", "url"):
        table.add_column(column, overflow="fold")
    for r in results:
        size = f"{r.size / 1024:.0f} KiB" if r.size is not None else ""
        style = {"failed": "red", "new": "green", "updated": "green"}.get(r.status, "")
        table.add_row(
            r.pub_id,
            f"[{style}]{r.status}[/]" if style else r.status,
            r.reason,
            size,
            (r.sha256 or "")[:12],
            r.url,
        )
    console = _console()
    console.print(table)
    statuses = ("new", "updated", "unchanged", "failed")
    counts = {s: sum(r.status == s for r in results) for s in statuses}
    console.print(", ".join(f"{n} {s}" for s, n in counts.items()))
    if counts["failed"]:
        sys.exit(1)


def _distribution(values: list[int]) -> str:
    from assistant.evaluation.metrics import percentile

    if not values:
        return "—"
    return (
        f"min {min(values)} · median {percentile(values, 50):.0f} · "
        f"p90 {percentile(values, 90):.0f} · max {max(values)}"
    )


@corpus.command("check")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--chunks", "show_chunks", is_flag=True, help="Also print every chunk.")
@click.pass_context
@handle_errors
def corpus_check(ctx: click.Context, paths: tuple[Path, ...], show_chunks: bool) -> None:
    """Charge et découpe le corpus (et PATHS) ; signale chaque fichier illisible."""
    from assistant.ingest.chunking import chunk_document
    from assistant.ingest.corpus import Corpus

    settings = _settings(ctx)
    for missing in (p for p in paths if not p.exists()):
        raise AssistantError(f"{missing}: no such file or folder")
    report = Corpus(settings).load(paths)
    console = _console()
    table = Table(title="Documents")
    for column in ("id", "format", "pages", "blocks", "chunks", "tokens per chunk"):
        table.add_column(column, overflow="fold")
    all_sizes: list[int] = []
    for doc in report.documents:
        chunks = chunk_document(doc, None, settings.chunk_target_tokens, settings.chunk_max_tokens)
        sizes = [c.n_tokens for c in chunks]
        all_sizes += sizes
        table.add_row(
            doc.doc_id,
            doc.fmt,
            str(doc.page_count or ""),
            str(len(doc.blocks)),
            str(len(chunks)),
            _distribution(sizes),
        )
        if show_chunks:
            for c in chunks:
                console.print(f"[bold]{c.chunk_id}[/] ({c.n_tokens} tok) {c.section} p.{c.page}")
                console.print(c.text, markup=False)
    console.print(table)
    console.print(
        f"{len(report.documents)} document(s), {len(all_sizes)} chunk(s); "
        f"tokens per chunk: {_distribution(all_sizes)}"
    )
    for error in report.errors:
        click.echo(f"Erreur / Error: {error}", err=True)
    if report.errors:
        sys.exit(1)


def _progress_bar() -> tuple[Any, Callable[[str, int, int], None]]:
    """Progress on stderr with the rate (items/s) and the time left: a rich bar in a terminal,
    plain lines in logs and pipes."""
    from contextlib import nullcontext

    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    labels = {
        "embed": "Embedding new/changed chunks",
        "questions": "Questions",
    }
    units = {"embed": "chunks", "questions": "questions"}
    if not sys.stderr.isatty():
        last: dict[str, int] = {}
        started: dict[str, float] = {}

        def log(stage: str, done: int, total: int) -> None:
            now = time.monotonic()
            started.setdefault(stage, now)
            step = max(1, total // 4)
            if stage not in last or done >= last[stage] + step or done == total:
                last[stage] = done
                elapsed = now - started[stage]
                rate = done / elapsed if elapsed > 0 and done else 0.0
                eta = f", ETA {(total - done) / rate:.0f} s" if rate and done < total else ""
                speed = f" ({rate:.1f} {units.get(stage, 'items')}/s{eta})" if rate else ""
                click.echo(f"{labels.get(stage, stage)}: {done}/{total}{speed}", err=True)

        return nullcontext(), log

    bar = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
    )
    tasks: dict[str, Any] = {}

    def update(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = bar.add_task(labels.get(stage, stage), total=total, rate="")
        speed = bar.tasks[tasks[stage]].speed
        rate = f"{speed:.1f} {units.get(stage, 'items')}/s" if speed else ""
        bar.update(tasks[stage], completed=done, total=total, rate=rate)

    return bar, update


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--rebuild", is_flag=True, help="Re-embed everything (builds aside, then swaps).")
@click.pass_context
@handle_errors
def ingest(ctx: click.Context, paths: tuple[Path, ...], rebuild: bool) -> None:
    """Indexe le corpus (et PATHS, mémorisés pour les fois suivantes).

    Seuls les documents nouveaux ou modifiés sont calculés."""
    from assistant.app import Assistant

    assistant = Assistant(_settings(ctx))
    bar, update = _progress_bar()
    with bar:
        report = assistant.ingest(
            paths,
            rebuild=rebuild,
            progress=update,
            on_wait=lambda holder: click.echo(
                f"Un autre import est en cours ({holder}) : attente… / waiting for it", err=True
            ),
        )
    console = _console()
    for label, ids in (
        ("added", report.added),
        ("changed", report.changed),
        ("removed", report.removed),
        ("unchanged", report.unchanged),
    ):
        console.print(f"{label:>9}: {len(ids)}" + (f"  ({', '.join(ids)})" if ids else ""))
    if report.elsewhere:
        console.print(
            f"     kept: {len(report.elsewhere)} added through another data dir "
            f"({', '.join(report.elsewhere)})"
        )
    if report.collection is None:
        console.print(
            f"Index up to date: {report.total_chunks} chunks, nothing embedded "
            f"({report.seconds:.1f} s)."
        )
    else:
        console.print(
            f"Embedded {report.embedded_chunks} chunk(s), kept "
            f"{report.kept_chunks} in place; index now {report.total_chunks} chunks "
            f"in {report.collection} ({report.seconds:.1f} s)."
        )
    for warning in report.warnings:
        click.echo(f"Attention / Warning: {warning}", err=True)
    for error in report.errors:
        click.echo(f"Erreur / Error: {error}", err=True)
    if report.errors:
        sys.exit(1)


def _read_batch(path: Path) -> list[str]:
    """Questions of a JSON Lines file (objects with a `question` field, other fields ignored)."""
    questions = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise AssistantError(f"{path}: cannot read ({exc})") from exc
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError as exc:
            raise AssistantError(f"{path}:{number}: invalid JSON ({exc})") from exc
        if not isinstance(obj, dict) or not isinstance(obj.get("question"), str):
            raise AssistantError(f"{path}:{number}: expected an object with a 'question' string")
        questions.append(obj["question"])
    return questions


@main.command()
@click.argument("question", required=False)
@click.option("--k", "k", type=click.IntRange(1, 50), default=None, help="Number of passages.")
@click.option("--type", "doc_type", default=None, help="Only this publication type.")
@click.option("--retriever", type=click.Choice(["hybrid", "bm25", "dense"]), default="hybrid")
@click.option(
    "--batch",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="JSON Lines file of {'question': ...} objects.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per question.")
@click.pass_context
@handle_errors
def search(
    ctx: click.Context,
    question: str | None,
    k: int | None,
    doc_type: str | None,
    retriever: str,
    batch: Path | None,
    as_json: bool,
) -> None:
    """Cherche les passages les plus pertinents pour une question."""
    from assistant.app import Assistant
    from assistant.contract import Passage

    if (question is None) == (batch is None):
        raise click.UsageError("give either a QUESTION or --batch FILE")
    questions = _read_batch(batch) if batch else [question or ""]
    assistant = Assistant(_settings(ctx))
    console = _console()
    for q in questions:
        hits = assistant.search(q, k, doc_type, retriever)
        if as_json:
            out = {"question": q, "hits": [Passage.of(h).model_dump(mode="json") for h in hits]}
            click.echo(json.dumps(out, ensure_ascii=False))
            continue
        console.print(f"[bold]{q}[/]", markup=True)
        for h in hits:
            c = h.chunk
            where = c.section or c.title
            page = f", p. {c.page}" if c.page else ""
            console.print(f"[{h.rank}] {h.score:.4f}  {c.title} › {where}{page}")
            console.print(f"    {c.text[:300]}", markup=False)
            console.print(f"    {c.url}", markup=False)


def _load_history(path: Path | None) -> list:
    """Conversation so far: a JSON list of {"question", "answer"} objects."""
    from assistant.answer.conversation import Turn

    if path is None:
        return []
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return [Turn(str(t["question"]), str(t.get("answer", ""))) for t in raw]
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise AssistantError(
            f"{path}: not a conversation history ({exc})",
            'expected a JSON list of {"question": ..., "answer": ...} objects',
        ) from exc


def _print_answer(console: Console, answer: Any) -> None:
    console.print(answer.answer, markup=False, highlight=False)
    if answer.citations:
        console.print("\nSources :", style="bold")
        console.print(answer.sources_markdown(), markup=False)
        g = answer.grounding
        console.print(
            f"\nVérification : {g.supported}/{g.total} phrase(s) appuyée(s) par la source citée.",
            style="dim",
        )
    for notice in answer.notices:
        console.print(f"Note : {notice}", style="yellow", markup=False)
    if answer.mode == "llm" and answer.model:
        console.print(f"Rédigé par {answer.model}, vérifié phrase par phrase.", style="dim")


@main.command()
@click.argument("question", required=False)
@click.option(
    "--batch",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="JSON Lines file of {'question': ...} objects (models loaded once).",
)
@click.option(
    "--history",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help='Conversation so far: JSON list of {"question", "answer"}.',
)
@click.option("--json", "as_json", is_flag=True, help="One JSON answer object per question.")
@click.option(
    "--mode",
    type=click.Choice(["auto", "extractive", "llm"]),
    default="auto",
    help="auto: llm when HAS_ASSISTANT_LLM_BACKEND is set, else extractive.",
)
@click.option("--stream", is_flag=True, help="Show the LLM's draft on stderr as it is written.")
@click.pass_context
@handle_errors
def ask(
    ctx: click.Context,
    question: str | None,
    batch: Path | None,
    history: Path | None,
    as_json: bool,
    mode: str,
    stream: bool,
) -> None:
    """Répond à une question à partir des publications de la HAS, avec citations."""
    from assistant.app import Assistant

    if (question is None) == (batch is None):
        raise click.UsageError("give either a QUESTION or --batch FILE")
    turns = _load_history(history)
    questions = _read_batch(batch) if batch else [question or ""]
    assistant = Assistant(_settings(ctx))
    console = _console()

    def draft(token: str) -> None:
        click.echo(token, err=True, nl=False)

    for q in questions:
        answer = assistant.ask(q, turns, mode, draft if stream else None)
        if stream and answer.llm_raw is not None:
            click.echo(
                "\n--- brouillon du modèle ci-dessus ; réponse vérifiée ci-dessous ---", err=True
            )
        if as_json:
            click.echo(json.dumps(answer.to_json(), ensure_ascii=False))
        else:
            _print_answer(console, answer)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=7860, show_default=True, type=int)
@click.pass_context
@handle_errors
def serve(ctx: click.Context, host: str, port: int) -> None:
    """Lance le chat (Gradio) ; indexe le corpus embarqué au premier démarrage."""
    import os

    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    from assistant.app import Assistant
    from assistant.interfaces.ui import serve as launch

    assistant = Assistant(_settings(ctx))
    if assistant.index.info() is None:
        click.echo(
            "Premier démarrage : indexation du corpus embarqué… / first start: indexing "
            "the bundled corpus…",
            err=True,
        )
        bar, update = _progress_bar()
        with bar:
            report = assistant.ensure_index(update)
        if report:
            click.echo(f"Index prêt : {report.total_chunks} passages.", err=True)
    click.echo(f"Chat : http://{host}:{port}  (Ctrl-C pour arrêter)", err=True)
    launch(assistant, host, port)


@main.command("eval")
@click.option(
    "--questions",
    "question_files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Gold set (JSON Lines), repeatable. Default: the questions*.jsonl of --corpus, "
    "else eval/questions.jsonl.",
)
@click.option(
    "--corpus",
    "corpus_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Evaluate on a fresh temporary index of this corpus folder (manifest.toml + "
    "documents/) instead of the current index.",
)
@click.option(
    "--mode",
    type=click.Choice(["extractive", "llm"]),
    default="extractive",
    show_default=True,
    help="llm: the backend of HAS_ASSISTANT_LLM_* (see README).",
)
@click.option(
    "--report",
    "report_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("eval-report"),
    show_default=True,
    help="Folder for results.json, report.md (+ plots/) and report.html.",
)
@click.option(
    "--compare",
    "compare_to",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A previous results.json: show the deltas and the questions that got worse.",
)
@click.option("--baseline", is_flag=True, help="Also run the naive baseline, side by side.")
@click.option(
    "--export-ragas",
    "ragas_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the answers to the answerable questions as a RAGAS dataset (JSON "
    "Lines: user_input, retrieved_contexts, response, reference, reference_contexts) and "
    "FILE.ids.json (the set and id of each line).",
)
@click.option(
    "--pairs",
    "pair_files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Labelled (sentence, passage, supported?) pairs (JSON Lines), repeatable: the "
    "support check is scored on them, per kind of change.",
)
@click.option(
    "--thresholds",
    "thresholds_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Regression gate (TOML). Default: the shipped one (eval/thresholds.toml in the repo).",
)
@click.pass_context
@handle_errors
def evaluate(
    ctx: click.Context,
    question_files: tuple[Path, ...],
    corpus_dir: Path | None,
    mode: str,
    report_dir: Path,
    compare_to: Path | None,
    baseline: bool,
    ragas_path: Path | None,
    pair_files: tuple[Path, ...],
    thresholds_path: Path | None,
) -> None:
    """Évalue les réponses sur des questions de référence ; code de sortie 1 si un seuil de
    eval/thresholds.toml est franchi (exit 1 when a threshold is crossed)."""
    from assistant.evaluation import harness

    question_files = question_files or tuple(harness.default_question_files(corpus_dir))
    sets = harness.load_sets(question_files)
    pairs = harness.load_pair_sets(pair_files)
    total = sum(len(qs) for qs in sets.values())
    done = {"n": 0}
    bar, update = _progress_bar()

    def on_question(name: str, q: Any) -> None:
        update("questions", done["n"], total)
        done["n"] += 1

    with bar:
        outcome = harness.evaluate(
            _settings(ctx),
            sets,
            corpus_dir=corpus_dir,
            mode=mode,
            report_dir=report_dir,
            thresholds_path=thresholds_path or DEFAULT_THRESHOLDS,
            compare_to=compare_to,
            baseline=baseline,
            ragas_path=ragas_path,
            pairs=pairs,
            on_question=on_question,
            on_ingest=update,
        )
        update("questions", total, total)
    _print_eval(_console(), outcome)
    if outcome.failures:
        sys.exit(1)


def _print_eval(console: Console, outcome: Any) -> None:
    from assistant.evaluation.metrics import DEFINITIONS
    from assistant.evaluation.report import fmt

    systems = outcome.results["systems"]
    for name in systems["assistant"]["aggregates"]:
        table = Table(title=f"Gold set {name}")
        table.add_column("metric")
        for system in systems:
            table.add_column(system, justify="right")
        if outcome.comparison:
            table.add_column("Δ", justify="right")
        for metric in DEFINITIONS:
            if metric.startswith("support."):
                continue
            cells = [
                fmt(systems[s]["aggregates"].get(name, {}).get(metric), metric) for s in systems
            ]
            if outcome.comparison:
                d = outcome.comparison["deltas"].get(name, {}).get(metric, {}).get("delta")
                cells.append("—" if d is None else f"{d:+.3f}")
            table.add_row(metric, *cells)
        console.print(table)
    for name, data in outcome.results.get("support", {}).items():
        table = Table(title=f"Support check, labelled pairs {name}")
        table.add_column("metric / kind of pair")
        table.add_column("value", justify="right")
        for metric, value in data["aggregates"].items():
            table.add_row(metric, fmt(value, metric))
        for kind, v in data["by_kind"].items():
            table.add_row(f"  {kind} (n={v['n']})", fmt(v["right"], "support.accuracy"))
        console.print(table)
    if outcome.comparison:
        for caveat in outcome.comparison["caveats"]:
            console.print(f"[yellow]Caution:[/] {caveat}")
    if outcome.comparison and outcome.comparison["worse"]:
        console.print(f"{len(outcome.comparison['worse'])} question(s) got worse:")
        for w in outcome.comparison["worse"]:
            console.print(f"  {w['set']} {w['id']}: {'; '.join(w['changes'])}")
    for path in outcome.files:
        console.print(f"wrote {path}")
    if outcome.failures:
        console.print("[bold red]FAILED[/] thresholds crossed:")
        for failure in outcome.failures:
            console.print(f"  {failure}")
    else:
        console.print("[bold green]PASSED[/] no threshold crossed")


def _export(ctx: click.Context, table: str, target: Path) -> int:
    """One table of the records database to CSV; returns the number of rows."""
    from assistant.records.database import open_records
    from assistant.records.table import RecordTable

    settings = _settings(ctx)
    return RecordTable(open_records(settings.records_url, settings.home), table).export_csv(target)


@main.group()
def feedback() -> None:
    """Avis des utilisateurs sur les réponses."""


@feedback.command("export")
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path), default="feedback.csv")
@click.pass_context
@handle_errors
def feedback_export(ctx: click.Context, target: Path) -> None:
    """Exporte les avis en CSV (question, réponse, sources, mode, modèle, version du corpus)."""
    count = _export(ctx, "feedback", target)
    click.echo(f"{count} avis exporté(s) dans {target}")


@main.group()
def audit() -> None:
    """Journal des questions et réponses (questions expurgées des données patient)."""


@audit.command("export")
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path), default="audit.csv")
@click.pass_context
@handle_errors
def audit_export(ctx: click.Context, target: Path) -> None:
    """Exporte le journal en CSV (date, version du corpus, mode, modèle, citations, score)."""
    count = _export(ctx, "audit", target)
    click.echo(f"{count} entrée(s) exportée(s) dans {target}")
