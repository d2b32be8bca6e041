"""The naive baseline of the evaluation report: the RAG a quick tutorial would build.

Dense-only retrieval (the same embedder as the assistant) over fixed-size character windows
(no structure, no title or section), no refusal of any kind, and the answer is the top passage,
every sentence of it cited ``[1]``. It runs in memory, beside the real index, so that the
report can show in one run what the assistant's chunking, hybrid retrieval, answer selection
and refusals add.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from assistant.contract import Answer, Citation, Passage
from assistant.index.embeddings import Embedder
from assistant.index.retrieval import Hit
from assistant.ingest.chunking import Chunk
from assistant.ingest.loaders import Document
from assistant.text import split_sentences

WINDOW_CHARS = 800
OVERLAP_CHARS = 100


def fixed_size_chunks(
    doc: Document, window: int = WINDOW_CHARS, overlap: int = OVERLAP_CHARS
) -> list[Chunk]:
    """Windows of ``window`` characters every ``window - overlap`` characters; a window's page
    is the page where it starts."""
    text, starts, pages = "", [], []
    for block in doc.blocks:
        starts.append(len(text))
        pages.append(block.page)
        text += block.text + "\n"
    chunks = []
    step = max(window - overlap, 1)
    for ordinal, start in enumerate(range(0, max(len(text) - overlap, 1), step)):
        piece = text[start : start + window].strip()
        if not piece:
            continue
        page = pages[bisect_right(starts, start) - 1] if starts else None
        digest = hashlib.sha1(f"{doc.doc_id}:{start}".encode()).hexdigest()[:12]
        m = doc.meta
        url = f"{m.url}#page={page}" if m.url and page else m.url
        chunks.append(
            Chunk(
                f"baseline-{digest}",
                doc.doc_id,
                m.title,
                piece,
                (),
                len(piece.split()),
                ordinal,
                page=page,
                url=url,
                date=m.date,
                doc_type=m.doc_type,
            )
        )
    return chunks


@dataclass
class Baseline:
    """Fixed-size chunks and their vectors, searched by cosine similarity."""

    chunks: list[Chunk]
    vectors: np.ndarray
    embedder: Embedder

    @classmethod
    def build(cls, documents: Sequence[Document], embedder: Embedder) -> Baseline:
        chunks = [c for doc in documents for c in fixed_size_chunks(doc)]
        vectors = embedder.embed_passages([c.text for c in chunks])
        return cls(chunks, vectors, embedder)

    def search(self, query: str, k: int) -> list[Hit]:
        if not self.chunks:
            return []
        scores = self.vectors @ self.embedder.embed_query(query)
        order = np.argsort(-scores, kind="stable")[:k]
        return [
            Hit(self.chunks[i], float(scores[i]), rank, dense_rank=rank)
            for rank, i in enumerate(order, start=1)
        ]

    def ask(self, question: str, k: int = 5) -> Answer:
        """Never refuses: the top passage, each of its sentences followed by ``[1]``."""
        hits = self.search(question, k)
        answer = Answer(
            question=question,
            answer="",
            retrieved=[Passage.of(h) for h in hits],
            mode="baseline",
        )
        if hits:
            top = hits[0].chunk
            sentences = [s for line in top.text.splitlines() for s in split_sentences(line)]
            answer.answer = "\n".join(f"{s} [1]" for s in sentences)
            answer.citations = [Citation.of(1, top, top.text)]
        return answer
