"""Audit trail: every question and answer, stored redacted, for the establishment's quality
control of what the tool produces (``has-assistant audit export``).

Rows older than ``HAS_ASSISTANT_AUDIT_RETENTION_DAYS`` are deleted as new ones arrive."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from assistant.answer.privacy import redact
from assistant.contract import Answer
from assistant.records.feedback import grounding_score, sources_of
from assistant.records.sqlite import SQLiteTable


class AuditTrail(SQLiteTable):
    table = "audit"
    columns = (
        "id",
        "created_at",
        "answer_id",
        "question",
        "answer",
        "refused",
        "refusal_reason",
        "sources",
        "grounding_score",
        "mode",
        "model",
        "corpus_version",
        "privacy_detected",
        "total_ms",
    )
    schema = """
    CREATE TABLE IF NOT EXISTS audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT, created_at TEXT NOT NULL, answer_id TEXT,
        question TEXT NOT NULL, answer TEXT NOT NULL, refused INTEGER NOT NULL,
        refusal_reason TEXT, sources TEXT NOT NULL, grounding_score REAL, mode TEXT,
        model TEXT, corpus_version TEXT, privacy_detected TEXT, total_ms REAL)
    """

    def __init__(self, path: Any, retention_days: int = 365) -> None:
        super().__init__(path)
        self.retention_days = retention_days

    def record(self, answer: Answer) -> int:
        """Store one answer object (its question is already redacted); purge old rows."""
        now = datetime.now(UTC)
        row_id = self.insert(
            (
                now.isoformat(timespec="seconds"),
                answer.id,
                redact(answer.question).text,  # already redacted; checked again
                answer.answer,
                int(answer.refused),
                answer.refusal_reason,
                sources_of(answer),
                grounding_score(answer),
                answer.mode,
                answer.model,
                answer.corpus_version,
                ",".join(answer.privacy.detected if answer.privacy else []),
                answer.timings_ms.get("total"),
            )
        )
        cutoff = (now - timedelta(days=self.retention_days)).isoformat(timespec="seconds")
        with self._lock, self._connect() as db:
            db.execute("DELETE FROM audit WHERE created_at < ?", (cutoff,))
        return row_id
