"""Retrieval: BM25, dense, and hybrid (reciprocal rank fusion) over an :class:`OpenIndex`.

A retriever implements one method, ``_rank`` (chunk ids with scores, best first, over one
view of the index); :meth:`Retriever.search` turns them into :class:`Hit` objects. Ties are
broken by chunk id (a hash of the chunk's document, section and text) so that results are
deterministic.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, replace

from assistant.glossary import french_glosses
from assistant.index.view import OpenIndex, View
from assistant.ingest.chunking import Chunk
from assistant.text import detect_language


@dataclass(frozen=True)
class Hit:
    """One retrieved chunk, with the rank and score of each retriever that found it."""

    chunk: Chunk
    score: float
    rank: int
    bm25_rank: int | None = None
    bm25_score: float | None = None
    dense_rank: int | None = None
    dense_score: float | None = None


Ranking = list[tuple[str, float]]


def lexical_query(query: str, language: str | None = None) -> str:
    """What BM25 searches: the question, plus the French words of an English question's
    words (BM25 over French text finds nothing in English words). ``language``: detected
    when not given."""
    if (language or detect_language(query)) != "en":
        return query
    return f"{query} {french_glosses(query)}"


def reciprocal_rank_fusion(rankings: Sequence[Ranking], k0: int = 60) -> Ranking:
    """Fuse rankings: score(d) = Σ 1 / (k0 + rank of d), ranks from 1; ties by id."""
    fused: dict[str, float] = {}
    for ranking in rankings:
        for rank, (chunk_id, _score) in enumerate(ranking, start=1):
            fused[chunk_id] = fused.get(chunk_id, 0.0) + 1.0 / (k0 + rank)
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))


def fuse(hit_lists: Sequence[Sequence[Hit]], limit: int, k0: int = 60) -> list[Hit]:
    """Several searches' hits as one list: RRF over their rankings, each hit re-ranked."""
    by_id = {h.chunk.chunk_id: h for hits in hit_lists for h in hits}
    fused = reciprocal_rank_fusion(
        [[(h.chunk.chunk_id, h.score) for h in hits] for hits in hit_lists], k0
    )
    return [
        replace(by_id[cid], rank=rank, score=score)
        for rank, (cid, score) in enumerate(fused[:limit], start=1)
    ]


class Retriever(ABC):
    """Base class: implement ``_rank`` (over one view of the index); ``ranked`` and
    ``search`` read the index's current view once per call."""

    def __init__(self, index: OpenIndex) -> None:
        self.index = index

    @abstractmethod
    def _rank(self, view: View, query: str, n: int, doc_type: str | None) -> Ranking:
        """Up to ``n`` (chunk id, score) pairs, best first."""

    def ranked(self, query: str, n: int, doc_type: str | None = None) -> Ranking:
        """Up to ``n`` (chunk id, score) pairs, best first."""
        return self._rank(self.index.view(), query, n, doc_type)

    def search(self, query: str, k: int = 5, doc_type: str | None = None) -> list[Hit]:
        view = self.index.view()
        ranking = self._rank(view, query, k, doc_type)[:k]
        chunks = view.chunks([cid for cid, _ in ranking])
        ranking = [(cid, score) for cid, score in ranking if cid in chunks]  # purged meanwhile
        return [
            self._hit(chunks[cid], score, rank)
            for rank, (cid, score) in enumerate(ranking, start=1)
        ]

    def _hit(self, chunk: Chunk, score: float, rank: int) -> Hit:
        return Hit(chunk, score, rank)

    def _dense(self, view: View, query: str, n: int, doc_type: str | None) -> Ranking:
        return view.dense(self.index.index.embedder.embed_query(query), n, doc_type)


class BM25Retriever(Retriever):
    def _rank(self, view: View, query: str, n: int, doc_type: str | None) -> Ranking:
        return view.lexical(query, n, doc_type)

    def _hit(self, chunk: Chunk, score: float, rank: int) -> Hit:
        return Hit(chunk, score, rank, bm25_rank=rank, bm25_score=score)


class DenseRetriever(Retriever):
    def _rank(self, view: View, query: str, n: int, doc_type: str | None) -> Ranking:
        return self._dense(view, query, n, doc_type)

    def _hit(self, chunk: Chunk, score: float, rank: int) -> Hit:
        return Hit(chunk, score, rank, dense_rank=rank, dense_score=score)


class HybridRetriever(Retriever):
    """BM25 and dense candidates (``candidates`` each) fused with RRF."""

    def __init__(self, index: OpenIndex, candidates: int = 30, rrf_k: int = 60) -> None:
        super().__init__(index)
        self.candidates = candidates
        self.rrf_k = rrf_k

    def _both(
        self, view: View, query: str, n: int, doc_type: str | None
    ) -> tuple[Ranking, Ranking]:
        depth = max(n, self.candidates)
        lexical = view.lexical(lexical_query(query), depth, doc_type)
        return lexical, self._dense(view, query, depth, doc_type)

    def _rank(self, view: View, query: str, n: int, doc_type: str | None) -> Ranking:
        return reciprocal_rank_fusion(self._both(view, query, n, doc_type), self.rrf_k)

    def search(self, query: str, k: int = 5, doc_type: str | None = None) -> list[Hit]:
        view = self.index.view()
        lexical, dense = self._both(view, query, k, doc_type)
        fused = reciprocal_rank_fusion([lexical, dense], self.rrf_k)[:k]
        chunks = view.chunks([cid for cid, _ in fused])
        fused = [(cid, score) for cid, score in fused if cid in chunks]  # purged meanwhile
        b = {cid: (r, s) for r, (cid, s) in enumerate(lexical, start=1)}
        d = {cid: (r, s) for r, (cid, s) in enumerate(dense, start=1)}
        return [
            Hit(chunks[cid], score, rank, *b.get(cid, (None, None)), *d.get(cid, (None, None)))
            for rank, (cid, score) in enumerate(fused, start=1)
        ]


def make_retriever(
    index: OpenIndex, kind: str = "hybrid", candidates: int = 30, rrf_k: int = 60
) -> Retriever:
    """``kind``: 'hybrid' (default), 'bm25' or 'dense'."""
    if kind == "bm25":
        return BM25Retriever(index)
    if kind == "dense":
        return DenseRetriever(index)
    return HybridRetriever(index, candidates, rrf_k)
