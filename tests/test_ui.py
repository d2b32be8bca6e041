"""The chat as users meet it: a real `has-assistant serve`, driven through gradio_client and
a real headless Chromium (Debian's chromium, driven by the playwright package)."""

from __future__ import annotations

import csv
import os
import sqlite3
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from conftest import console_script, free_port, has_assistant

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"


def start_serve(
    home: Path, env_extra: dict[str, str] | None = None
) -> tuple[subprocess.Popen, str, Path]:
    port = free_port()
    log = home / "serve.log"
    home.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "HAS_ASSISTANT_HOME": str(home),
        "GRADIO_ANALYTICS_ENABLED": "False",
        **(env_extra or {}),
    }
    proc = subprocess.Popen(
        [console_script(), "serve", "--port", str(port)],
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"serve exited: {log.read_text()}")
        try:
            if httpx.get(url, timeout=2).status_code in (200, 401):
                return proc, url, log
        except httpx.TransportError:
            time.sleep(0.5)
    proc.kill()
    pytest.fail("serve did not start within 180 s")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("serve-home")
    limits = {"HAS_ASSISTANT_MAX_UPLOAD_MB": "2", "GRADIO_TEMP_DIR": str(home / "gradio-tmp")}
    proc, url, log = start_serve(home, limits)
    yield url, home, log
    proc.terminate()
    proc.wait(timeout=30)


def test_first_start_indexes_the_bundled_corpus_and_binds_localhost(server):
    url, _home, log = server
    text = log.read_text()
    assert "Premier démarrage : indexation du corpus embarqué" in text
    assert "Index prêt" in text
    assert url.startswith("http://127.0.0.1:")


def test_healthz_and_one_json_log_line_per_answer_without_the_question(server):
    """Operations: /healthz (no login) says the index and the database are reachable; each
    answer is one JSON line in the server log, with no question text and no patient data."""
    import json

    from gradio_client import Client

    url, _home, log = server
    health = httpx.get(url + "healthz", timeout=30)
    assert health.status_code == 200 and health.headers["content-type"] == "application/json"
    report = health.json()
    assert report["status"] == "ok" and report["database"]["reachable"]
    assert report["index"]["reachable"] and report["index"]["chunks"] > 0
    assert report["index"]["corpus_version"] and report["replica"].startswith("has-assistant@")
    question = "Pour Mme Lucienne Fictivelle, quels sont les trois axes du cadre de confiance ?"
    answer = Client(url, verbose=False).predict(question, api_name="/ask")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        lines = [line for line in log.read_text().splitlines() if '"event": "answer"' in line]
        events = [json.loads(line[line.index("{") :]) for line in lines]
        if any(e["answer_id"] == answer["id"] for e in events):
            break
        time.sleep(0.2)
    event = next(e for e in events if e["answer_id"] == answer["id"])
    assert event["patient_data_removed"] and event["citations"] == len(answer["citations"])
    assert event["corpus_version"] == answer["corpus_version"] and event["total_ms"] > 0
    text = log.read_text()
    assert "Fictivelle" not in text and "trois axes du cadre" not in text


def test_gradio_client_ask_then_feedback_read_back_from_the_database(server, tmp_path):
    from gradio_client import Client

    url, home, _ = server
    client = Client(url, verbose=False)
    answer = client.predict("Quels sont les trois axes du cadre de confiance ?", api_name="/ask")
    assert not answer["refused"] and answer["citations"]
    assert answer["citations"][0]["doc_id"] == "p_3363066"
    assert answer["grounding"]["score"] == 1.0
    message = client.predict(
        answer["id"], False, "Je voulais plus de détails", api_name="/feedback"
    )
    assert "enregistré" in message
    with sqlite3.connect(home / "records.sqlite3") as db:
        rows = db.execute(
            "SELECT question, useful, comment, mode, corpus_version, sources FROM feedback"
        ).fetchall()
    assert rows[-1][:4] == (
        "Quels sont les trois axes du cadre de confiance ?",
        0,
        "Je voulais plus de détails",
        "extractive",
    )
    assert rows[-1][4] == answer["corpus_version"] and "p_3363066" in rows[-1][5]
    target = tmp_path / "avis.csv"
    run = has_assistant("feedback", "export", str(target), env={"HAS_ASSISTANT_HOME": str(home)})
    assert run.returncode == 0 and "exporté" in run.stdout
    exported = list(csv.DictReader(target.open(encoding="utf-8-sig")))
    assert exported[-1]["comment"] == "Je voulais plus de détails"
    assert exported[-1]["useful"] == "0"


