"""A small load on a real `has-assistant serve`: concurrent users through gradio_client, with
the functions of eval/bench_load.py (the full run is `python eval/bench_load.py`)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from assistant.evaluation.metrics import percentile

from conftest import load_bench

BENCH = Path(__file__).resolve().parent.parent / "eval" / "bench_load.py"
USERS, PER_USER = 6, 2
REASONS = {"unsafe_request", "out_of_scope", "no_evidence"}


bench_load = load_bench()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    server = bench_load.start_server(tmp_path_factory.mktemp("load-home"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def load(server):
    # every 5th gold question from the 11th: factual, paraphrases, multi-passage, unanswerable,
    # out of scope and injection questions, one different question per request
    questions = bench_load.load_questions()[10::5]
    assert len(questions) == USERS * PER_USER
    return bench_load.run_load(server.url, USERS, PER_USER, questions)


def test_no_errors_and_every_answer_is_cited_or_a_reasoned_refusal(load, server):
    assert load.errors == []
    assert len(load.answers) == USERS * PER_USER and load.requests == 2 * USERS * PER_USER
    assert len({a["id"] for a in load.answers}) == USERS * PER_USER
    refusals = 0
    for exchange in load.exchanges:
        answer = exchange.answer
        assert answer["question"] == exchange.question  # no cross-talk between users
        if answer["refused"]:
            refusals += 1
            assert answer["refusal_reason"] in REASONS and answer["answer"]
        else:
            assert answer["citations"] and answer["grounding"]["score"] == 1.0
    assert 0 < refusals < len(load.answers)  # the selection holds both kinds
    assert "Traceback" not in server.log.read_text()


def test_every_answer_has_one_audit_row_and_every_feedback_its_row(load, server):
    rows = bench_load.check_databases(bench_load.records_url(server.home), load)
    n = USERS * PER_USER
    assert rows == bench_load.RowCheck(n, n, n, n) and rows.complete
    records = server.home / "records.sqlite3"
    assert sum(bench_load.rows_per_answer(f"sqlite:///{records}", "audit").values()) == n
    with sqlite3.connect(records) as db:
        stored = dict(
            (answer_id, (useful, comment, question))
            for answer_id, useful, comment, question in db.execute(
                "SELECT answer_id, useful, comment, question FROM feedback"
            )
        )
    assert len(stored) == n
    for e in load.exchanges:  # each feedback landed on the answer it was about
        useful, comment, question = stored[e.answer["id"]]
        assert useful == (e.user % 2 == 0)
        assert comment == f"Avis fictif de test de charge (utilisateur {e.user})"
        assert question == e.question
    text = bench_load.report(load, rows, USERS, PER_USER, 4)
    assert "errors: 0" in text and f"feedback rows: {n}/{n}, audit rows: {n}/{n}" in text
    assert f"requests: {2 * n}" in text and "/ask latency: p50" in text


def test_the_row_check_notices_a_missing_row(load, server):
    ids = [a["id"] for a in load.answers]
    rows = bench_load.count_rows(
        bench_load.records_url(server.home), [*ids, "absent"], [*ids, "absent"]
    )
    assert rows.audit_found == len(ids) and rows.audit_expected == len(ids) + 1
    assert rows.feedback_found == len(ids) and not rows.complete


def test_the_bench_reports_the_one_percentile_of_the_project():
    """The benchmark's p50/p95 are the evaluation report's: linear interpolation between
    closest ranks (numpy's default), not a second hand-written definition."""
    values = [float(v) for v in range(1, 21)]
    assert bench_load.percentile is percentile
    assert bench_load.percentile(values, 50) == 10.5
    assert bench_load.percentile(values, 95) == pytest.approx(19.05)
    assert bench_load.percentile([3.0], 95) == 3.0
