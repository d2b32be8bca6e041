"""The question as received: spaces and control characters cleaned, length bounded."""

from __future__ import annotations

from assistant import messages as texts
from assistant.errors import AssistantError


def clean_question(question: str, limit: int) -> tuple[str, list[str]]:
    """The question to answer, and the notices to show (a truncation). Any space (no-break
    and thin ones, common in pasted French text) becomes a space; other control and format
    characters go. An empty question is an error."""
    spaced = (" " if c.isspace() and c not in "\n\t" else c for c in question)
    text = "".join(c for c in spaced if c.isprintable() or c in "\n\t").strip()
    if not text:
        raise AssistantError(
            "empty question / question vide", "ask a question about digital tools or AI in care"
        )
    if len(text) > limit:
        return text[:limit], [texts.truncated(len(text), limit)]
    return text, []