def test_feedback_comments_lose_patient_data_and_exports_cannot_run_formulas(server, tmp_path):
    """Red team: identifiers typed in the comment box were stored and exported as is, and a
    comment starting with « = » became a formula in the spreadsheet (fictitious data)."""
    from gradio_client import Client

    url, home, _ = server
    client = Client(url, verbose=False)
    answer = client.predict("Quels sont les trois axes du cadre de confiance ?", api_name="/ask")
    identifiers = ["1 85 05 78 006 084 36", "12/03/1965", "06 12 34 56 78", "j.dupont@exemple.fr"]
    comment = (
        f"Mme DUPONT Marie, NIR {identifiers[0]}, née le {identifiers[1]}, "
        f"tél. {identifiers[2]}, {identifiers[3]} : réponse incomplète"
    )
    client.predict(answer["id"], False, comment, api_name="/feedback")
    formula = '=HYPERLINK("http://exemple.invalid","x")'
    client.predict(answer["id"], True, formula, api_name="/feedback")
    with sqlite3.connect(home / "records.sqlite3") as db:
        stored = [r[0] for r in db.execute("SELECT comment FROM feedback ORDER BY id")][-2:]
    for secret in [*identifiers, "DUPONT", "Marie"]:
        assert secret not in stored[0]
    assert "[NIR]" in stored[0] and "[NOM]" in stored[0] and "réponse incomplète" in stored[0]
    target = tmp_path / "avis.csv"
    run = has_assistant("feedback", "export", str(target), env={"HAS_ASSISTANT_HOME": str(home)})
    assert run.returncode == 0
    exported = [row["comment"] for row in csv.DictReader(target.open(encoding="utf-8-sig"))]
    assert exported[-2] == stored[0]
    assert exported[-1] == "'" + formula


def test_an_upload_over_the_limit_is_refused_while_it_streams_in(server, tmp_path):
    """Red team: /gradio_api/upload took 3 × 200 MB from any logged-in user and kept them."""
    url, home, _ = server
    big = tmp_path / "fictif-trop-gros.pdf"
    big.write_bytes(b"%PDF-1.4\n% fictif\n" + b"0" * (3 * 2**20))  # 3 MiB > the 2 MiB limit
    with big.open("rb") as fh:
        response = httpx.post(f"{url}gradio_api/upload", files={"files": fh}, timeout=60)
    assert response.status_code == 413, response.text
    kept = [p for p in (home / "gradio-tmp").rglob("*") if p.is_file()]
    assert all(p.stat().st_size < 2**20 for p in kept)


def test_login_guard_locks_a_user_then_lets_them_in_again():
    from assistant.interfaces.ui import LoginGuard

    guard = LoginGuard([("a", "pw"), ("b", "pw2")], max_failures=3, lock_s=0.3)
    assert guard.check("a", "pw")
    assert not any(guard.check("a", "x") for _ in range(3))
    assert not guard.check("a", "pw")  # locked
    assert guard.check("b", "pw2") and not guard.check("nobody", "pw")
    time.sleep(0.35)
    assert guard.check("a", "pw")


def test_follow_up_history_reads_the_text_of_gradio_message_parts():
    from assistant.interfaces.ui import _turns

    history = [
        {"role": "user", "content": [{"type": "text", "text": "Quels sont les axes ?"}]},
        {"role": "assistant", "content": "réponse"},
        {"role": "user", "content": "et pour ce guide ?"},
    ]
    assert [t.question for t in _turns(history)] == ["Quels sont les axes ?", "et pour ce guide ?"]


def test_csv_cells_that_start_like_formulas_are_neutralised():
    from assistant.records.table import csv_safe

    for cell in ("=1+1", "+33 6", "-2", "@SUM(A1)", "\tx", "\rx"):
        assert csv_safe(cell) == "'" + cell
    assert csv_safe("Réponse utile") == "Réponse utile" and csv_safe(-2.5) == -2.5


