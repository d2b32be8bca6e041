"""sentence-transformers backend: any model name or local path (extra ``st``).

Loads offline-friendly: a local path needs no network; a hub name needs the model in the
local cache (set ``HF_HUB_OFFLINE=1`` on machines without internet)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import Any

import numpy as np

from assistant.errors import ConfigError, optional_import
from assistant.index.embeddings import Embedder, Kind


class SentenceTransformerEmbedder(Embedder):
    batch_size = 32

    def __init__(self, model: str, query_prefix: str = "", passage_prefix: str = "") -> None:
        self.model_name = model
        self.prefixes = {"query": query_prefix, "passage": passage_prefix}
        self.id = f"st:{model}|q={query_prefix!r}|p={passage_prefix!r}"

    @cached_property
    def model(self) -> Any:
        st = optional_import("sentence_transformers", "the sentence-transformers embedder", "st")
        try:
            return st.SentenceTransformer(self.model_name, device="cpu")
        except (OSError, ValueError) as exc:
            raise ConfigError(
                f"cannot load sentence-transformers model '{self.model_name}': {exc}",
                "give a local model folder, or a hub name already in the local cache",
            ) from exc

    def embed_batch(self, texts: Sequence[str], kind: Kind) -> np.ndarray:
        prefix = self.prefixes[kind]
        vectors = self.model.encode(
            [prefix + t for t in texts], normalize_embeddings=True, convert_to_numpy=True
        )
        return np.atleast_2d(vectors).astype(np.float32)
