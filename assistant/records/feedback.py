"""Feedback on answers (useful / not useful, optional comment), stored in SQLite.

One row per feedback, with what is needed to review it later: the question, the answer, its
sources, the mode and model, and the corpus version. ``export_csv`` writes them for the
quality team (``has-assistant feedback export``)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from assistant.answer.privacy import redact
from assistant.contract import Answer
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


def sources_of(answer: Answer) -> str:
    """The cited sources of an answer, as compact JSON."""
    keys = {"n", "doc_id", "title", "url", "page", "section"}
    return json.dumps(
        [c.model_dump(mode="json", include=keys) for c in answer.citations], ensure_ascii=False
    )


def grounding_score(answer: Answer) -> float:
    """The share of the answer's sentences supported by their source (as in its JSON)."""
    return round(answer.grounding.score, 4)


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

    def add(self, answer: Answer, useful: bool, comment: str = "") -> int:
        """Store feedback on an answer; the comment and the question go through the
        patient-data guard first."""
        return self.insert(
            (
                datetime.now(UTC).isoformat(timespec="seconds"),
                answer.id,
                int(useful),
                redact(comment.strip()[:2000]).text,  # typed freely: the guard first
                redact(answer.question).text,
                answer.answer,
                sources_of(answer),
                answer.mode,
                answer.model,
                answer.corpus_version,
                answer.refusal_reason,
                grounding_score(answer),
            )
        )