def ask_in_page(page, question: str) -> None:
    page.locator("#question textarea").fill(question)
    page.locator("#send").click()


def test_browser_question_sources_passage_feedback_and_refusal(server, browser):
    url, home, _ = server
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 1100})
    page.goto(url)
    page.get_by_text("N'indiquez jamais de données permettant d'identifier un patient").wait_for()

    ask_in_page(page, "Quels sont les trois axes du cadre de confiance ?")
    chat = page.locator("#chat")
    chat.get_by_text("Vérification : 1/1").wait_for(timeout=60_000)
    assert chat.get_by_text("Guider la sélection").first.is_visible()
    source = chat.locator("details.source summary").first
    assert "Technologies numériques" in source.inner_text()
    link = chat.locator("details.source summary a").first
    assert link.get_attribute("href").startswith("https://has-sante.fr/jcms/p_3363066/")
    source.click()  # open the passage: the cited words are marked
    mark = chat.locator("details.source[open] mark").first
    mark.wait_for()
    assert "s’articule autour de 3 axes" in mark.inner_text()
    page.screenshot(path=str(ARTIFACTS / "chat-answer.png"), full_page=True)

    page.locator("#useful").click()
    page.locator("#feedback-status").get_by_text("enregistré").wait_for()

    page.get_by_role("tab", name="Formateur").click()  # how the answer was found and checked
    trainer = page.locator("#trainer")
    trainer.get_by_text("Vérification de chaque phrase").wait_for()
    assert trainer.get_by_text("rang BM25").is_visible()
    page.screenshot(path=str(ARTIFACTS / "trainer.png"), full_page=True)
    page.get_by_role("tab", name="Assistant").click()
    with sqlite3.connect(home / "records.sqlite3") as db:
        assert db.execute("SELECT COUNT(*) FROM feedback WHERE useful = 1").fetchone()[0] >= 1

    ask_in_page(page, "Qui est le président de la HAS ?")
    chat.get_by_text("Pas de réponse sourcée").wait_for(timeout=60_000)
    assert chat.get_by_text("les publications indexées ne répondent pas").first.is_visible()
    page.screenshot(path=str(ARTIFACTS / "chat-refusal.png"), full_page=True)

    page.get_by_role("tab", name="Formateur").click()
    trainer.get_by_text("Qui est le président de la HAS ?").wait_for()
    page.close()


def test_login_required_when_auth_is_set(tmp_path):
    env = {
        "HAS_ASSISTANT_AUTH": "admin:s3cret,medecin:m0tdepasse",
        "HAS_ASSISTANT_LOGIN_LOCK_S": "600",
        "HAS_ASSISTANT_LOGIN_MAX_FAILURES": "2",
    }
    proc, url, log = start_serve(tmp_path / "home", env)
    try:
        from gradio_client import Client

        with pytest.raises(Exception):  # noqa: B017 - gradio_client raises a bare error
            Client(url, verbose=False).predict("cadre de confiance", api_name="/ask")
        client = Client(url, auth=("admin", "s3cret"), verbose=False)
        answer = client.predict(
            "Quels sont les trois axes du cadre de confiance ?", api_name="/ask"
        )
        assert answer["citations"]
        # red team: 49 wrong passwords in 1 s, then the right one was accepted
        login = f"{url}login"
        for n in range(2):
            wrong = httpx.post(login, data={"username": "medecin", "password": f"essai{n}"})
            assert wrong.status_code >= 400
        right = httpx.post(login, data={"username": "medecin", "password": "m0tdepasse"})
        assert right.status_code >= 400  # locked out, even with the right password
        other = httpx.post(login, data={"username": "admin", "password": "s3cret"})
        assert other.status_code == 200  # another user is not locked
        # and per address: many user names tried from one address lock the address (4 × 2)
        for n in range(5):
            httpx.post(login, data={"username": f"inconnu{n}", "password": "essai"})
        blocked = httpx.post(login, data={"username": "admin", "password": "s3cret"})
        assert blocked.status_code == 429
        text = log.read_text()
        assert "failed login for user 'medecin'" in text and "locked out" in text
        assert "address 127.0.0.1 locked out" in text
        assert "essai" not in text and "m0tdepasse" not in text
    finally:
        proc.terminate()
        proc.wait(timeout=30)
