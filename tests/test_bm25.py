"""French BM25: golden ranks on a tiny fictitious corpus, and a reference implementation."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from assistant.bm25 import BM25Index, tokenize

CORPUS = {
    "a": "Le comité fictif évalue les logiciels d'aide au diagnostic.",
    "b": "Les patients reçoivent une information écrite sur l'outil fictif.",
    "c": "Les évaluations pilotes fictives portent sur trois hôpitaux.",
    "d": "La télésurveillance fictive n'est pas concernée par cette note.",
}


def test_tokenize_folds_accents_drops_stop_words_and_stems():
    assert tokenize("Les évaluations d’un Hôpital") == tokenize("les evaluation d'un hopital")
    assert "les" not in tokenize("Les évaluations")
    assert tokenize("évaluer évaluation évaluations") == ["evalu"] * 3
    assert tokenize("") == []


@pytest.mark.parametrize(
    ("query", "expected_first"),
    [
        ("évaluation des logiciels", "a"),
        ("evaluations pilotes", "c"),  # no accents, plural
        ("information des patients", "b"),
        ("telesurveillance", "d"),
    ],
)
def test_golden_ranks(query: str, expected_first: str):
    index = BM25Index.build(list(CORPUS), list(CORPUS.values()))
    scores = index.scores(query)
    assert index.ids[int(scores.argmax())] == expected_first


def test_unknown_terms_score_zero():
    index = BM25Index.build(list(CORPUS), list(CORPUS.values()))
    assert not index.scores("blanquette de veau").any()


def reference_bm25(docs: list[list[str]], query: list[str], k1=1.2, b=0.75) -> list[float]:
    """Lucene BM25 (Lucene >= 8 drops the constant (k1 + 1) factor), written out plainly:
    the variant bm25s uses by default."""
    n = len(docs)
    avgdl = sum(map(len, docs)) / n
    scores = []
    for doc in docs:
        score = 0.0
        for term in set(query):
            df = sum(term in d for d in docs)
            if df == 0:
                continue
            idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
            tf = doc.count(term)
            score += idf * tf / (tf + k1 * (1 - b + b * len(doc) / avgdl))
        scores.append(score)
    return scores


def test_scores_match_a_reference_implementation(tmp_path: Path):
    texts = [*CORPUS.values(), "Le comité fictif évalue, évalue encore et évalue toujours."]
    index = BM25Index.build([str(i) for i in range(len(texts))], texts)
    tokenized = [tokenize(t) for t in texts]
    for query in ("comité évalue", "patients outil", "trois hôpitaux pilotes"):
        expected = reference_bm25(tokenized, tokenize(query))
        assert list(index.scores(query)) == pytest.approx(expected, rel=1e-5)
    index.save(tmp_path / "bm25")
    reloaded = BM25Index.load(tmp_path / "bm25")
    assert reloaded is not None and reloaded.ids == index.ids
    assert list(reloaded.scores("comité évalue")) == pytest.approx(
        list(index.scores("comité évalue"))
    )


def test_missing_or_damaged_saved_index_loads_as_none(tmp_path: Path):
    assert BM25Index.load(tmp_path / "absent") is None
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "ids.json").write_text("not json")
    assert BM25Index.load(tmp_path / "bad") is None
