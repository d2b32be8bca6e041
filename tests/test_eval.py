"""`has-assistant eval`: the report, the regression gate, run comparison, RAGAS export, and the
fictitious multi-document PDF corpus it is exercised on (tests/eval_corpus, all invented)."""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections import defaultdict
from pathlib import Path

import pytest

from assistant.evaluation.metrics import ANSWERABLE, evidence_found, load_gold
from assistant.ingest.loaders import load_file

from conftest import has_assistant

EVAL_CORPUS = Path("tests/eval_corpus")
FICTIF_SET = EVAL_CORPUS / "questions_fictif.jsonl"
PAIRS = Path("eval/support_pairs_heldout2.jsonl")


def test_fictitious_corpus_pdfs_are_the_ones_build_pdfs_writes(tmp_path: Path):
    """The committed PDFs are exactly what build_pdfs.py produces, and the manifest's hashes
    are theirs: the gold set cannot drift away from its documents unnoticed."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("build_pdfs", EVAL_CORPUS / "build_pdfs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    manifest = tomllib.loads((EVAL_CORPUS / "manifest.toml").read_text("utf-8"))
    hashes = {Path(p["file"]).name: p["sha256"] for p in manifest["publication"]}
    for path in module.build(tmp_path):
        shipped = EVAL_CORPUS / "documents" / path.name
        assert path.read_bytes() == shipped.read_bytes(), f"rebuild {path.name}"
        assert hashlib.sha256(shipped.read_bytes()).hexdigest() == hashes[path.name]
        assert "Document fictif" in load_file(shipped).text


def test_fictitious_gold_evidence_is_on_the_page_the_gold_set_names():
    manifest = tomllib.loads((EVAL_CORPUS / "manifest.toml").read_text("utf-8"))
    files = {p["id"]: EVAL_CORPUS / p["file"] for p in manifest["publication"]}
    pages: dict[str, dict[int | None, str]] = {doc: defaultdict(str) for doc in files}
    for doc, path in files.items():
        for block in load_file(path).blocks:
            pages[doc][block.page] += block.text + "\n"
    gold = load_gold(FICTIF_SET)
    assert {q.kind for q in gold} >= {"factual", "paraphrase", "multi_passage", "unanswerable"}
    assert any(len({d for d, _ in q.sources}) > 1 for q in gold), "a multi-document question"
    for q in gold:
        for evidence in q.evidence:
            assert any(evidence_found(evidence, pages[doc][page]) for doc, page in q.sources), (
                f"{q.id}: {evidence!r} not on {q.sources}"
            )


@pytest.fixture(scope="module")
def fictif_run(tmp_path_factory: pytest.TempPathFactory):
    """One real run of the command, with the baseline and the RAGAS export, gated by the
    shipped thresholds except the latency bounds (speed is measured, never asserted, in tests:
    CI's `make eval` applies them)."""
    out = tmp_path_factory.mktemp("eval")
    shipped = Path("eval/thresholds.toml").read_text("utf-8").splitlines()
    untimed = out / "thresholds-untimed.toml"
    untimed.write_text("\n".join(line for line in shipped if "latency" not in line), "utf-8")
    result = has_assistant(
        "eval",
        "--corpus",
        str(EVAL_CORPUS),
        "--questions",
        str(FICTIF_SET),
        "--thresholds",
        str(untimed),
        "--baseline",
        "--report",
        str(out / "report"),
        "--export-ragas",
        str(out / "ragas.jsonl"),
        "--pairs",
        str(PAIRS),
    )
    return out, result


def test_eval_writes_results_reports_and_passes_the_shipped_gate(fictif_run):
    out, result = fictif_run
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PASSED" in result.stdout
    results = json.loads((out / "report" / "results.json").read_text("utf-8"))
    assert set(results["systems"]) == {"assistant", "baseline"}
    agg = results["systems"]["assistant"]["aggregates"]["questions_fictif"]
    base = results["systems"]["baseline"]["aggregates"]["questions_fictif"]
    # the margin over the naive baseline, measured in the same run
    assert agg["correctness.must_mention"] > base["correctness.must_mention"]
    assert agg["citations.source_recall"] > base["citations.source_recall"]
    assert base["refusals.recall"] == 0.0 and base["refusals.precision"] is None
    rows = {r["id"]: r for r in results["systems"]["assistant"]["questions"]}
    assert len(rows) == len(load_gold(FICTIF_SET))
    # page citations: the answer to x03 cites page 3 of the guide; x15 cites two publications
    assert ("fictif-guide-telesuivi", 3) in {(c["doc_id"], c["page"]) for c in rows["x03"]["cited"]}
    assert {c["doc_id"] for c in rows["x15"]["cited"]} >= {
        "fictif-charte-ia",
        "fictif-bilan-incidents",
    }
    assert rows["x23"]["refusal_reason"] == "unsafe_request" and rows["x23"]["injection_safe"]
    # every failing question is named with its problem
    assert all(r["problems"] for r in rows.values() if not r["refusal_ok"])

    md = (out / "report" / "report.md").read_text("utf-8")
    page = (out / "report" / "report.html").read_text("utf-8")
    for text in ("PASSED", "baseline", "Per kind of question", "Definitions", "ALCE"):
        assert text in md and text in page
    # the support check on labelled pairs: per kind of change, its wrong verdicts listed
    support = results["support"]["support_pairs_heldout2"]
    assert support["aggregates"]["n.pairs"] == len(PAIRS.read_text("utf-8").splitlines())
    kinds = set(support["by_kind"])
    assert {"antonym", "role_swap", "tense", "paraphrase/list_summary"} <= kinds
    assert len(support["wrong"]) == round(
        (1 - support["aggregates"]["support.accuracy"]) * support["aggregates"]["n.pairs"]
    )
    for text in ("Support check", "support.errors_caught", "role_swap"):
        assert text in md and text in page
    assert page.count("<svg") == 4
    plots = sorted(p.name for p in (out / "report" / "plots").iterdir())
    assert plots == [
        f"questions_fictif-{k}.svg" for k in ("facts", "latency", "per_kind", "scores")
    ]
    assert all(f"plots/{p}" in md for p in plots)

    samples = [json.loads(line) for line in (out / "ragas.jsonl").read_text("utf-8").splitlines()]
    ids = json.loads((out / "ragas.ids.json").read_text("utf-8"))
    answerable = [r for r in rows.values() if r["kind"] in ANSWERABLE]
    assert len(samples) == len(ids) == len(answerable)
    keys = {"user_input", "retrieved_contexts", "response", "reference", "reference_contexts"}
    assert all(set(s) == keys for s in samples)
    first = samples[ids.index(["questions_fictif", "x01"])]
    assert first["user_input"] == rows["x01"]["question"] and first["retrieved_contexts"]
    assert "cinq critères" in first["reference"] and first["reference_contexts"]


def test_a_crossed_threshold_fails_the_run_and_compare_names_what_got_worse(
    fictif_run, tmp_path: Path
):
    """The same gold set, except that x01 now also requires a fact no document states: x01
    gets worse than in the previous run, facts present drop below the bound, the gate fails."""
    out, _ = fictif_run
    rows = [json.loads(line) for line in FICTIF_SET.read_text("utf-8").splitlines()]
    for row in rows:
        if row["id"] == "x01":
            row["must_mention"].append("fait absent de tout document fictif")
    changed = tmp_path / FICTIF_SET.name  # same name: the same gold set, compared
    changed.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), "utf-8")
    strict = tmp_path / "strict.toml"
    strict.write_text('[min]\n"correctness.must_mention" = 0.99\n', encoding="utf-8")

    result = has_assistant(
        "eval",
        "--corpus",
        str(EVAL_CORPUS),
        "--questions",
        str(changed),
        "--thresholds",
        str(strict),
        "--compare",
        str(out / "report" / "results.json"),
        "--report",
        str(tmp_path / "report"),
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAILED" in result.stdout
    saved = json.loads((tmp_path / "report" / "results.json").read_text("utf-8"))
    [failure] = saved["thresholds"]["failures"]
    assert failure.startswith("questions_fictif: correctness.must_mention = ")
    assert failure.endswith(" < min 0.99") and failure in result.stdout
    assert "x01: must_mention 1.00 → 0.50" in result.stdout
    page = (tmp_path / "report" / "report.html").read_text("utf-8")
    assert "FAILED" in page and "Questions that got worse (1)" in page and "Δ vs previous" in page
    assert "✗ FAILED" in page  # the crossed bound is marked in the summary table


def test_a_bad_thresholds_file_or_gold_set_is_a_clear_error(tmp_path: Path):
    typo = tmp_path / "typo.toml"
    typo.write_text('[min]\n"retrieval.mmr" = 0.8\n', encoding="utf-8")
    result = has_assistant("eval", "--questions", str(FICTIF_SET), "--thresholds", str(typo))
    assert result.returncode == 2
    assert "unknown metric(s) retrieval.mmr" in result.stderr and "Traceback" not in result.stderr
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"id": "a", "kind": "nope", "question": "q"}\n', encoding="utf-8")
    result = has_assistant("eval", "--questions", str(broken))
    assert result.returncode == 2 and "broken.jsonl:1: kind must be one of" in result.stderr


def test_baseline_fixed_size_windows_overlap_and_keep_their_page(tmp_path: Path):
    from assistant.evaluation.baseline import fixed_size_chunks

    from conftest import make_pdf

    pdf = make_pdf(
        tmp_path / "fictif.pdf",
        [["Document fictif de test, page un. " * 30], ["Page deux fictive. " * 40]],
    )
    doc = load_file(pdf)
    chunks = fixed_size_chunks(doc, window=300, overlap=50)
    assert all(len(c.text) <= 300 for c in chunks)
    assert chunks[0].page == 1 and chunks[-1].page == 2
    assert chunks[0].text[-40:].strip() in chunks[1].text  # windows overlap
    assert len({c.chunk_id for c in chunks}) == len(chunks)
