"""French BM25: golden ranks on a tiny fictitious corpus, and a reference implementation."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from assistant.index.bm25 import BM25Index, TermBlock, tokenize

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


def test_scores_match_a_reference_implementation():
    texts = [*CORPUS.values(), "Le comité fictif évalue, évalue encore et évalue toujours."]
    index = BM25Index.build([str(i) for i in range(len(texts))], texts)
    tokenized = [tokenize(t) for t in texts]
    for query in ("comité évalue", "patients outil", "trois hôpitaux pilotes"):
        expected = reference_bm25(tokenized, tokenize(query))
        assert list(index.scores(query)) == pytest.approx(expected, rel=1e-5)


def test_scores_match_bm25s_on_the_same_tokens():
    """The library this index replaced (it cannot add a document without re-indexing all)."""
    import bm25s

    texts = [*CORPUS.values(), "Le comité fictif évalue, évalue encore et évalue toujours."]
    index = BM25Index.build([str(i) for i in range(len(texts))], texts)
    reference = bm25s.BM25(k1=1.2, b=0.75)
    reference.index([tokenize(t) for t in texts], show_progress=False)
    for query in ("comité évalue", "information écrite des patients", "hôpitaux"):
        tokens = sorted(set(tokenize(query)))
        assert list(index.scores(query)) == pytest.approx(
            list(reference.get_scores(tokens)), rel=1e-5
        )


def test_blocks_stacked_score_like_one_index_built_at_once(tmp_path: Path):
    """Adding a document adds a block: the same scores as re-indexing everything."""
    ids, texts = list(CORPUS), list(CORPUS.values())
    whole = BM25Index.build(ids, texts)
    first = TermBlock.from_texts(ids[:2], texts[:2])
    second = TermBlock.from_texts(ids[2:], texts[2:])
    second.save(tmp_path / "b.npz")
    reloaded = TermBlock.load(tmp_path / "b.npz")
    assert reloaded is not None and reloaded.ids == ids[2:]
    stacked = BM25Index([first, reloaded])
    assert stacked.ids == whole.ids
    for query in ("évaluation des logiciels", "telesurveillance", "outil fictif patients"):
        assert list(stacked.scores(query)) == pytest.approx(list(whole.scores(query)))
    assert stacked.knows(tokenize("hôpitaux")[0]) and not stacked.knows("blanquet")


def test_top_orders_by_score_then_id_and_honours_a_mask():
    texts = {"z": "outil fictif", "y": "outil fictif", "x": "autre chose", "w": "outil"}
    index = BM25Index.build(list(texts), list(texts.values()))
    assert [cid for cid, _ in index.top("outil fictif", 3)] == ["y", "z", "w"]
    assert [cid for cid, _ in index.top("outil fictif", 1)] == ["y"]  # tie: smaller id first
    mask = np.array([True, False, True, True])
    assert [cid for cid, _ in index.top("outil fictif", 3, mask)] == ["z", "w"]
    assert index.top("blanquette", 3) == []
    assert BM25Index([]).top("outil", 3) == []


def test_missing_or_damaged_block_loads_as_none(tmp_path: Path):
    assert TermBlock.load(tmp_path / "absent.npz") is None
    (tmp_path / "bad.npz").write_bytes(b"not a numpy archive")
    assert TermBlock.load(tmp_path / "bad.npz") is None
