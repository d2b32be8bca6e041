"""Feedback on answers (useful / not useful, optional comment), stored in SQLite.

One row per feedback, with what is needed to review it later: the question, the answer, its
sources, the mode and model, and the corpus version. ``export_csv`` writes them for the
quality team (``has-assistant feedback export``)."""

from __future__ import annotations

import csv
import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

COLUMNS = (
    "id",
    "created_at",
    "answer_id",
    "useful",
    "comment",
    "question",
    "answer",
    "sources",
    "mode",
    "model",
    "corpus_version",
    "refusal_reason",
    "grounding_score",
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    answer_id TEXT,
    useful INTEGER NOT NULL,
    comment TEXT,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    sources TEXT NOT NULL,
    mode TEXT,
    model TEXT,
    corpus_version TEXT,
    refusal_reason TEXT,
    grounding_score REAL
)
"""


class FeedbackStore:
    """A small SQLite table; safe to use from the UI's worker threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute(_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30)
        try:
            with db:
                yield db
        finally:
            db.close()

    def add(self, answer: dict[str, Any], useful: bool, comment: str = "") -> int:
        """Store feedback on an answer object (as produced by ``Answer.as_dict``)."""
        sources = [
            {k: c.get(k) for k in ("n", "doc_id", "title", "url", "page", "section")}
            for c in answer.get("citations", [])
        ]
        row = (
            datetime.now(UTC).isoformat(timespec="seconds"),
            answer.get("id"),
            int(useful),
            comment.strip()[:2000],
            answer.get("question", ""),
            answer.get("answer", ""),
            json.dumps(sources, ensure_ascii=False),
            answer.get("mode"),
            answer.get("model"),
            answer.get("corpus_version"),
            answer.get("refusal_reason"),
            (answer.get("grounding") or {}).get("score"),
        )
        with self._lock, self._connect() as db:
            cursor = db.execute(
                f"INSERT INTO feedback ({', '.join(COLUMNS[1:])}) "
                f"VALUES ({', '.join('?' * (len(COLUMNS) - 1))})",
                row,
            )
            return int(cursor.lastrowid or 0)

    def rows(self) -> list[dict[str, Any]]:
        with self._connect() as db:
            db.row_factory = sqlite3.Row
            return [dict(r) for r in db.execute("SELECT * FROM feedback ORDER BY id")]

    def export_csv(self, target: Path) -> int:
        """Write every row to ``target`` (UTF-8 with BOM, for spreadsheets); returns the count."""
        rows = self.rows()
        with target.open("w", newline="", encoding="utf-8-sig") as fh:
            writer = csv.DictWriter(fh, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
        return len(rows)
