"""The installed console script, run as a user would (subprocess, real settings)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from conftest import FIXTURES, has_assistant


def test_corpus_list_shows_the_bundled_page():
    run = has_assistant("corpus", "list")
    assert run.returncode == 0, run.stderr
    row = next(line for line in run.stdout.splitlines() if "p_3363066" in line)
    assert "Technologies numériques" in row and "bundled" in row
    rows = json.loads(has_assistant("corpus", "list", "--json").stdout)
    page = next(r for r in rows if r["id"] == "p_3363066")
    assert page["title"] == "Technologies numériques et systèmes d'IA à usage professionnel"
    assert page["local"] == "bundled"
    assert page["source"].startswith("https://has-sante.fr/jcms/p_3363066/")
    assert Path(page["path"]).is_file()
    assert {r["local"] for r in rows} >= {"bundled", "not downloaded", "no source known"}


def test_corpus_check_names_bad_files_and_still_reports_good_ones(tmp_path: Path):
    shutil.copy(FIXTURES / "fictif-note.txt", tmp_path)
    (tmp_path / "vide.pdf").write_bytes(b"")
    (tmp_path / "feuille.xlsx").write_bytes(b"PK\x03\x04")
    run = has_assistant("corpus", "check", str(tmp_path))
    assert run.returncode == 1
    assert "fictif-note" in run.stdout and "p_3363066" in run.stdout
    assert f"{tmp_path / 'vide.pdf'}: empty file" in run.stderr
    assert f"{tmp_path / 'feuille.xlsx'}: unsupported format '.xlsx'" in run.stderr
    assert "Traceback" not in run.stderr


def test_corpus_check_on_the_bundled_corpus_reports_chunk_sizes():
    run = has_assistant("corpus", "check")
    assert run.returncode == 0, run.stderr
    assert "1 document(s)" in run.stdout
    assert "tokens per chunk: min" in run.stdout


def test_a_broken_setting_is_a_clean_error(tmp_path: Path):
    run = has_assistant("corpus", "list", env={"HAS_ASSISTANT_CORPUS_DIR": str(tmp_path)})
    assert run.returncode == 2
    assert "manifest not found" in run.stderr and "Traceback" not in run.stderr
    run = has_assistant("corpus", "list", env={"HAS_ASSISTANT_SYNC_RETRIES": "beaucoup"})
    assert run.returncode == 2
    assert "HAS_ASSISTANT_SYNC_RETRIES" in run.stderr and "Traceback" not in run.stderr


def test_the_file_size_limit_of_ingest_is_a_setting(tmp_path: Path):
    big = tmp_path / "fictif-volumineux.txt"
    big.write_text("Texte fictif de test, sans valeur. " * 40_000, encoding="utf-8")  # 1.3 MB
    refused = has_assistant("corpus", "check", str(big), env={"HAS_ASSISTANT_MAX_FILE_MB": "1"})
    assert refused.returncode == 1
    assert f"{big}: file too large (1.3 MiB > 1 MiB)" in refused.stderr
    assert "HAS_ASSISTANT_MAX_FILE_MB" in refused.stderr
    accepted = has_assistant("corpus", "check", str(big), env={"HAS_ASSISTANT_MAX_FILE_MB": "2"})
    assert accepted.returncode == 0, accepted.stderr
    assert "fictif-volumineux" in accepted.stdout


def test_a_file_that_fails_to_ingest_is_not_remembered(tmp_path: Path):
    home = {"HAS_ASSISTANT_HOME": str(tmp_path / "home")}
    bad = tmp_path / "fictif.exe"
    bad.write_bytes(b"MZ\x90\x00")
    good = shutil.copy(FIXTURES / "fictif-note.txt", tmp_path)
    first = has_assistant("ingest", str(bad), str(good), env=home)
    assert first.returncode == 1 and f"{bad}: unsupported format '.exe'" in first.stderr
    # progress in a log: plain lines with the rate and what is left
    progress = [line for line in first.stderr.splitlines() if line.startswith("Embedding")]
    assert progress[-1].startswith("Embedding new/changed chunks: ")
    assert " chunks/s" in progress[-1]
    assert any("ETA" in line for line in progress[1:-1])
    remembered = json.loads((tmp_path / "home" / "sources.json").read_text("utf-8"))
    assert remembered == [str(Path(good).resolve())]
    again = has_assistant("ingest", env=home)  # the bad file is not reported forever
    assert again.returncode == 0, again.stderr
    assert "unchanged: 2" in again.stdout


BUILD_BACKEND = {
    "llm": "from assistant.answer.llm import make_chat_model\n"
    "from assistant.settings import load_settings\n"
    "make_chat_model(load_settings())\n",
    "embedder": "from assistant.index.embeddings import make_embedder\n"
    "from assistant.settings import load_settings\n"
    "make_embedder(load_settings()).embed_batch(['x'], 'query')\n",
}


def _with_package_hidden(package: str, code: str, env: dict[str, str]):
    """Run ``code`` in a fresh interpreter where ``package`` cannot be imported."""
    import subprocess
    import sys

    hide = f"import sys; sys.modules[{package!r}] = None\n"  # as if not installed
    wrapped = (
        hide
        + "from assistant.errors import ConfigError\ntry:\n"
        + "".join(f"    {line}\n" for line in code.splitlines())
    )
    wrapped += "except ConfigError as exc:\n    print(exc)\n    sys.exit(exc.exit_code)\n"
    return subprocess.run(
        [sys.executable, "-c", wrapped],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
    )


@pytest.mark.parametrize(
    ("package", "stage", "env", "extra"),
    [
        ("langchain_ollama", "llm", {"HAS_ASSISTANT_LLM_BACKEND": "ollama"}, "llm"),
        (
            "llama_cpp",
            "llm",
            {"HAS_ASSISTANT_LLM_BACKEND": "llamacpp", "HAS_ASSISTANT_LLM_MODEL": "m.gguf"},
            "llamacpp",
        ),
        ("sentence_transformers", "embedder", {"HAS_ASSISTANT_EMBEDDER": "st:a-model"}, "st"),
    ],
)
def test_an_optional_backend_without_its_package_names_the_extra_to_install(
    package: str, stage: str, env: dict[str, str], extra: str
):
    """Before: HAS_ASSISTANT_LLM_BACKEND=openai without the extra was a ModuleNotFoundError;
    every optional backend now says which extra installs its package."""
    run = _with_package_hidden(package, BUILD_BACKEND[stage], env)
    assert run.returncode == 2, run.stderr
    assert f"needs the Python package '{package}'" in run.stdout, run.stderr
    assert f"pip install 'has-assistant[{extra}]'" in run.stdout


def test_the_openai_compatible_backend_is_in_the_default_install():
    """The backend most deployments use works without any extra (here: without the ``llm``
    extra's package), so setting it after ``make run`` cannot fail on a missing package."""
    env = {
        "HAS_ASSISTANT_LLM_BACKEND": "openai",
        "HAS_ASSISTANT_LLM_BASE_URL": "http://127.0.0.1:1/v1",
        "HAS_ASSISTANT_LLM_MODEL": "m",
    }
    code = BUILD_BACKEND["llm"] + "print('built')\n"
    run = _with_package_hidden("langchain_ollama", code, env)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "built" in run.stdout


def test_a_damaged_sources_file_stops_ingest_and_keeps_the_users_documents(tmp_path: Path):
    """Before: a corrupt sources.json was read as "no sources" and the next ingest removed
    the user's own documents from the index."""
    home = {"HAS_ASSISTANT_HOME": str(tmp_path / "home")}
    good = shutil.copy(FIXTURES / "fictif-note.txt", tmp_path)
    assert has_assistant("ingest", str(good), env=home).returncode == 0
    (tmp_path / "home" / "sources.json").write_text('["/tronqué', encoding="utf-8")
    run = has_assistant("ingest", env=home)
    assert run.returncode == 1 and "sources.json: damaged" in run.stderr
    assert "Traceback" not in run.stderr
    listing = has_assistant("search", "télésurveillance", "--json", env=home)
    assert "fictif-note" in listing.stdout  # still indexed
