"""The answer contract: what the pipeline produces and every interface reads.

One set of typed models (pydantic) for the answer, its citations, the retrieved passages, the
verification verdicts and the patient-data report. The CLI's JSON, the Gradio chat, the audit
trail, the feedback store, the evaluation harness and the LangChain adapter all read these
objects; :meth:`Answer.to_json` is the documented JSON (DESIGN.md: fields may be added, never
renamed or removed).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, field_serializer

if TYPE_CHECKING:
    from assistant.index.retrieval import Hit
    from assistant.ingest.chunking import Chunk

RefusalReason = Literal["no_evidence", "out_of_scope", "unsafe_request"]


def _where(chunk: Chunk) -> dict[str, Any]:
    """What a passage and a citation say of the chunk they come from."""
    fields = ("chunk_id", "doc_id", "title", "section", "page", "url", "doc_type", "date")
    return {name: getattr(chunk, name) for name in fields}


class Passage(BaseModel):
    """A retrieved passage, with the rank and score of each retriever that found it."""

    model_config = ConfigDict(frozen=True)

    chunk_id: str
    doc_id: str
    title: str
    section: str
    page: int | None
    url: str | None
    text: str
    doc_type: str = "document"
    date: str | None = None
    score: float
    rank: int
    bm25_rank: int | None = None
    bm25_score: float | None = None
    dense_rank: int | None = None
    dense_score: float | None = None

    @classmethod
    def of(cls, hit: Hit) -> Passage:
        return cls(
            **_where(hit.chunk),
            text=hit.chunk.text,
            score=hit.score,
            rank=hit.rank,
            bm25_rank=hit.bm25_rank,
            bm25_score=hit.bm25_score,
            dense_rank=hit.dense_rank,
            dense_score=hit.dense_score,
        )


class Citation(BaseModel):
    """What a ``[n]`` marker points to: an exact passage of a publication."""

    model_config = ConfigDict(frozen=True)

    n: int
    doc_id: str
    title: str
    url: str | None
    page: int | None
    section: str
    quote: str
    chunk_id: str
    date: str | None = None
    doc_type: str = "document"

    @classmethod
    def of(cls, n: int, chunk: Chunk, quote: str) -> Citation:
        """Citation ``n`` of ``quote``, an exact passage of ``chunk``."""
        return cls(n=n, quote=quote, **_where(chunk))


class Verdict(BaseModel):
    """Whether one answer sentence is supported by the passages it cites, and why."""

    model_config = ConfigDict(frozen=True)

    sentence: str
    markers: tuple[int, ...]
    supported: bool
    reason: str
    coverage: float = 0.0
    similarity: float | None = None
    best_match: str | None = None

    @field_serializer("coverage", "similarity")
    def _rounded(self, value: float | None) -> float | None:
        return None if value is None else round(value, 3)


class GroundingReport(BaseModel):
    """The verdicts of an answer's sentences (serialised as ``sentences``)."""

    model_config = ConfigDict(frozen=True)

    verdicts: tuple[Verdict, ...] = Field(default=(), serialization_alias="sentences")

    @computed_field
    @property
    def supported(self) -> int:
        return sum(v.supported for v in self.verdicts)

    @computed_field
    @property
    def total(self) -> int:
        return len(self.verdicts)

    @computed_field
    @property
    def score(self) -> float:
        return self.supported / self.total if self.total else 0.0

    @field_serializer("score")
    def _rounded(self, score: float) -> float:
        return round(score, 4)

    @computed_field
    @property
    def unsupported(self) -> list[str]:
        return [v.sentence for v in self.verdicts if not v.supported]


class PrivacyReport(BaseModel):
    """Patient data found in a question: the kinds, and the question as kept (redacted)."""

    detected: list[str]
    redacted_question: str


class ClosestPublication(BaseModel):
    """A publication near an unanswered question: indexed, or in the manifest only."""

    doc_id: str
    title: str
    url: str | None
    indexed: bool


class Answer(BaseModel):
    """The answer object of DESIGN.md (extra fields are additions, never replacements)."""

    question: str
    answer: str
    id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    refused: bool = False
    refusal_reason: RefusalReason | None = None
    citations: list[Citation] = Field(default_factory=list)
    retrieved: list[Passage] = Field(default_factory=list)
    grounding: GroundingReport = Field(default_factory=GroundingReport)
    mode: str = "extractive"
    model: str | None = None
    timings_ms: dict[str, float] = Field(default_factory=dict)
    condensed_question: str | None = None
    language: str = "fr"
    closest_publications: list[ClosestPublication] = Field(default_factory=list)
    notices: list[str] = Field(default_factory=list)
    corpus_version: str | None = None
    fallback_reason: str | None = None  # why an LLM answer was not used
    prompt: str | None = None  # what the LLM was sent (trainer view)
    llm_raw: str | None = None  # what the LLM wrote, before verification
    llm_grounding: GroundingReport | None = None  # the check of a rejected LLM answer
    privacy: PrivacyReport | None = None  # patient data found in the question, redacted

    @field_serializer("timings_ms")
    def _rounded(self, timings: dict[str, float]) -> dict[str, float]:
        return {k: round(v, 1) for k, v in timings.items()}

    def to_json(self) -> dict[str, Any]:
        """The documented JSON object (``has-assistant ask --json``, the UI's state)."""
        return self.model_dump(mode="json", by_alias=True)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Answer:
        """Read back what :meth:`to_json` wrote."""
        data = dict(data)
        for key in ("grounding", "llm_grounding"):
            if isinstance(data.get(key), dict):
                data[key] = {"verdicts": data[key].get("sentences", [])}
        return cls.model_validate(data)

    def sources_markdown(self) -> str:
        """Numbered sources: title, section, page, date and link."""
        lines = []
        for c in self.citations:
            page = f", p. {c.page}" if c.page else ""
            date = f" ({c.date})" if c.date else ""
            link = f" — {c.url}" if c.url else ""
            section = f" — {c.section}" if c.section else ""
            lines.append(f"[{c.n}] {c.title}{date}{section}{page}{link}")
        return "\n".join(lines)
