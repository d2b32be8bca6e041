"""Load test of the chat server: concurrent users through its named API (gradio_client).

    python eval/bench_load.py [--users 20] [--questions-per-user 3] [--max-concurrency 4]
                              [--questions eval/questions.jsonl]

Starts a real `has-assistant serve` on 127.0.0.1 (a free port) with HAS_ASSISTANT_HOME set to
a fresh temporary dir (the first start indexes the bundled corpus) and waits until it answers.
Then N users run at once, one `gradio_client.Client` each in its own thread: each asks a few
questions of the gold set through `/ask` and sends one feedback per answer through
`/feedback`. Prints the number of requests, the errors (grouped by message), `/ask` latency
p50 / p95 / max (seen by the client, queue wait included), the throughput (answers per second
of wall time, clients' connection included), then reads the SQLite feedback and audit
databases back: every answer must have exactly one audit row and every feedback its row.
Exit code 1 on any error or missing row. The server is always stopped, Ctrl-C included.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from assistant.evaluation.metrics import percentile

QUESTIONS = Path(__file__).resolve().parent / "questions.jsonl"
DEFAULT_CONCURRENCY = 4  # HAS_ASSISTANT_MAX_CONCURRENCY's default (assistant/settings.py)


# --------------------------------------------------------------------------- the server


@dataclass
class Server:
    """A running `has-assistant serve` subprocess."""

    proc: subprocess.Popen
    url: str
    home: Path
    log: Path

    def stop(self) -> None:
        """Terminate the server (kill it if it does not exit within 30 s)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)


def free_port() -> int:
    """A TCP port free on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def has_assistant_command() -> list[str]:
    """The installed console script next to this interpreter (else on PATH, else -m)."""
    beside = Path(sys.executable).parent / "has-assistant"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("has-assistant")
    return [found] if found else [sys.executable, "-m", "assistant"]


def start_server(
    home: Path,
    max_concurrency: int | None = None,
    timeout_s: float = 300,
    env_extra: dict[str, str] | None = None,
) -> Server:
    """Start `has-assistant serve` on a free port with ``home`` as data dir (and ``env_extra``,
    e.g. a shared Chroma server and database); return once the server answers HTTP (the first
    start indexes the bundled corpus first)."""
    home.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = {
        **os.environ,
        "HAS_ASSISTANT_HOME": str(home),
        "GRADIO_ANALYTICS_ENABLED": "False",
        "ANONYMIZED_TELEMETRY": "False",
        **(env_extra or {}),
    }
    if max_concurrency is not None:
        env["HAS_ASSISTANT_MAX_CONCURRENCY"] = str(max_concurrency)
    log = home / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [*has_assistant_command(), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Server(proc, f"http://127.0.0.1:{port}/", home, log)
    try:
        wait_until_up(server, timeout_s)
    except BaseException:  # timeout, early exit or Ctrl-C: never leave the server running
        server.stop()
        raise
    return server


def start_chroma(folder: Path, timeout_s: float = 60) -> tuple[subprocess.Popen, str]:
    """A `chroma run` server on a free port of 127.0.0.1, its data in ``folder``."""
    exe = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    port = free_port()
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    proc = subprocess.Popen(
        [exe, "run", "--path", str(folder), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200:
                return proc, url
        except httpx.TransportError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("chroma run did not start")


def shared_env(chroma_url: str, database_url: str) -> dict[str, str]:
    """What makes several replicas one deployment: one index server, one database."""
    return {"HAS_ASSISTANT_CHROMA_URL": chroma_url, "HAS_ASSISTANT_DATABASE_URL": database_url}


def answerable_on(url: str, question: str, doc_id: str, timeout_s: float) -> float | None:
    """Seconds until replica ``url`` answers ``question`` citing ``doc_id`` (None: never)."""
    from gradio_client import Client

    client = Client(url, verbose=False)
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        answer = client.predict(question, api_name="/ask")
        if any(c["doc_id"] == doc_id for c in answer["citations"]):
            return time.monotonic() - started
        time.sleep(0.5)
    return None


def wait_until_up(server: Server, timeout_s: float) -> None:
    """Poll the server's page until it answers 200 (RuntimeError if it exits or times out)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(
                f"serve exited with code {server.proc.returncode}:\n{server.log.read_text()}"
            )
        try:
            if httpx.get(server.url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"serve did not answer within {timeout_s:.0f} s:\n{server.log.read_text()}")


