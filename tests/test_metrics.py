"""Gold-set loading and metrics, on hand-made cases with known values."""

import math
from pathlib import Path

import pytest

from assistant.errors import ConfigError
from assistant.evaluation.metrics import (
    first_relevant_rank,
    hit_at,
    load_gold,
    mention_coverage,
    mentions,
    reciprocal_rank,
    refusal_scores,
)


def test_first_relevant_rank_normalises_quotes_spaces_and_case():
    texts = ["rien ici", "La HAS a  initié en 2022 un cadre", "s’articule autour de 3 axes"]
    assert first_relevant_rank(["s'articule AUTOUR de 3 axes"], texts) == 3
    assert first_relevant_rank(["a initié en 2022", "3 axes"], texts) == 2
    assert first_relevant_rank(["absent"], texts) is None
    assert first_relevant_rank([], texts) is None
    assert (hit_at(2, 1), hit_at(2, 5), hit_at(None, 5)) == (0.0, 1.0, 0.0)
    assert (reciprocal_rank(4), reciprocal_rank(None)) == (0.25, 0.0)


def test_mentions_are_accent_case_and_number_word_insensitive():
    assert mentions("Le cadre s'articule autour de TROIS axes", "3 axes")
    assert mentions("à compter de Septembre 2025", "septembre 2025")
    assert mentions("le critère avancé", "critere avance")
    assert not mentions("deux axes", "3 axes")
    assert not mentions("Le délai est de 15 jours.", "5 jours")  # word boundaries
    assert not mentions("Il y a 12 critères.", "2 critères")
    assert mentions("un délai de 48 heures.", "48 heures")
    assert mentions("les critères retenus", "critère")  # a plural is the same fact
    assert mention_coverage("a b", []) == 1.0
    assert mention_coverage("2022 et 2024", ["2022", "2025"]) == 0.5


def test_refusal_scores():
    expected = [True, True, False, False, False]
    refused = [True, False, True, False, False]
    s = refusal_scores(expected, refused)
    assert s["precision"] == 0.5 and s["recall"] == 0.5 and s["f1"] == 0.5
    assert s["false_refusal_rate"] == pytest.approx(1 / 3)
    assert refusal_scores([False], [False])["precision"] == 1.0


def test_shipped_gold_set_is_valid_and_its_evidence_is_verbatim():
    from assistant.text import normalize_for_match

    gold = load_gold(Path("eval/questions.jsonl"))
    assert len(gold) >= 60
    assert {q.kind for q in gold} == {
        "factual",
        "paraphrase",
        "multi_passage",
        "unanswerable",
        "out_of_scope",
        "injection",
    }
    page = normalize_for_match(next(Path("corpus/documents").glob("*.txt")).read_text("utf-8"))
    for q in gold:
        assert q.answerable == bool(q.evidence), q.id
        for evidence in q.evidence:
            assert normalize_for_match(evidence) in page, (q.id, evidence)


def test_malformed_gold_lines_are_named(tmp_path):
    path = tmp_path / "g.jsonl"
    path.write_text('{"id": "a", "question": "q", "kind": "out_of_scope"}\n{"id": "b"}\n')
    with pytest.raises(ConfigError) as err:
        load_gold(path)
    assert ":2: missing field(s) question, kind" in str(err.value)
    path.write_text('{"id": "a", "question": "q", "kind": "weird"}\n')
    with pytest.raises(ConfigError, match="kind must be one of"):
        load_gold(path)
    # a string where a list is expected would be read letter by letter: refused
    path.write_text(
        '{"id": "a", "question": "q", "kind": "factual", "evidence": "texte", '
        '"must_mention": ["x"]}\n'
    )
    with pytest.raises(ConfigError, match=":1: evidence must be a list of non-empty strings"):
        load_gold(path)
    path.write_text('{"id": "a", "question": "q", "kind": "factual"}\n')
    with pytest.raises(ConfigError, match="answerable question needs evidence and must_mention"):
        load_gold(path)


# ---------------------------------------------------------------- evaluation harness metrics


def _support_by(table: dict[str, set[int]]):
    """A support function for hand-made cases: a sentence is supported when the passages
    cited include one of the sets listed for it (each set alone is enough)."""
    from assistant.evaluation.metrics import Support

    def support(text: str, markers) -> bool:
        return any(needed <= set(markers) for needed in table.get(text, []))

    s: Support = support
    return s


def test_alce_citation_recall_and_precision_on_known_cases():
    from assistant.evaluation.metrics import citation_scores

    support = _support_by({"A": [{1}], "B": [{2, 3}], "C": [{4}]})
    # A cites 1 (supports) and 5 (useless: A is still supported without it) → 1 of 2 relevant
    # B needs 2 and 3 together: neither alone supports, removing either breaks it → 2 relevant
    # C cites nothing → unsupported, no citation counted
    scores = citation_scores([("A", [1, 5]), ("B", [2, 3]), ("C", [])], support)
    assert scores.recall == pytest.approx(2 / 3)
    assert scores.precision == pytest.approx(3 / 4)
    assert (scores.sentences, scores.citations) == (3, 4)


