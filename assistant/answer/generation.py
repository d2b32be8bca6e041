"""LLM answers, checked before they are shown.

The model gets the numbered passages (fenced as untrusted data) and must cite ``[n]`` after
every sentence. Its output is then parsed, every sentence is checked against the passages it
cites (:mod:`assistant.grounding`), and a policy applies: ``flag`` unsupported sentences
visibly (their markers removed: never presented as sourced), ``drop`` them, or ``fallback``
to the extractive answer. Below a grounding score, or on any backend error or timeout, the
extractive answer is used, with a notice saying why.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from assistant import messages as texts
from assistant.answer.conversation import Turn
from assistant.answer.grounding import (
    AnswerSentence,
    GroundingChecker,
    GroundingReport,
    Verdict,
    parse_answer,
)
from assistant.answer.llm import Prompts, format_passages
from assistant.contract import Citation
from assistant.errors import AssistantError
from assistant.index.retrieval import Hit
from assistant.text import normalize_for_match, numbers_in

NO_ANSWER = "NON_DOCUMENTÉ"
TokenSink = Callable[[str], None]


class LLMFailure(Exception):
    """The backend failed (unreachable, rejected key, timeout, broken stream)."""


def describe_failure(exc: BaseException, base_url: str | None, timeout: float) -> str:
    """A short, readable reason for a backend failure (no stack trace)."""
    name = type(exc).__name__
    text = str(exc).splitlines()[0][:200] if str(exc) else name
    if "Authentication" in name or "401" in text or "403" in text:
        return texts.llm_failure("key")
    if "Timeout" in name or "timed out" in text.lower():
        return texts.llm_failure("timeout", timeout_s=timeout)
    if "Connect" in name or "connection" in text.lower():
        return texts.llm_failure("unreachable", text, where=base_url or "")
    return texts.llm_failure("error", f"{name}: {text}")


@dataclass
class CheckedGeneration:
    """A model's answer after verification and policy."""

    raw: str
    text: str
    citations: list[Citation]
    report: GroundingReport
    fallback_reason: str | None = None
    notices: list[str] = field(default_factory=list)
    declined: bool = False  # the model said the passages do not answer: a refusal


# a sentence saying the passages do not give something: not a claim to verify, a notice
NOT_IN_PASSAGES = re.compile(
    r"\b(?:n(?:e |')(?:le |la |les |l')?(?:precise|mentionne|indique|donne|contien|evoque|"
    r"detaille|permet|aborde|cite|fourni)\w* pas|n(?:e |')(?:est|sont) pas "
    r"(?:precise|mentionne|indique|documente)\w*|aucune? (?:information|mention|precision|"
    r"donnee|element)|pas d'information|non documente|non precise|"
    r"(?:do|does) not (?:specify|mention|contain|say|state|give|provide|include|answer)|"
    r"no information|not (?:specified|mentioned|documented|stated))\b"
)


def absence_statement(sentence: AnswerSentence) -> bool:
    """« Les passages ne précisent pas le coût. » without a citation: says what is missing.
    A sentence that also gives a figure (« aucune information sur le coût, estimé à
    3 000 € ») makes a claim: it is verified like any other."""
    folded = normalize_for_match(sentence.text)
    return not sentence.markers and bool(NOT_IN_PASSAGES.search(folded)) and not numbers_in(folded)


class LLMAnswerer:
    """Prompts a chat model with the passages, streams its tokens, then verifies."""

    def __init__(
        self,
        model: BaseChatModel,
        prompts: Prompts,
        checker: GroundingChecker,
        policy: str = "flag",
        min_grounding: float = 0.5,
    ) -> None:
        self.model = model
        self.prompts = prompts
        self.checker = checker
        self.policy = policy
        self.min_grounding = min_grounding

    def messages(self, question: str, hits: Sequence[Hit], language: str) -> list[BaseMessage]:
        system = self.prompts.system.replace(
            "{language}", "anglais / English" if language == "en" else "français"
        )
        user = self.prompts.answer.replace("{passages}", format_passages(hits)).replace(
            "{question}", question
        )
        return [SystemMessage(content=system), HumanMessage(content=user)]

    def generate(self, messages: list[BaseMessage], on_token: TokenSink | None = None) -> str:
        """The model's full output, streamed token by token to ``on_token``."""
        parts: list[str] = []
        try:
            for chunk in self.model.stream(messages):
                token = chunk.content if isinstance(chunk.content, str) else ""
                if token:
                    parts.append(token)
                    if on_token:
                        on_token(token)
        except AssistantError:
            raise  # a configuration error (missing model file…) is the user's to fix
        except Exception as exc:  # any backend failure means: fall back, and say why
            raise LLMFailure(str(exc)) from exc
        return "".join(parts).strip()

    def condense(self, question: str, history: Sequence[Turn]) -> str:
        """A standalone version of a follow-up question, written by the model."""
        lines = [f"Q : {t.question}\nR : {t.answer[:500]}" for t in history[-3:]]
        prompt = self.prompts.condense.replace("{history}", "\n".join(lines)).replace(
            "{question}", question
        )
        try:
            text = str(self.model.invoke([HumanMessage(content=prompt)]).content)
        except Exception as exc:  # condensation is optional: the caller falls back to rules
            raise LLMFailure(str(exc)) from exc
        line = next((x.strip() for x in text.splitlines() if x.strip()), "")
        return line.strip('"« »') or question

    def check(self, raw: str, hits: Sequence[Hit]) -> CheckedGeneration:
        """Verify every sentence of ``raw`` against the passages it cites; apply the policy."""
        passages = {n: h.chunk.text for n, h in enumerate(hits, start=1)}
        sentences = parse_answer(raw)
        absent = [s for s in sentences if absence_statement(s)]
        report = self.checker.check([s for s in sentences if s not in absent], passages)
        result = CheckedGeneration(raw, "", [], report)
        result.notices += [s.text for s in absent]
        if NO_ANSWER.lower() in raw.lower() or (absent and not report.supported):
            result.declined = True
            result.fallback_reason = "le modèle n'a pas trouvé de réponse dans les passages"
            return result
        if not report.total:
            result.fallback_reason = "le modèle n'a pas trouvé de réponse dans les passages"
            return result
        if report.score < self.min_grounding:
            result.fallback_reason = (
                f"seules {report.supported}/{report.total} phrases du "
                f"modèle sont appuyées par les passages cités"
            )
            return result
        if self.policy == "fallback" and report.supported < report.total:
            result.fallback_reason = "une phrase du modèle n'est pas appuyée par sa source"
            return result
        kept = [v for v in report.verdicts if v.supported or self.policy == "flag"]
        result.text = " ".join(self._render(v) for v in kept)
        result.citations = self._citations([v for v in kept if v.supported], hits)
        dropped = report.total - len(kept)
        if dropped:
            result.notices.append(f"{dropped} phrase(s) non appuyée(s) retirée(s) de la réponse.")
        return result

    @staticmethod
    def _render(verdict: Verdict) -> str:
        if verdict.supported:
            return f"{verdict.sentence} " + "".join(f"[{n}]" for n in verdict.markers)
        return f"⚠️ [non vérifié : {verdict.reason}] {verdict.sentence}"

    @staticmethod
    def _citations(verdicts: list[Verdict], hits: Sequence[Hit]) -> list[Citation]:
        citations: dict[int, Citation] = {}
        for v in verdicts:
            for n in v.markers:
                if n in citations:
                    continue
                c = hits[n - 1].chunk
                quote = v.best_match if v.best_match and v.best_match in c.text else c.text
                citations[n] = Citation.of(n, c, quote)
        return [citations[n] for n in sorted(citations)]
