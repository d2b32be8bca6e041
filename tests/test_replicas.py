"""Serving a hospital group: two `has-assistant serve` replicas on one real `chroma run` server
and one real PostgreSQL, all started on 127.0.0.1 by the tests. Every document added here is
fictitious and says so."""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import FICTITIOUS, console_script, load_bench

bench_load = load_bench()


@dataclass
class Cluster:
    a: object  # bench_load.Server
    b: object
    env: dict[str, str]
    root: Path

    @property
    def database_url(self) -> str:
        return self.env["HAS_ASSISTANT_DATABASE_URL"]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, postgres):
    root = tmp_path_factory.mktemp("cluster")
    chroma, chroma_url = bench_load.start_chroma(root / "chroma")
    env = bench_load.shared_env(chroma_url, postgres())
    servers = []
    try:
        # replica A's first start indexes the bundled corpus into the shared server; B finds
        # it there
        servers.append(bench_load.start_server(root / "a", env_extra=env))
        servers.append(bench_load.start_server(root / "b", env_extra=env))
        yield Cluster(servers[0], servers[1], env, root)
    finally:
        for server in servers:
            server.stop()
        chroma.terminate()
        chroma.wait(timeout=30)


def answer_events(log: Path) -> list[dict]:
    lines = [line for line in log.read_text().splitlines() if '"event": "answer"' in line]
    return [json.loads(line[line.index("{") :]) for line in lines]


def test_twenty_users_over_two_replicas_every_row_once_in_the_shared_database(cluster):
    questions = bench_load.load_questions()[:20]
    result = bench_load.run_load([cluster.a.url, cluster.b.url], 20, 1, questions)
    assert not result.errors, result.errors
    assert len(result.answers) == 20
    rows = bench_load.check_databases(cluster.database_url, result)
    assert rows == bench_load.RowCheck(20, 20, 20, 20) and rows.complete
    served = {e["answer_id"]: "a" for e in answer_events(cluster.a.log)}
    served |= {e["answer_id"]: "b" for e in answer_events(cluster.b.log)}
    assert {served[a["id"]] for a in result.answers} == {"a", "b"}  # both replicas answered


def test_an_upload_on_replica_a_is_answerable_on_replica_b_within_10_s(cluster, browser):
    doc = cluster.root / "note-replique-fictive.md"
    doc.write_text(
        f"# Note fictive de test de réplique\n\n{FICTITIOUS}\n\n"
        "Le protocole fictif Belvarande impose une double lecture des alertes de l'outil.\n",
        encoding="utf-8",
    )
    page = browser.new_page()
    try:
        page.goto(cluster.a.url)
        page.get_by_role("tab", name="Corpus").click()
        page.locator("#upload-file input[type=file]").set_input_files(str(doc))
        page.locator("#add-document").click()
        page.locator("#upload-status").get_by_text("✅").wait_for(timeout=120_000)
    finally:
        page.close()
    seconds = bench_load.answerable_on(
        cluster.b.url,
        "Que impose le protocole fictif Belvarande ?",
        "note-replique-fictive",
        timeout_s=10,
    )
    assert seconds is not None, "replica B did not answer from the new document within 10 s"
    page = browser.new_page()  # and B's corpus list shows it, without a restart
    try:
        page.goto(cluster.b.url)
        page.get_by_role("tab", name="Corpus").click()
        page.get_by_text("Note fictive de test de réplique").first.wait_for(timeout=30_000)
    finally:
        page.close()


def test_two_ingests_at_once_are_serialised_and_the_index_stays_consistent(cluster, tmp_path):
    folder = tmp_path / "fictifs"
    folder.mkdir()
    for i in range(6):
        (folder / f"fiche-fictive-{i}.md").write_text(
            f"# Fiche fictive {i}\n\n{FICTITIOUS}\n\n"
            + "\n\n".join(
                f"Paragraphe fictif {j} de la fiche {i} sur le circuit fictif Tessarine."
                for j in range(30)
            ),
            encoding="utf-8",
        )
    runs = []
    for name in ("c", "d"):
        env = {**os.environ, "HAS_ASSISTANT_HOME": str(tmp_path / name), **cluster.env}
        runs.append(
            subprocess.Popen(
                [console_script(), "ingest", str(folder)],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    outputs = [run.communicate(timeout=600) for run in runs]
    assert all(run.returncode == 0 for run in runs), outputs
    assert any("Un autre import est en cours" in err for _out, err in outputs), outputs
    from assistant.app import Assistant
    from assistant.settings import load_settings

    settings = load_settings(
        home=tmp_path / "check",
        chroma_url=cluster.env["HAS_ASSISTANT_CHROMA_URL"],
        database_url=cluster.database_url,
    )
    documents = {d["doc_id"]: d for d in Assistant(settings).opened.documents()}
    fiches = [d for d in documents if d.startswith("fiche-fictive-")]
    assert sorted(fiches) == [f"fiche-fictive-{i}" for i in range(6)]  # each once
    added = sorted(re.search(r"added: (\d+)", out).group(1) for out, _err in outputs)
    assert added == ["0", "6"]  # the second waited, then found them indexed
    # replica A's upload (previous test) is not in these data dirs: kept, not removed
    assert "note-replique-fictive" in documents
    assert all("added through another data dir" in out for out, _err in outputs)


def test_killing_replica_a_mid_load_loses_no_acknowledged_row(cluster):
    """Last in this module: replica A is killed (SIGKILL) while users are asking."""
    questions = bench_load.load_questions()[20:44]
    before = len(answer_events(cluster.a.log))
    done: list = []
    load = threading.Thread(
        target=lambda: done.append(
            bench_load.run_load([cluster.a.url, cluster.b.url], 8, 3, questions)
        )
    )
    load.start()
    deadline = time.monotonic() + 120
    while len(answer_events(cluster.a.log)) < before + 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    cluster.a.proc.kill()
    load.join(timeout=600)
    [result] = done
    on_b = [e for e in result.exchanges if e.user % 2 == 1]
    assert on_b and all(e.answer and not e.errors for e in on_b)  # B kept answering
    rows = bench_load.check_databases(cluster.database_url, result)
    assert rows.audit_found == rows.audit_expected == len(result.answers)
    assert rows.feedback_found == rows.feedback_expected