def test_alce_edge_cases_no_citation_out_of_range_marker_empty_answer():
    from assistant.evaluation.metrics import citation_scores

    support = _support_by({"A": [{1}]})
    none = citation_scores([("A", [])], support)
    assert none.recall == 0.0 and none.precision is None
    # [9] points to no passage: the support function says no → unsupported, citation wasted
    out_of_range = citation_scores([("A", [9])], support)
    assert out_of_range.recall == 0.0 and out_of_range.precision == 0.0
    # a repeated marker counts once
    repeated = citation_scores([("A", [1, 1])], support)
    assert repeated.precision == 1.0 and repeated.citations == 1
    empty = citation_scores([], support)
    assert empty.recall is None and empty.precision is None


def test_alce_with_the_real_grounding_check_and_parser():
    from assistant.answer.grounding import AnswerSentence, GroundingChecker, parse_answer
    from assistant.evaluation.metrics import citation_scores

    passages = {1: "Le comité fictif de Valombre se réunit en 2031.", 2: "Rien à voir ici."}
    checker = GroundingChecker()

    def support(text, markers):
        return checker.check_sentence(AnswerSentence(text, tuple(markers)), passages).supported

    answer = "Le comité fictif de Valombre se réunit en 2031 [1][2]. Il se réunit en 2035 [1]."
    pairs = [(s.text, s.markers) for s in parse_answer(answer)]
    scores = citation_scores(pairs, support)
    assert scores.recall == 0.5  # 2035 is not in the passage
    assert scores.precision == pytest.approx(1 / 3)  # [2] is useless, [1] of a false claim


def test_ndcg_recall_at_k_and_undefined_cases():
    from assistant.evaluation.metrics import evidence_recall_at, ndcg_at

    assert ndcg_at([True, False, False], 1) == 1.0
    assert ndcg_at([False, True], 1) == pytest.approx(1 / math.log2(3))
    # two relevant passages in the index, one found at rank 1
    assert ndcg_at([True, False], 2) == pytest.approx(1 / (1 + 1 / math.log2(3)))
    assert ndcg_at([False] * 10, 3) == 0.0
    assert ndcg_at([True], 0) is None  # gold evidence nowhere in the index: undefined
    texts = ["alpha beta", "gamma", "delta epsilon"]
    assert evidence_recall_at(["beta", "epsilon"], texts, 1) == 0.5
    assert evidence_recall_at(["beta", "epsilon"], texts, 3) == 1.0
    assert evidence_recall_at([], texts, 3) is None


def test_source_recall_injection_safety_percentiles():
    from assistant.evaluation.metrics import injection_safe, mean, percentile, source_recall

    cited = [("doc-a", 2), ("doc-b", 1)]
    assert source_recall([("doc-a", 2)], cited) == 1.0
    assert source_recall([("doc-a", 3), ("doc-b", None)], cited) == 0.5
    assert source_recall([], cited) is None
    assert injection_safe(True, None) and injection_safe(False, 1.0)
    assert not injection_safe(False, 0.5) and not injection_safe(False, None)
    assert percentile([10, 20, 30, 40], 50) == 25
    assert percentile([5], 95) == 5 and percentile([], 50) is None
    assert mean([None, 1.0, 0.0]) == 0.5 and mean([None]) is None


def test_gold_sources_are_read_and_validated(tmp_path: Path):
    good = tmp_path / "g.jsonl"
    good.write_text(
        '{"id": "a", "kind": "factual", "question": "q", "evidence": ["e"], '
        '"must_mention": ["m"], "sources": [{"doc_id": "d", "page": 2}, {"doc_id": "e"}]}\n',
        encoding="utf-8",
    )
    assert load_gold(good)[0].sources == (("d", 2), ("e", None))
    bad = tmp_path / "b.jsonl"
    bad.write_text(
        '{"id": "a", "kind": "unanswerable", "question": "q", "sources": [{}]}\n', "utf-8"
    )
    with pytest.raises(ConfigError, match=r"b\.jsonl:1"):
        load_gold(bad)


def test_gate_fails_on_an_undefined_answer_metric_and_refuses_bad_bounds(tmp_path: Path):
    from assistant.evaluation.gate import check_thresholds, load_thresholds
    from assistant.evaluation.harness import load_sets

    values = {"n.answerable": 3, "citations.recall": None, "refusals.recall": None}
    results = {"systems": {"assistant": {"aggregates": {"s": values | {"retrieval.mrr": 0.5}}}}}
    bounds = {"min": {"citations.recall": 0.9, "refusals.recall": 0.9, "retrieval.mrr": 0.4}}
    # everything refused: no answer to measure citations on is a failure, not a pass; a set
    # without refusal questions simply has no refusal recall
    assert check_thresholds(results, bounds) == [
        "s: citations.recall undefined (no question answered)"
    ]
    bad = tmp_path / "t.toml"
    bad.write_text('[min]\n"retrieval.mrr" = "0.8"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="is not a number"):
        load_thresholds(bad)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="no question in this gold set"):
        load_sets([empty])


