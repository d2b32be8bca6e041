"""Audit trail: every question and answer, stored redacted, for the establishment's quality
control of what the tool produces (``has-assistant audit export``).

Rows older than ``HAS_ASSISTANT_AUDIT_RETENTION_DAYS`` are deleted as new ones arrive."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from assistant.answer.privacy import redact
from assistant.contract import Answer
from assistant.records.database import Database
from assistant.records.table import RecordTable, grounding_score, now_utc, sources_of


def log_line(answer: Answer, replica: str) -> str:
    """One JSON line per answer for the server log: what operations need (mode, refusal,
    verification, time, corpus version), never the question, the answer or patient data."""
    return json.dumps(
        {
            "event": "answer",
            "answer_id": answer.id,
            "replica": replica,
            "mode": answer.mode,
            "model": answer.model,
            "refused": answer.refused,
            "refusal_reason": answer.refusal_reason,
            "citations": len(answer.citations),
            "grounding_score": grounding_score(answer),
            "total_ms": round(answer.timings_ms.get("total", 0.0), 1),
            "corpus_version": answer.corpus_version,
            "patient_data_removed": bool(answer.privacy and answer.privacy.detected),
        }
    )


class AuditTrail(RecordTable):
    name = "audit"

    def __init__(self, db: Database, retention_days: int = 365) -> None:
        super().__init__(db)
        self.retention_days = retention_days

    def record(self, answer: Answer) -> int:
        """Store one answer (its question is already redacted); purge rows past retention."""
        row_id = self.insert(
            {
                "created_at": now_utc(),
                "answer_id": answer.id,
                "question": redact(answer.question).text,  # already redacted; checked again
                "answer": answer.answer,
                "refused": int(answer.refused),
                "refusal_reason": answer.refusal_reason,
                "sources": sources_of(answer),
                "grounding_score": grounding_score(answer),
                "mode": answer.mode,
                "model": answer.model,
                "corpus_version": answer.corpus_version,
                "privacy_detected": ",".join(answer.privacy.detected if answer.privacy else []),
                "total_ms": answer.timings_ms.get("total"),
            }
        )
        cutoff = datetime.now(UTC) - timedelta(days=self.retention_days)
        self.delete_before(cutoff.isoformat(timespec="seconds"))
        return row_id
