from assistant.index.retrieval import reciprocal_rank_fusion


def test_rrf_scores_are_sums_of_reciprocal_ranks():
    fused = reciprocal_rank_fusion([[("a", 9.0), ("b", 5.0)], [("b", 0.9), ("c", 0.8)]], k0=60)
    assert [cid for cid, _ in fused] == ["b", "a", "c"]
    assert dict(fused)["b"] == 1 / 61 + 1 / 62
    assert dict(fused)["a"] == 1 / 61
    assert dict(fused)["c"] == 1 / 62


def test_rrf_ties_are_broken_by_id_deterministically():
    fused = reciprocal_rank_fusion([[("z", 1.0)], [("y", 1.0)], [("x", 1.0)]])
    assert [cid for cid, _ in fused] == ["x", "y", "z"]


def test_rrf_of_nothing_is_empty():
    assert reciprocal_rank_fusion([[], []]) == []
