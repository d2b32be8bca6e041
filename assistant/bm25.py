"""French BM25 side index (bm25s + Snowball French stemmer + French stop words).

Tokens are accent-folded before stemming, on both sides, so that a question typed without
accents ("evaluation") matches the published text ("évaluation").
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import numpy as np

from .text import normalize_for_match

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


class BM25Index:
    """A bm25s index over chunk texts, addressed by chunk id."""

    def __init__(self, ids: Sequence[str], model: object) -> None:
        self.ids = list(ids)
        self.model = model

    @classmethod
    def build(cls, ids: Sequence[str], texts: Sequence[str]) -> BM25Index:
        import bm25s

        model = bm25s.BM25(k1=1.2, b=0.75)
        if ids:
            model.index([tokenize(t) for t in texts], show_progress=False)
        return cls(ids, model)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every chunk for ``query`` (zeros when no query term is known)."""
        if not self.ids:
            return np.zeros(0)
        vocab = self.model.vocab_dict  # type: ignore[attr-defined]
        tokens = [t for t in tokenize(query) if t in vocab]
        if not tokens:
            return np.zeros(len(self.ids))
        return np.asarray(self.model.get_scores(tokens), dtype=np.float64)  # type: ignore[attr-defined]

    def save(self, folder: Path) -> None:
        """Write to ``folder`` atomically (build aside, then rename)."""
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}-"))
        if self.ids:
            self.model.save(str(tmp), show_progress=False)  # type: ignore[attr-defined]
        (tmp / "ids.json").write_text(json.dumps(self.ids), encoding="utf-8")
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(tmp, folder)

    @classmethod
    def load(cls, folder: Path) -> BM25Index | None:
        """The saved index, or None if it is missing or unreadable (then rebuild it)."""
        import bm25s

        try:
            ids = json.loads((folder / "ids.json").read_text(encoding="utf-8"))
            if not ids:
                return cls([], bm25s.BM25())
            model = bm25s.BM25.load(str(folder), show_progress=False)
        except (OSError, ValueError, KeyError):
            return None
        return cls(ids, model)