# --------------------------------------------------------------------------- the users


@dataclass
class Exchange:
    """One question of one user: the answer object (or the error) and the `/ask` latency."""

    user: int
    question: str
    answer: dict[str, Any] | None = None
    ask_s: float | None = None
    feedback_sent: bool = False
    errors: list[str] = field(default_factory=list)


@dataclass
class LoadResult:
    exchanges: list[Exchange]
    wall_s: float

    @property
    def answers(self) -> list[dict[str, Any]]:
        return [e.answer for e in self.exchanges if e.answer is not None]

    @property
    def errors(self) -> list[str]:
        return [err for e in self.exchanges for err in e.errors]

    @property
    def requests(self) -> int:
        """HTTP API calls made: one `/ask` per question, one `/feedback` per answer."""
        return len(self.exchanges) + sum(e.feedback_sent for e in self.exchanges)


def load_questions(path: Path = QUESTIONS) -> list[str]:
    """The `question` field of every line of a JSON Lines gold set."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["question"] for line in lines if line.strip()]


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".strip()


def ask_with_feedback(client: Any, user: int, question: str) -> Exchange:
    """Ask ``question`` through `/ask`, then send feedback on the answer through `/feedback`
    (alternately useful / not useful, with a comment naming the user)."""
    exchange = Exchange(user, question)
    started = time.perf_counter()
    try:
        exchange.answer = client.predict(question, api_name="/ask")
    except Exception as exc:  # gradio_client raises bare errors; they are counted, not fatal
        exchange.errors.append(f"/ask: {_describe(exc)}")
        return exchange
    finally:
        exchange.ask_s = time.perf_counter() - started
    answer_id = exchange.answer["id"]
    comment = f"Avis fictif de test de charge (utilisateur {user})"
    try:
        message = client.predict(answer_id, user % 2 == 0, comment, api_name="/feedback")
        exchange.feedback_sent = True
        if "enregistré" not in message:
            exchange.errors.append(f"/feedback: unexpected reply {message!r}")
    except Exception as exc:
        exchange.errors.append(f"/feedback: {_describe(exc)}")
    return exchange


def run_user(url: str, user: int, questions: list[str], out: list[Exchange]) -> None:
    """One user: its own Client, its questions one after the other (results into ``out``)."""
    from gradio_client import Client

    try:
        client = Client(url, verbose=False)
    except Exception as exc:
        out.extend(Exchange(user, q, errors=[f"Client: {_describe(exc)}"]) for q in questions)
        return
    for question in questions:
        out.append(ask_with_feedback(client, user, question))


def run_load(
    url: str | Sequence[str], users: int, questions_per_user: int, questions: list[str]
) -> LoadResult:
    """``users`` concurrent users (one thread each), each asking ``questions_per_user``
    questions taken in turn from ``questions`` (different users get different questions);
    with several replica URLs, user ``i`` uses replica ``i mod n``."""
    urls = [url] if isinstance(url, str) else list(url)
    per_user: list[list[Exchange]] = [[] for _ in range(users)]
    threads = []
    for user in range(users):
        mine = [
            questions[(user * questions_per_user + i) % len(questions)]
            for i in range(questions_per_user)
        ]
        threads.append(
            threading.Thread(
                target=run_user,
                args=(urls[user % len(urls)], user, mine, per_user[user]),
                daemon=True,
            )
        )
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()  # Ctrl-C interrupts this; the daemon threads die with the process
    wall = time.perf_counter() - started
    return LoadResult([e for exchanges in per_user for e in exchanges], wall)


# --------------------------------------------------------------------------- the databases


@dataclass
class RowCheck:
    """How many answers / feedbacks have exactly one row in the audit / feedback database."""

    feedback_found: int
    feedback_expected: int
    audit_found: int
    audit_expected: int

    @property
    def complete(self) -> bool:
        return (
            self.feedback_found == self.feedback_expected
            and self.audit_found == self.audit_expected
        )

    def line(self) -> str:
        return (
            f"feedback rows: {self.feedback_found}/{self.feedback_expected}, "
            f"audit rows: {self.audit_found}/{self.audit_expected}"
        )


def rows_per_answer(url: str, table: str) -> Counter[str]:
    """answer id → number of rows in ``table`` of the records database at ``url``."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as db:
            rows = db.execute(text(f"SELECT answer_id, COUNT(*) FROM {table} GROUP BY answer_id"))
            return Counter({answer_id: n for answer_id, n in rows})
    finally:
        engine.dispose()