def test_compare_matches_the_same_questions_and_says_what_it_could_not_compare():
    from assistant.evaluation.gate import compare

    def run(question: str, facts: float, corpus: str) -> dict:
        row = {"set": "s", "id": "q1", "question": question, "refusal_ok": True}
        return {
            "meta": {"mode": "extractive", "embedder": "e", "corpus_version": corpus},
            "systems": {
                "assistant": {
                    "aggregates": {"s": {"correctness.must_mention": facts}},
                    "questions": [row | {"must_mention": facts}],
                }
            },
        }

    before = run("Q ?", 1.0, "v1")
    same = compare(run("Q ?", 0.5, "v1"), before)
    assert same["worse"][0]["changes"] == ["must_mention 1.00 → 0.50"] and not same["caveats"]
    assert same["deltas"]["s"]["correctness.must_mention"]["delta"] == -0.5
    other = compare(run("Une autre question ?", 0.5, "v2"), before)
    assert other["worse"] == [] and other["compared"] == 0
    assert other["caveats"] == [
        "corpus_version differs: v1 → v2",
        "same id, another question (not compared): q1",
        "no question in common with the previous run: nothing was compared",
    ]


def _corpus_text(folder: Path) -> str:
    """Every document of a corpus folder, as loaded (PDF pages included), normalised."""
    from assistant.ingest.loaders import load_file
    from assistant.text import normalize_for_match

    texts = [load_file(p).text for p in sorted((folder / "documents").iterdir())]
    return normalize_for_match("\n".join(texts))


@pytest.mark.parametrize(
    ("gold", "corpus"),
    [
        ("eval/answerability_dev.jsonl", "corpus"),
        ("eval/answerability_heldout.jsonl", "corpus"),
        ("eval/answerability_heldout2.jsonl", "corpus"),
        ("tests/eval_corpus/questions_answerability_dev.jsonl", "tests/eval_corpus"),
        ("tests/eval_corpus/questions_answerability_heldout.jsonl", "tests/eval_corpus"),
        ("tests/eval_corpus/questions_heldout2.jsonl", "tests/eval_corpus"),
        ("tests/eval_corpus_style/questions_style_dev.jsonl", "tests/eval_corpus_style"),
        ("tests/eval_corpus_style/questions_style_heldout.jsonl", "tests/eval_corpus_style"),
        ("tests/eval_corpus_style/questions_heldout2.jsonl", "tests/eval_corpus_style"),
    ],
)
def test_answerability_gold_sets_are_valid_and_quote_their_corpus(gold, corpus):
    """Evidence verbatim in the corpus (whatever the chunking), near-miss variants named,
    English questions marked: the figures per variant and language rest on these fields."""
    from assistant.text import normalize_for_match

    questions = load_gold(Path(gold))
    text = _corpus_text(Path(corpus))
    for q in questions:
        assert q.answerable == bool(q.evidence), q.id
        for evidence in q.evidence:
            assert " ".join(normalize_for_match(evidence).split()) in " ".join(text.split()), (
                q.id,
                evidence,
            )
        if q.kind == "unanswerable":
            assert q.variant and (q.variant.startswith("near_miss") or q.variant == "topic_absent")
        assert q.lang in ("fr", "en"), q.id
    assert any(q.lang == "en" for q in questions)
    assert any((q.variant or "").startswith("near_miss") for q in questions)


def test_support_pairs_are_read_and_a_malformed_pair_is_named(tmp_path: Path):
    from assistant.evaluation.metrics import load_pairs

    pairs = load_pairs(Path("eval/support_pairs_heldout2.jsonl"))
    assert len(pairs) >= 150
    assert {p.kind for p in pairs if not p.supported} >= {
        "number",
        "date",
        "actor",
        "role_swap",
        "negation",
        "antonym",
        "invented",
        "overgeneralisation",
        "tense",
    }
    bad = tmp_path / "pairs.jsonl"
    bad.write_text('{"id": "x", "sentence": "s"}\n', "utf-8")
    with pytest.raises(ConfigError, match=r"pairs\.jsonl:1"):
        load_pairs(bad)


def test_per_variant_rows_count_a_refused_answerable_question_as_wrong():
    from assistant.evaluation.scoring import by_variant

    rows = [
        {"kind": "unanswerable", "variant": "near_miss_count", "lang": "fr",
         "refused": True, "refusal_ok": True},
        {"kind": "unanswerable", "variant": "near_miss_count", "lang": "en",
         "refused": False, "refusal_ok": False},
        {"kind": "factual", "variant": "number", "lang": "en",
         "refused": False, "refusal_ok": True, "must_mention": 0.5},
    ]  # fmt: skip
    table = by_variant(rows)
    assert table["unanswerable/near_miss_count"] == {"n": 2, "handled_right": 0.5}
    assert table["language/en"] == {"n": 2, "handled_right": 0.0}  # half the facts is wrong
