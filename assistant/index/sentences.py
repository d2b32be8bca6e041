"""Sentence vectors kept beside the index, in one SQLite file per index generation.

Answers pick their quotes by the similarity of each sentence of the retrieved chunks to the
question, so every chunk's sentence vectors are computed at ingest (in the same embedding
calls as the chunk) and stored here, one row per chunk: a float16 matrix (one row per
sentence). They are kept out of Chroma so that dense search over chunks needs no filter and the
server never loads them into an HNSW graph. A data dir that lacks some rows (a replica reading
a shared Chroma server) fills them on first use.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

SCHEMA = """
CREATE TABLE IF NOT EXISTS sentence_vectors (
    chunk_id TEXT PRIMARY KEY,
    doc_key TEXT NOT NULL,
    dim INTEGER NOT NULL,
    vectors BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS sentence_vectors_doc ON sentence_vectors (doc_key);
"""
TABLE = "sentence_vectors"
_MAX_VARS = 900  # SQLite's default limit on the variables of one statement is 999
log = logging.getLogger(__name__)


class SentenceStore:
    """chunk id → its sentence vectors (n × dim, float32 when read)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection:
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                self._db = self._open()
            except sqlite3.DatabaseError as exc:
                self._set_aside(exc)
                self._db = self._open()
        return self._db

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)
        except sqlite3.DatabaseError:
            db.close()
            raise
        return db

    def _set_aside(self, exc: sqlite3.DatabaseError) -> None:
        """A damaged file (not a database, corrupt pages) is renamed, never deleted, and an
        empty one takes its place: the vectors are derived data, embedded again on first use
        (the chunk vectors in Chroma are not affected)."""
        if self._db is not None:
            self._db.close()
            self._db = None
        aside = self.path.with_name(f"{self.path.name}.damaged-{int(time.time())}")
        for suffix in ("", "-wal", "-shm"):
            part = self.path.with_name(self.path.name + suffix)
            if part.exists():
                part.replace(aside.with_name(aside.name + suffix))
        log.warning(
            "sentence vectors %s unreadable (%s): set aside as %s; they are embedded again as "
            "needed (delete the copy once you no longer need it)",
            self.path,
            exc,
            aside.name,
        )

    def put(self, rows: Iterable[tuple[str, str, np.ndarray]]) -> None:
        """Store (chunk id, document key, vectors) rows, replacing any earlier ones."""
        values = [
            (cid, key, int(m.shape[1]), np.asarray(m, dtype=np.float16).tobytes())
            for cid, key, m in rows
        ]
        if not values:
            return
        with self._lock:
            try:
                self._insert(values)
            except sqlite3.DatabaseError as exc:
                self._set_aside(exc)
                self._insert(values)

    def _insert(self, values: list[tuple[str, str, int, bytes]]) -> None:
        db = self._connect()
        with db:
            db.executemany(f"INSERT OR REPLACE INTO {TABLE} VALUES (?, ?, ?, ?)", values)

    def get(self, chunk_ids: Sequence[str]) -> dict[str, np.ndarray]:
        """The stored vectors of ``chunk_ids`` (absent ids are left out), in one query."""
        with self._lock:
            try:
                found = self._select(chunk_ids)
            except sqlite3.DatabaseError as exc:
                self._set_aside(exc)
                found = {}  # the caller embeds what is missing and puts it back
        return {cid: m.astype(np.float32) for cid, m in found.items()}

    def _select(self, chunk_ids: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        db = self._connect()
        for start in range(0, len(chunk_ids), _MAX_VARS):
            part = list(chunk_ids[start : start + _MAX_VARS])
            marks = ",".join("?" * len(part))
            sql = f"SELECT chunk_id, dim, vectors FROM {TABLE} WHERE chunk_id IN ({marks})"
            for cid, dim, blob in db.execute(sql, part):
                found[cid] = np.frombuffer(blob, dtype=np.float16).reshape(-1, dim)
        return found

    def delete(self, doc_key: str) -> None:
        """Forget the rows of one version of one document."""
        with self._lock:
            db = self._connect()
            with db:
                db.execute("DELETE FROM sentence_vectors WHERE doc_key = ?", (doc_key,))

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
