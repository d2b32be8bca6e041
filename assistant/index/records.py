"""Chunk ⇄ Chroma record: the texts embedded and indexed for a chunk, its slim metadata,
the ids (record id = ``<chunk id>@<sha12>``; document key = doc id + sha), and the records
of a collection read back page by page."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assistant.index.registry import DocEntry

import hashlib
import json
from dataclasses import replace
from typing import Any

from assistant.ingest.chunking import Chunk
from assistant.text import split_sentences

# --------------------------------------------------------------------------- chunk ⇄ record


def embedding_text(chunk: Chunk, with_context: bool) -> str:
    """What is embedded for a chunk: its text, optionally after its title and section."""
    if not with_context:
        return chunk.text
    context = " — ".join(x for x in (chunk.title, chunk.section) if x)
    return f"{context}\n{chunk.text}"


def line_sentences(line: str) -> list[str]:
    """Sentences of one line of a chunk's text (a list item's "- " marker removed)."""
    return split_sentences(line.removeprefix("- "))


def chunk_sentences(chunk: Chunk) -> list[str]:
    """The sentences of a chunk (list items count as sentences); [] when it has only one."""
    sentences = [s for line in chunk.text.split("\n") for s in line_sentences(line)]
    return sentences if len(sentences) > 1 else []


def sentence_texts(chunk: Chunk, with_context: bool) -> list[str]:
    """What is embedded for each sentence of a chunk (the chunk itself when it has one)."""
    sentences = chunk_sentences(chunk)
    if not sentences:
        return [embedding_text(chunk, with_context)]
    return [embedding_text(replace(chunk, text=s), with_context) for s in sentences]


def bm25_text(chunk: Chunk) -> str:
    """What BM25 indexes: the section path (headings carry key words) and the text."""
    return f"{chunk.section}\n{chunk.text}"


def version(sha: str) -> str:
    """The document version a record belongs to (a prefix of the document's SHA-256)."""
    return sha[:16]


def chunk_metadata(chunk: Chunk, doc_sha: str) -> dict[str, Any]:
    """What Chroma keeps of a chunk beside its text; what the whole document shares (title,
    link, date, type) is in the registry."""
    meta: dict[str, Any] = {
        "doc_id": chunk.doc_id,
        "doc_sha": version(doc_sha),
        "section_path": json.dumps(chunk.section_path, ensure_ascii=False),
        "n_tokens": chunk.n_tokens,
        "ordinal": chunk.ordinal,
    }
    meta.update({k: v for k, v in (("page", chunk.page), ("page_end", chunk.page_end)) if v})
    return meta


def chunk_from_record(chunk_id: str, text: str, meta: dict[str, Any], doc: DocEntry) -> Chunk:
    page = meta.get("page")
    return Chunk(
        chunk_id=chunk_id,
        doc_id=meta["doc_id"],
        title=doc.title,
        text=text,
        section_path=tuple(json.loads(meta["section_path"])),
        n_tokens=int(meta["n_tokens"]),
        ordinal=int(meta["ordinal"]),
        page=page,
        page_end=meta.get("page_end"),
        url=f"{doc.url}#page={page}" if doc.pdf and page is not None else doc.url,
        date=doc.date,
        doc_type=doc.type or "document",
    )


def record_id(chunk_id: str, sha: str) -> str:
    """A chunk's id in Chroma: its chunk id and its document version (two versions of a
    document may share a chunk while an update is published)."""
    return f"{chunk_id}@{sha[:12]}"


def chunk_id_of(record: str) -> str:
    return record.rsplit("@", 1)[0]


def doc_id_of(chunk_id: str) -> str:
    """The document of a chunk id (``<doc id>:<digest>``)."""
    return chunk_id.rsplit(":", 1)[0]


def doc_key(doc_id: str, sha: str) -> str:
    """Names the side files of one version of one document."""
    return hashlib.sha256(f"{doc_id}\x1f{sha}".encode()).hexdigest()[:24]


PAGE = 500  # records per Chroma get call


def iter_records(
    collection: Any, where: dict | None = None, include: Sequence[str] = ("documents", "metadatas")
) -> Iterator[dict]:
    """All records of a collection, page by page: {id, document, metadata[, embedding]}."""
    offset = 0
    while True:
        page = collection.get(where=where, include=list(include), limit=PAGE, offset=offset)
        ids = page["ids"]
        for i, record_id in enumerate(ids):
            record = {
                "id": record_id,
                "document": page["documents"][i],
                "metadata": page["metadatas"][i],
            }
            if "embeddings" in include:
                record["embedding"] = page["embeddings"][i]
            yield record
        if len(ids) < PAGE:
            return
        offset += PAGE


def version_filter(doc_id: str, sha: str) -> dict:
    return {"$and": [{"doc_id": doc_id}, {"doc_sha": version(sha)}]}
