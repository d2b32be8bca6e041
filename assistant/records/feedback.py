"""Feedback on answers (useful / not useful, optional comment), in the records database.

One row per feedback, with what is needed to review it later: the question, the answer, its
sources, the mode and model, and the corpus version. ``export_csv`` writes them for the
quality team (``has-assistant feedback export``)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from assistant.answer.privacy import redact
from assistant.contract import Answer
from assistant.records.table import RecordTable


def sources_of(answer: Answer) -> str:
    """The cited sources of an answer, as compact JSON."""
    keys = {"n", "doc_id", "title", "url", "page", "section"}
    return json.dumps(
        [c.model_dump(mode="json", include=keys) for c in answer.citations], ensure_ascii=False
    )


def grounding_score(answer: Answer) -> float:
    """The share of the answer's sentences supported by their source (as in its JSON)."""
    return round(answer.grounding.score, 4)


def now_utc() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class FeedbackStore(RecordTable):
    name = "feedback"

    def add(self, answer: Answer, useful: bool, comment: str = "") -> int:
        """Store feedback on an answer; the comment and the question go through the
        patient-data guard first."""
        return self.insert(
            {
                "created_at": now_utc(),
                "answer_id": answer.id,
                "useful": int(useful),
                "comment": redact(comment.strip()[:2000]).text,  # typed freely: the guard first
                "question": redact(answer.question).text,
                "answer": answer.answer,
                "sources": sources_of(answer),
                "mode": answer.mode,
                "model": answer.model,
                "corpus_version": answer.corpus_version,
                "refusal_reason": answer.refusal_reason,
                "grounding_score": grounding_score(answer),
            }
        )