def records_url(home: Path) -> str:
    """The records database of a server started with ``home`` (Settings.records_url)."""
    from assistant.settings import load_settings

    return load_settings(home=home).records_url


def count_rows(url: str, answer_ids: list[str], feedback_ids: list[str]) -> RowCheck:
    """Check the records database at ``url``: each answer id exactly one audit row, each
    feedback sent exactly one feedback row."""
    audit = rows_per_answer(url, "audit")
    feedback = rows_per_answer(url, "feedback")
    return RowCheck(
        feedback_found=sum(feedback[i] == 1 for i in feedback_ids),
        feedback_expected=len(feedback_ids),
        audit_found=sum(audit[i] == 1 for i in answer_ids),
        audit_expected=len(answer_ids),
    )


def check_databases(url: str, result: LoadResult) -> RowCheck:
    """``count_rows`` for every answer and feedback the users got back."""
    answer_ids = [a["id"] for a in result.answers]
    feedback_ids = [e.answer["id"] for e in result.exchanges if e.answer and e.feedback_sent]
    return count_rows(url, answer_ids, feedback_ids)


# --------------------------------------------------------------------------- the report


def report(result: LoadResult, rows: RowCheck, users: int, per_user: int, concurrency: int) -> str:
    """The figures, as printed."""
    latencies = [e.ask_s for e in result.exchanges if e.ask_s is not None and e.answer]
    refused = sum(bool(a.get("refused")) for a in result.answers)
    lines = [
        f"users: {users} × {per_user} questions, HAS_ASSISTANT_MAX_CONCURRENCY={concurrency}",
        f"requests: {result.requests} ({len(result.exchanges)} /ask, "
        f"{sum(e.feedback_sent for e in result.exchanges)} /feedback)",
        f"answers: {len(result.answers)} ({refused} refusals)",
        f"errors: {len(result.errors)}",
    ]
    for message, n in Counter(result.errors).most_common():
        lines.append(f"  {n} × {message}")
    if latencies:
        lines.append(
            f"/ask latency: p50 {percentile(latencies, 50):.2f} s, "
            f"p95 {percentile(latencies, 95):.2f} s, max {max(latencies):.2f} s"
        )
    lines.append(
        f"throughput: {len(result.answers) / result.wall_s:.2f} answers/s "
        f"({len(result.answers)} answers in {result.wall_s:.1f} s wall time)"
    )
    lines.append(rows.line())
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--questions-per-user", type=int, default=3)
    parser.add_argument(
        "--max-concurrency",
        type=int,
        default=None,
        help="HAS_ASSISTANT_MAX_CONCURRENCY for the server (default: the environment's, or 4)",
    )
    parser.add_argument("--questions", type=Path, default=QUESTIONS)
    parser.add_argument(
        "--replicas",
        action="store_true",
        help="one replica, then two, on one `chroma run` server and one records database, in "
        "the same run; then the time for a document ingested through one replica to be "
        "answerable on the other",
    )
    parser.add_argument(
        "--database-url", help="with --replicas: the shared database (default: a SQLite file)"
    )
    args = parser.parse_args(argv)
    concurrency = args.max_concurrency or int(
        os.environ.get("HAS_ASSISTANT_MAX_CONCURRENCY", DEFAULT_CONCURRENCY)
    )
    questions = load_questions(args.questions)
    if args.replicas:
        return compare_replicas(args, questions, concurrency)
    with tempfile.TemporaryDirectory(prefix="has-load-") as tmp:
        home = Path(tmp) / "home"
        print(f"starting has-assistant serve (data dir {home}, first start indexes)…", flush=True)
        started = time.perf_counter()
        try:
            server = start_server(home, concurrency)  # stops the server itself on failure
            try:
                print(f"server ready at {server.url} in {time.perf_counter() - started:.1f} s")
                print(f"{args.users} users × {args.questions_per_user} questions…", flush=True)
                result = run_load(server.url, args.users, args.questions_per_user, questions)
            finally:
                server.stop()
        except KeyboardInterrupt:
            print("interrupted: server stopped", file=sys.stderr)
            return 130
        rows = check_databases(records_url(home), result)
        print(report(result, rows, args.users, args.questions_per_user, concurrency))
    return 0 if not result.errors and rows.complete else 1


