"""`ingest` and `search` as a user runs them: the real console script in a subprocess."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from conftest import console_script, fictitious_docs, has_assistant


def test_ingest_bundled_corpus_then_search_finds_the_three_axes(tmp_path: Path):
    env = {"HAS_ASSISTANT_HOME": str(tmp_path)}
    run = has_assistant("ingest", env=env)
    assert run.returncode == 0, run.stderr
    assert "added: 1  (p_3363066)" in run.stdout
    run = has_assistant("ingest", env=env)
    assert "Index up to date" in run.stdout and "nothing embedded" in run.stdout

    run = has_assistant(
        "search", "quels sont les trois axes du cadre de confiance ?", "--json", env=env
    )
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    first = out["hits"][0]
    assert out["question"] == "quels sont les trois axes du cadre de confiance ?"
    assert "s’articule autour de 3 axes" in first["text"]
    assert first["doc_id"] == "p_3363066" and first["section"] == "Construire un cadre de confiance"
    assert first["url"].startswith("https://has-sante.fr/jcms/p_3363066/")
    assert set(first) >= {"chunk_id", "doc_id", "title", "section", "page", "url", "score", "text"}
    assert len(out["hits"]) == 5

    readable = has_assistant("search", "cadre de confiance", "--k", "2", env=env)
    assert readable.stdout.count("https://has-sante.fr") == 2


def test_batch_search_prints_one_line_per_question_in_order(tmp_path: Path):
    env = {"HAS_ASSISTANT_HOME": str(tmp_path)}
    has_assistant("ingest", env=env)
    batch = tmp_path / "q.jsonl"
    questions = [
        "Quand le cadre de confiance a-t-il été initié ?",
        "périmètre visé",
        "Which technologies are out of scope?",
    ]
    batch.write_text(
        "\n".join(
            json.dumps({"question": q, "id": i, "autre": True}) for i, q in enumerate(questions)
        )
        + "\n",
        encoding="utf-8",
    )
    run = has_assistant("search", "--batch", str(batch), "--json", "--k", "3", env=env)
    assert run.returncode == 0, run.stderr
    lines = [json.loads(x) for x in run.stdout.splitlines()]
    assert [x["question"] for x in lines] == questions
    assert all(len(x["hits"]) == 3 for x in lines)
    assert [h["score"] for h in lines[0]["hits"]] == sorted(
        (h["score"] for h in lines[0]["hits"]), reverse=True
    )

    batch.write_text('{"question": "ok"}\n{"pas de question": 1}\n', encoding="utf-8")
    run = has_assistant("search", "--batch", str(batch), "--json", env=env)
    assert run.returncode == 1
    assert f"{batch}:2: expected an object with a 'question' string" in run.stderr


def test_search_without_an_index_says_to_ingest(tmp_path: Path):
    run = has_assistant("search", "cadre", env={"HAS_ASSISTANT_HOME": str(tmp_path)})
    assert run.returncode == 3
    assert "has-assistant ingest" in run.stderr and "Traceback" not in run.stderr


def test_embedder_mismatch_from_the_cli(tmp_path: Path):
    env = {"HAS_ASSISTANT_HOME": str(tmp_path)}
    has_assistant("ingest", env=env)
    run = has_assistant("search", "cadre", env={**env, "HAS_ASSISTANT_EMBEDDER": "st:/x/y"})
    assert run.returncode == 3
    assert "ingest --rebuild" in run.stderr and "Traceback" not in run.stderr


def test_ctrl_c_during_ingest_keeps_the_previous_index(tmp_path: Path):
    env = {**os.environ, "HAS_ASSISTANT_HOME": str(tmp_path)}
    assert has_assistant("ingest", env=env).returncode == 0
    before = has_assistant("search", "cadre de confiance", "--json", env=env).stdout

    folder = tmp_path / "many"
    fictitious_docs(folder, 20, paragraphs=5)
    proc = subprocess.Popen(
        [console_script(), "ingest", str(folder)],
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120
    progress = ""
    while time.monotonic() < deadline and "Embedding" not in progress:
        progress += proc.stderr.read(1)
    time.sleep(1.0)  # well inside the embedding of several hundred vectors
    assert proc.poll() is None, "ingest finished before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=60)
    assert proc.returncode != 0

    assert has_assistant("search", "cadre de confiance", "--json", env=env).stdout == before
    listing = has_assistant("search", "Document fictif 7", "--json", env=env).stdout
    assert "fictif-07" not in listing
    run = has_assistant("ingest", env=env)  # the interrupted folder is remembered: indexed now
    assert run.returncode == 0 and "added: 20" in run.stdout


def test_added_sources_are_remembered_by_later_ingests(tmp_path: Path):
    env = {"HAS_ASSISTANT_HOME": str(tmp_path / "home")}
    paths = fictitious_docs(tmp_path / "docs", 2)
    assert has_assistant("ingest", str(tmp_path / "docs"), env=env).returncode == 0
    run = has_assistant("ingest", env=env)
    assert "Index up to date" in run.stdout and "unchanged: 3" in run.stdout
    paths[1].unlink()
    run = has_assistant("ingest", env=env)
    assert "removed: 1  (fictif-01)" in run.stdout
    shutil.rmtree(tmp_path / "docs")
    run = has_assistant("ingest", env=env)
    assert "removed: 1  (fictif-00)" in run.stdout
    assert "no longer exists" in run.stderr


def test_ask_json_batch_and_readable_output(tmp_path: Path):
    env = {"HAS_ASSISTANT_HOME": str(tmp_path)}
    assert has_assistant("ingest", env=env).returncode == 0
    run = has_assistant("ask", "Quels sont les trois axes du cadre de confiance ?", env=env)
    assert run.returncode == 0, run.stderr
    assert "Guider la sélection" in run.stdout and "Sources :" in run.stdout
    assert "[1] Technologies numériques" in run.stdout and "has-sante.fr" in run.stdout

    batch = tmp_path / "q.jsonl"
    questions = [
        "Quand le cadre de confiance a-t-il été initié ?",
        "Quelle dose de paracétamol pour mon patient ?",
        "Qui est le président de la HAS ?",
    ]
    batch.write_text(
        "\n".join(json.dumps({"question": q, "kind": "x"}) for q in questions), encoding="utf-8"
    )
    run = has_assistant("ask", "--batch", str(batch), "--json", env=env)
    assert run.returncode == 0, run.stderr
    answers = [json.loads(line) for line in run.stdout.splitlines()]
    assert [a["question"] for a in answers] == questions
    assert [a["refusal_reason"] for a in answers] == [None, "out_of_scope", "no_evidence"]
    assert answers[0]["citations"] and answers[0]["grounding"]["score"] == 1.0

    history = tmp_path / "h.json"
    history.write_text(
        json.dumps(
            [
                {
                    "question": "Quels critères de certification concernent le numérique ?",
                    "answer": "...",
                }
            ]
        )
    )
    run = has_assistant("ask", "et pour les DMN ?", "--history", str(history), "--json", env=env)
    assert json.loads(run.stdout)["condensed_question"].startswith("Quels critères")
    history.write_text("[1, 2]")
    run = has_assistant("ask", "et pour les DMN ?", "--history", str(history), env=env)
    assert run.returncode == 1 and "not a conversation history" in run.stderr
