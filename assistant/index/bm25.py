"""French BM25 side index, built from per-document blocks of term counts.

Tokens: accent-folded before stemming, on both sides, so that a question typed without
accents ("evaluation") matches the published text ("évaluation"); French stop words dropped;
Snowball French stems (PyStemmer).

Why not ``bm25s`` alone: bm25s precomputes every (chunk, term) score, so adding one document
means re-indexing the whole corpus (~6 s at 100k chunks). Here each document's term counts are
tokenised once and kept as a :class:`TermBlock`; the index of a corpus version is the blocks
stacked into one sparse matrix of raw counts, and a query scores only the columns of its own
terms. Scores are Lucene BM25, the variant bm25s uses by default (tests compare the two).
"""

from __future__ import annotations

import logging
import re
import zipfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from scipy import sparse

from assistant.text import normalize_for_match

# French function words, accent-folded (as produced by normalize_for_match).
FRENCH_STOP_WORDS = frozenset(
    """
    a afin ai aie aient aies ait alors as au aucun aucune aupres auquel aussi autre autres aux
    auxquelles auxquels avaient avais avait avant avec avez aviez avions avoir avons ayant c ca
    ce ceci cela celle celles celui cependant ces cet cette ceux chaque chez ci comme comment
    d dans de des desquelles desquels deux devant donc dont du duquel elle elles en encore entre
    es est et etaient etais etait etant ete etes etiez etions etre eu eue eues eurent eus eut
    eux fait faites fois font furent fut ici il ils j je jusqu l la laquelle le lequel les
    lesquelles lesquels leur leurs lors lorsque lui m ma mais me meme memes mes moi mon n ne ni
    nos notre nous on ont or ou par parce pas peu peut peuvent plus pour pourquoi puis qu quand
    que quel quelle quelles quels qui quoi s sa sans se selon ses si sien soi soient sois soit
    sommes son sont sous soyez sur t ta te tes toi ton tous tout toute toutes tres tu un une
    vers voici voila vos votre vous y
    the of and to in is are what which how for on with an be by from that this it or as at
    """.split()
)

_WORD = re.compile(r"[a-z0-9]+")


@cache
def _stemmer():  # PyStemmer has no type hints
    import Stemmer

    return Stemmer.Stemmer("french")


def tokenize(text: str) -> list[str]:
    """Accent-folded, lowercased, stop-word-free, Snowball-stemmed French tokens."""
    words = [w for w in _WORD.findall(normalize_for_match(text)) if w not in FRENCH_STOP_WORDS]
    return _stemmer().stemWords(words)


