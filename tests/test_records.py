"""The records database — feedback, audit trail, ingest lock — on a SQLite file (the default)
and on a real PostgreSQL server started by the tests: the same behaviour on both."""

from __future__ import annotations

import csv
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from assistant.contract import Answer, Citation, GroundingReport, PrivacyReport, Verdict
from assistant.errors import ConfigError
from assistant.records.audit import AuditTrail
from assistant.records.database import Database, IngestBusyError, database, open_records
from assistant.records.feedback import FeedbackStore


def an_answer(question: str = "Quels sont les axes ?", **fields) -> Answer:
    """A fictitious answer object (the text is not HAS content)."""
    citation = Citation(
        n=1,
        doc_id="doc-fictif",
        title="Document fictif",
        url=None,
        page=None,
        section="Section fictive",
        quote="Passage fictif.",
        chunk_id="c1",
    )
    verdict = Verdict(sentence="« Passage fictif. » [1]", markers=(1,), supported=True, reason="ok")
    return Answer(
        question=question,
        answer="« Passage fictif. » [1]",
        citations=[citation],
        grounding=GroundingReport(verdicts=(verdict,)),
        corpus_version="v-fictive",
        timings_ms={"total": 12.5},
        **fields,
    )


def test_feedback_rows_and_csv_export(records_url: str, tmp_path: Path):
    store = FeedbackStore(database(records_url))
    answer = an_answer()
    first = store.add(answer, True, "  Très utile  ")
    second = store.add(answer, False, '=HYPERLINK("http://x") mon patient Jean Dupont')
    assert second == first + 1
    rows = store.rows()
    assert [r["useful"] for r in rows] == [1, 0]
    assert rows[0]["comment"] == "Très utile" and rows[0]["answer_id"] == answer.id
    assert rows[0]["grounding_score"] == 1.0 and "doc-fictif" in rows[0]["sources"]
    assert "Dupont" not in rows[1]["comment"]  # the patient-data guard ran on the comment
    target = tmp_path / "feedback.csv"
    assert store.export_csv(target) == 2
    exported = list(csv.DictReader(target.open(encoding="utf-8-sig")))
    assert list(exported[0]) == store.columns
    assert exported[1]["comment"].startswith("'=")  # a formula is shown, never run


def test_audit_rows_and_retention(records_url: str):
    trail = AuditTrail(database(records_url), retention_days=30)
    old = (datetime.now(UTC) - timedelta(days=40)).isoformat(timespec="seconds")
    trail.insert({"created_at": old, "question": "ancienne", "answer": "r", "refused": 0,
                  "sources": "[]"})  # fmt: skip
    trail.record(an_answer(privacy=PrivacyReport(detected=["nom"], redacted_question="q")))
    trail.record(an_answer("Quelle dose pour mon patient ?", refused=True,
                           refusal_reason="out_of_scope"))  # fmt: skip
    rows = trail.rows()
    assert [r["question"] for r in rows] == [
        "Quels sont les axes ?",
        "Quelle dose pour mon patient ?",
    ]
    assert rows[0]["privacy_detected"] == "nom" and rows[0]["total_ms"] == 12.5
    assert rows[1]["refused"] == 1 and rows[1]["refusal_reason"] == "out_of_scope"


def test_replicas_starting_together_create_the_schema_once(records_url: str):
    """Four processes' worth of first opens at once (fresh engines, not the cached one):
    no error, one schema, rows written through any of them read back by all."""
    errors: list[BaseException] = []
    opened: list[Database] = []

    def start() -> None:
        try:
            opened.append(Database(records_url))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(opened) == 4
    FeedbackStore(opened[0]).add(an_answer(), True)
    assert all(len(FeedbackStore(db).rows()) == 1 for db in opened)