PROPAGATION_DOC = """# Note fictive de test de propagation

Document fictif pour les tests - ce n'est pas une publication de la HAS.

Le protocole fictif Orvanelle impose une revue trimestrielle des alertes de l'outil de tri.
"""
PROPAGATION_QUESTION = "Quelle revue impose le protocole fictif Orvanelle ?"


def compare_replicas(args: argparse.Namespace, questions: list[str], concurrency: int) -> int:
    """The same load against one replica, then two (same machine, same run), all on one
    Chroma server and one records database; then the propagation of a new document."""
    with tempfile.TemporaryDirectory(prefix="has-replicas-") as tmp:
        root = Path(tmp)
        chroma, chroma_url = start_chroma(root / "chroma")
        env = shared_env(chroma_url, args.database_url or f"sqlite:///{root / 'records.sqlite3'}")
        servers: list[Server] = []
        failed = False
        try:
            for n in (1, 2):
                while len(servers) < n:
                    home = root / f"replica-{len(servers)}"
                    servers.append(start_server(home, concurrency, env_extra=env))
                urls = [s.url for s in servers]
                print(f"== {n} replica(s): {args.users} users × {args.questions_per_user}")
                result = run_load(urls, args.users, args.questions_per_user, questions)
                rows = check_databases(env["HAS_ASSISTANT_DATABASE_URL"], result)
                print(report(result, rows, args.users, args.questions_per_user, concurrency))
                failed |= bool(result.errors) or not rows.complete
            extra = root / "extra"
            extra.mkdir()
            (extra / "note-propagation-fictive.md").write_text(PROPAGATION_DOC, "utf-8")
            ingest = subprocess.run(
                [*has_assistant_command(), "ingest", str(extra)],
                env={**os.environ, "HAS_ASSISTANT_HOME": str(servers[0].home), **env},
                capture_output=True,
                text=True,
            )
            if ingest.returncode:
                print(ingest.stdout + ingest.stderr, file=sys.stderr)
                return 1
            seconds = answerable_on(
                servers[1].url, PROPAGATION_QUESTION, "note-propagation-fictive", 60
            )
            print(
                "== a document ingested through replica 1's data dir: answerable on replica 2 "
                + (f"after {seconds:.1f} s" if seconds is not None else "NOT within 60 s")
            )
            failed |= seconds is None
        finally:
            for server in servers:
                server.stop()
            chroma.terminate()
            chroma.wait(timeout=30)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
