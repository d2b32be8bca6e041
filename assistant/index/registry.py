"""The registry of an index, kept in its collection's metadata: the documents served (with
their hashes), the versions present but hidden, and a version counter."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from assistant.errors import (
    IndexStoreError,
)
from assistant.index.records import version


@dataclass(frozen=True)
class DocEntry:
    """One served document: its hash, chunk count and what the corpus list shows."""

    sha: str
    chunks: int
    title: str = ""
    type: str | None = None
    date: str | None = None
    url: str | None = None  # the document's link (a PDF's chunks add #page=N)
    pdf: bool = False
    #: the data dir whose ingest added it ("" for the manifest's publications, which every
    #: replica has): an ingest removes only documents of its own origin, never another
    #: replica's uploads that it has no copy of
    origin: str = ""


class Hidden(NamedTuple):
    """A version whose records are present but not served."""

    doc_id: str
    sha: str
    chunks: int
    since: float  # when it was hidden (epoch seconds)
    served: bool  # False: written by an ingest that did not finish, never read


@dataclass
class Registry:
    """What a collection serves, kept in its metadata (one write publishes a new version)."""

    version: int = 0
    docs: dict[str, DocEntry] = field(default_factory=dict)
    # versions present but not served: (doc_id, sha, chunks, hidden since (epoch s), was served)
    hidden: list[Hidden] = field(default_factory=list)
    updated_at: str = ""

    @classmethod
    def from_meta(cls, meta: dict[str, Any] | None) -> Registry:
        meta = meta or {}
        try:
            docs = {k: DocEntry(**v) for k, v in json.loads(meta.get("docs", "{}")).items()}
            hidden = [Hidden(*h) for h in json.loads(meta.get("hidden", "[]"))]
        except (ValueError, TypeError) as exc:
            raise IndexStoreError(
                f"the index registry is unreadable ({exc})", "run `has-assistant ingest --rebuild`"
            ) from exc
        return cls(int(meta.get("version", 0)), docs, hidden, meta.get("created_at", ""))  # type: ignore[arg-type]

    @property
    def n_chunks(self) -> int:
        return sum(d.chunks for d in self.docs.values())

    @property
    def hidden_chunks(self) -> int:
        return sum(h.chunks for h in self.hidden)

    def serves(self, meta: dict[str, Any]) -> bool:
        """True if a record (by its metadata) belongs to a served document version."""
        entry = self.docs.get(meta.get("doc_id", ""))
        return entry is not None and version(entry.sha) == meta.get("doc_sha")

    def corpus_version(self) -> str:
        return hashlib.sha256(
            "\n".join(f"{d}:{e.sha}" for d, e in sorted(self.docs.items())).encode()
        ).hexdigest()[:12]

    def to_meta(self) -> dict[str, Any]:
        docs = {k: vars(v) for k, v in sorted(self.docs.items())}
        return {
            "version": self.version,
            "docs": json.dumps(docs, ensure_ascii=False, separators=(",", ":")),
            "hidden": json.dumps([list(h) for h in self.hidden], separators=(",", ":")),
            "corpus_version": self.corpus_version(),
            "n_docs": len(self.docs),
            "n_chunks": self.n_chunks,
            "created_at": self.updated_at,
        }