def test_a_second_ingest_waits_for_the_first_then_names_its_holder(records_url: str):
    db = database(records_url)
    told: list[str] = []
    with db.ingest_lock(wait_s=5):
        second = Database(records_url).ingest_lock(wait_s=0.6, on_wait=told.append)
        with pytest.raises(IngestBusyError) as busy, second:
            pass
        assert "has-assistant@" in str(busy.value) and "another ingest is running" in str(
            busy.value
        )
        assert told and "has-assistant@" in told[0]
    with Database(records_url).ingest_lock(wait_s=0.6):  # free again once released
        pass


def test_the_ingest_lock_dies_with_its_process(records_url: str, tmp_path: Path):
    """A killed ingest never leaves the lock behind (a session lock, or an OS file lock)."""
    code = (
        "import sys, time\n"
        "from assistant.records.database import database\n"
        "with database(sys.argv[1]).ingest_lock(wait_s=5):\n"
        "    print('held', flush=True)\n"
        "    time.sleep(60)\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code, records_url], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(IngestBusyError), Database(records_url).ingest_lock(wait_s=0.3):
            pass
    finally:
        holder.kill()
        holder.wait()
    started = time.monotonic()
    with Database(records_url).ingest_lock(wait_s=10):
        assert time.monotonic() - started < 10


def test_rows_of_an_earlier_versions_sqlite_files_are_imported_once(tmp_path: Path):
    home = tmp_path / "home"
    home.mkdir()
    old = sqlite3.connect(home / "feedback.sqlite3")
    old.execute(
        "CREATE TABLE feedback (id INTEGER PRIMARY KEY AUTOINCREMENT, created_at TEXT NOT NULL,"
        " answer_id TEXT, useful INTEGER NOT NULL, comment TEXT, question TEXT NOT NULL,"
        " answer TEXT NOT NULL, sources TEXT NOT NULL, mode TEXT, model TEXT,"
        " corpus_version TEXT, refusal_reason TEXT, grounding_score REAL)"
    )
    old.execute(
        "INSERT INTO feedback (created_at, answer_id, useful, comment, question, answer, sources)"
        " VALUES ('2026-01-02T03:04:05+00:00', 'a1', 1, 'ancien avis', 'q', 'r', '[]')"
    )
    old.commit()
    old.close()
    db = open_records(f"sqlite:///{home / 'records.sqlite3'}", home)
    rows = FeedbackStore(db).rows()
    assert [(r["answer_id"], r["comment"]) for r in rows] == [("a1", "ancien avis")]
    assert not (home / "feedback.sqlite3").exists()
    assert (home / "feedback.sqlite3.imported").exists()  # kept, renamed


def test_an_unreachable_database_is_a_clear_error_without_its_password():
    url = "postgresql+psycopg://has:s3cret-pw@127.0.0.1:1/has"
    with pytest.raises(ConfigError) as error:
        Database(url)
    message = str(error.value)
    assert "records database unreachable" in message and "HAS_ASSISTANT_DATABASE_URL" in message
    assert "s3cret-pw" not in message


def test_health_says_unavailable_when_the_database_goes_away(bundled, postgres):
    """/healthz's report on a real PostgreSQL that is dropped while the server runs."""
    import psycopg

    from assistant.app import Assistant
    from assistant.interfaces.ui import health
    from assistant.settings import load_settings

    url = postgres()
    settings = load_settings(home=bundled.settings.home, database_url=url)
    assistant = Assistant(settings, bundled.embedder)
    report = health(assistant)
    assert report["status"] == "ok" and report["database"]["reachable"]
    assert report["index"]["chunks"] == bundled.index.info().n_chunks
    name = url.rsplit("/", 1)[1]
    admin = url.replace("postgresql+psycopg://", "postgresql://").rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as db:
        db.execute(f"DROP DATABASE {name} WITH (FORCE)")
    report = health(assistant)
    assert report["status"] == "unavailable" and not report["database"]["reachable"]
    assert report["index"]["reachable"]  # the index is not the database