@dataclass(frozen=True)
class TermBlock:
    """Term counts of some chunks (one document's, in the index): ``counts[row, term]``."""

    ids: list[str]
    terms: list[str]
    counts: sparse.csr_matrix  # rows = ids, columns = terms, values = term frequency

    @classmethod
    def from_texts(cls, ids: Sequence[str], texts: Sequence[str]) -> TermBlock:
        vocabulary: dict[str, int] = {}
        rows, cols = [], []
        for row, text in enumerate(texts):
            for token in tokenize(text):
                rows.append(row)
                cols.append(vocabulary.setdefault(token, len(vocabulary)))
        counts = sparse.csr_matrix(
            (np.ones(len(rows), dtype=np.float32), (rows, cols)),
            shape=(len(ids), len(vocabulary)),
        )
        counts.sum_duplicates()
        return cls(list(ids), list(vocabulary), counts)

    def save(self, path: Path) -> None:
        """Write to ``path`` (.npz) atomically."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp.npz")
        np.savez(
            tmp,
            ids=np.asarray(self.ids, dtype=str),
            terms=np.asarray(self.terms, dtype=str),
            data=self.counts.data.astype(np.uint16),
            indices=self.counts.indices.astype(np.int32),
            indptr=self.counts.indptr.astype(np.int64),
        )
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> TermBlock | None:
        """The saved block, or None if it is missing or unreadable (then rebuild it)."""
        try:
            with np.load(path, allow_pickle=False) as z:
                ids, terms = z["ids"].tolist(), z["terms"].tolist()
                counts = sparse.csr_matrix(
                    (z["data"].astype(np.float32), z["indices"], z["indptr"]),
                    shape=(len(ids), len(terms)),
                )
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
            logging.getLogger(__name__).warning(
                "BM25 term block %s unreadable (%s): rebuilt from the index", path, exc
            )
            return None
        return cls(ids, terms, counts)


class BM25Index:
    """Lucene BM25 over stacked term blocks, addressed by chunk id."""

    def __init__(self, blocks: Sequence[TermBlock], k1: float = 1.2, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self.ids: list[str] = [i for block in blocks for i in block.ids]
        self.vocabulary: dict[str, int] = {}
        parts = []
        for block in blocks:
            columns = np.fromiter(
                (self.vocabulary.setdefault(t, len(self.vocabulary)) for t in block.terms),
                dtype=np.int32,
                count=len(block.terms),
            )
            c = block.counts
            parts.append((c.data, columns[c.indices] if len(columns) else c.indices, c.indptr))
        self.counts = self._stack(parts, len(self.ids), len(self.vocabulary))
        lengths = np.bincount(self.counts.indices, self.counts.data, minlength=len(self.ids))
        self.lengths = lengths
        self.avgdl = float(lengths.mean()) if len(lengths) else 0.0

    @staticmethod
    def _stack(parts: list, n_rows: int, n_terms: int) -> sparse.csc_matrix:
        """One CSC matrix (rows = chunks) from CSR parts, each with global column numbers."""
        if not parts:
            return sparse.csc_matrix((0, n_terms), dtype=np.float32)
        data = np.concatenate([p[0] for p in parts]).astype(np.float32)
        indices = np.concatenate([p[1] for p in parts]).astype(np.int32)
        offsets = np.cumsum([0] + [p[2][-1] for p in parts[:-1]])
        indptr = np.concatenate(
            [parts[0][2][:1]] + [p[2][1:] + off for p, off in zip(parts, offsets, strict=True)]
        )
        csr = sparse.csr_matrix((data, indices, indptr), shape=(n_rows, n_terms))
        return csr.tocsc()

    @classmethod
    def build(cls, ids: Sequence[str], texts: Sequence[str]) -> BM25Index:
        """An index over ``texts`` (one block)."""
        return cls([TermBlock.from_texts(ids, texts)])

    def knows(self, term: str) -> bool:
        """True if the (stemmed) term occurs somewhere in the index."""
        return term in self.vocabulary

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every chunk for ``query`` (zeros when no query term is known)."""
        scores = np.zeros(len(self.ids), dtype=np.float64)
        # a term repeated in the query counts as often as it appears (as in bm25s)
        terms = Counter(self.vocabulary[t] for t in tokenize(query) if t in self.vocabulary)
        n = len(self.ids)
        for term, times in sorted(terms.items()):
            start, end = self.counts.indptr[term], self.counts.indptr[term + 1]
            rows = self.counts.indices[start:end]
            tf = self.counts.data[start:end].astype(np.float64)
            df = end - start
            idf = np.log(1 + (n - df + 0.5) / (df + 0.5))
            norm = self.k1 * (1 - self.b + self.b * self.lengths[rows] / self.avgdl)
            scores[rows] += times * idf * tf / (tf + norm)
        return scores

    def top(self, query: str, n: int, allowed: np.ndarray | None = None) -> list[tuple[str, float]]:
        """The ``n`` best chunks holding a query term, best first, ties by id.
        ``allowed``: a boolean mask over rows (e.g. one publication type)."""
        scores = self.scores(query)
        if allowed is not None:
            scores = np.where(allowed, scores, 0.0)
        positive = np.flatnonzero(scores > 0)
        if len(positive) > n:  # keep every row tied with the n-th best, then order exactly
            kth = np.partition(scores[positive], len(positive) - n)[len(positive) - n]
            positive = positive[scores[positive] >= kth]
        order = sorted(positive.tolist(), key=lambda i: (-scores[i], self.ids[i]))
        return [(self.ids[i], float(scores[i])) for i in order[:n]]
