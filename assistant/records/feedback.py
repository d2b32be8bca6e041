"""Feedback on answers (useful / not useful, optional comment), stored in SQLite.

One row per feedback, with what is needed to review it later: the question, the answer, its
sources, the mode and model, and the corpus version. ``export_csv`` writes them for the
quality team (``has-assistant feedback export``)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from assistant.answer.privacy import redact
from assistant.records.sqlite import SQLiteTable

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


def sources_of(answer: dict[str, Any]) -> str:
    """The cited sources of an answer object, as compact JSON."""
    keys = ("n", "doc_id", "title", "url", "page", "section")
    return json.dumps(
        [{k: c.get(k) for k in keys} for c in answer.get("citations", [])], ensure_ascii=False
    )


class FeedbackStore(SQLiteTable):
    table = "feedback"
    columns = COLUMNS
    schema = """
    CREATE TABLE IF NOT EXISTS feedback (
        id INTEGER PRIMARY KEY AUTOINCREMENT, created_at TEXT NOT NULL, answer_id TEXT,
        useful INTEGER NOT NULL, comment TEXT, question TEXT NOT NULL, answer TEXT NOT NULL,
        sources TEXT NOT NULL, mode TEXT, model TEXT, corpus_version TEXT,
        refusal_reason TEXT, grounding_score REAL)
    """

    def add(self, answer: dict[str, Any], useful: bool, comment: str = "") -> int:
        """Store feedback on an answer object (as produced by ``Answer.as_dict``); the comment
        and the question go through the patient-data guard first."""
        return self.insert(
            (
                datetime.now(UTC).isoformat(timespec="seconds"),
                answer.get("id"),
                int(useful),
                redact(comment.strip()[:2000]).text,  # typed freely: the guard first
                redact(answer.get("question", "")).text,
                answer.get("answer", ""),
                sources_of(answer),
                answer.get("mode"),
                answer.get("model"),
                answer.get("corpus_version"),
                answer.get("refusal_reason"),
                (answer.get("grounding") or {}).get("score"),
            )
        )
