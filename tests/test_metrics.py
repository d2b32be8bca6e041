"""Gold-set loading and metrics, on hand-made cases with known values."""

from pathlib import Path

import pytest

from assistant.errors import ConfigError
from assistant.evaluation import (
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
    path.write_text('{"id": "a", "question": "q", "kind": "factual"}\n{"id": "b"}\n')
    with pytest.raises(ConfigError) as err:
        load_gold(path)
    assert ":2: missing field(s) question, kind" in str(err.value)
    path.write_text('{"id": "a", "question": "q", "kind": "weird"}\n')
    with pytest.raises(ConfigError, match="kind must be one of"):
        load_gold(path)
