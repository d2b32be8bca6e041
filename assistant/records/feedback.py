"""Feedback on answers (useful / not useful, optional comment), in the records database.

One row per feedback, with what is needed to review it later: the question, the answer, its
sources, the mode and model, and the corpus version. ``export_csv`` writes them for the
quality team (``has-assistant feedback export``)."""

from __future__ import annotations

from assistant.answer.privacy import redact
from assistant.contract import Answer
from assistant.records.table import RecordTable, grounding_score, now_utc, sources_of


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
