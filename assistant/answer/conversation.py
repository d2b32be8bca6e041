"""Follow-up questions: resolve "et pour les établissements ?" against the previous turn.

Without an LLM the rule is simple and predictable: a short question that leans on the
previous one (starts with "et", "and", "what about", "pour les…", or points back with "ce
guide", "cela", "it"…) is searched together with the previous question."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.index.bm25 import tokenize
from assistant.text import normalize_for_match


@dataclass(frozen=True)
class Turn:
    """One past exchange of a conversation."""

    question: str
    answer: str = ""


_FOLLOW_UP_START = re.compile(
    r"^(et|and|what about|how about|mais|but|aussi|also|pour|for|dans|in|sur|on|concernant|"
    r"regarding|quid|idem|meme question|same question|et si|and if|ou|or)\b"
)
_BACK_REFERENCE = re.compile(
    r"\b(ce guide|ces criteres|ce critere|ce document|cette publication|ces axes|cet axe|"
    r"cela|ca|celui-ci|celle-ci|ceux-ci|ils|elles|le meme|la meme|les memes|this guide|"
    r"these criteria|it|they|them|that one|those)\b"
)


def is_follow_up(question: str) -> bool:
    q = normalize_for_match(question)
    short = len(tokenize(question)) <= 4
    return short and bool(_FOLLOW_UP_START.match(q) or _BACK_REFERENCE.search(q))


def condense(question: str, history: Sequence[Turn]) -> str:
    """The standalone question to search for: the question itself, or, for a follow-up,
    the previous (already condensed) question followed by this one."""
    if not history or not is_follow_up(question):
        return question
    previous = history[-1].question.strip()
    return f"{previous} {question.strip()}"
