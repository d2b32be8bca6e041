"""The ``Assistant`` facade: the one object the CLI, the Gradio UI and the eval harness use.

It holds the settings and opens each stage lazily (models load on first use, once), so that
creating it costs nothing and importing this module has no side effect.
"""

from __future__ import annotations

import logging
import socket
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path

from assistant import messages as texts
from assistant.answer.conversation import Turn, condense
from assistant.answer.extractive import (
    MAX_PARTS,
    ExtractiveAnswerer,
    ExtractiveResult,
    question_parts,
)
from assistant.answer.generation import LLMAnswerer, LLMFailure, TokenSink, describe_failure
from assistant.answer.grounding import GroundingChecker
from assistant.answer.llm import Prompts, make_chat_model, model_label
from assistant.answer.policy import off_topic, screen
from assistant.answer.privacy import redact
from assistant.answer.question import clean_question
from assistant.contract import (
    Answer,
    ClosestPublication,
    GroundingReport,
    Passage,
    PrivacyReport,
    RefusalReason,
)
from assistant.errors import AssistantError
from assistant.index.bm25 import tokenize
from assistant.index.embeddings import Embedder, make_embedder
from assistant.index.retrieval import Hit, Retriever, fuse, make_retriever
from assistant.index.store import Index, IngestReport, Progress
from assistant.index.view import OpenIndex
from assistant.ingest.corpus import Corpus
from assistant.ingest.sources import UserSources
from assistant.ingest.uploads import keep_upload
from assistant.records.audit import AuditTrail, log_line
from assistant.records.database import Database, WaitNotice, holder_name, open_records
from assistant.settings import Settings, load_settings
from assistant.text import detect_language

answers_log = logging.getLogger("assistant.answers")


@contextmanager
def timed(answer: Answer, stage: str) -> Iterator[None]:
    """Time a stage of :meth:`Assistant.ask` into ``answer.timings_ms[stage]`` (ms)."""
    t0 = time.perf_counter()
    try:
        yield
    finally:
        answer.timings_ms[stage] = (time.perf_counter() - t0) * 1000


class Assistant:
    """Corpus → index → retrieval → answer → verification, behind a few methods."""

    def __init__(self, settings: Settings | None = None, embedder: Embedder | None = None):
        self.settings = settings or load_settings()
        self._embedder = embedder
        self._retrievers: dict[str, Retriever] = {}

    @cached_property
    def embedder(self) -> Embedder:
        return self._embedder or make_embedder(self.settings)

    @cached_property
    def corpus(self) -> Corpus:
        return Corpus(self.settings)

    @cached_property
    def index(self) -> Index:
        return Index(self.settings, self.embedder)

    @cached_property
    def origin(self) -> str:
        """This data dir's id in a shared index (kept in ``HAS_ASSISTANT_HOME/origin``): the
        documents it uploads are its own; another replica's ingest leaves them in place."""
        path = self.settings.home / "origin"
        try:
            return path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            self.settings.home.mkdir(parents=True, exist_ok=True)
            value = f"{socket.gethostname()}-{uuid.uuid4().hex[:12]}"
            path.write_text(value + "\n", encoding="utf-8")
            return value

    @property
    def sources_file(self) -> Path:
        return self.settings.home / "sources.json"

    def user_sources(self) -> list[Path]:
        """Files and folders added with ``ingest PATHS``, remembered for the next ingests."""
        return UserSources(self.sources_file).read()

    def ingest(
        self,
        paths: Sequence[Path] = (),
        rebuild: bool = False,
        progress: Progress | None = None,
        on_wait: WaitNotice | None = None,
    ) -> IngestReport:
        """Index the manifest's publications, the remembered user sources and ``paths``
        (remembered from now on). Load errors are reported in the result, never raised.
        One ingest at a time across replicas: the lock is held in the records database
        (``on_wait`` is told who holds it when this one has to wait)."""
        with self.records.ingest_lock(self.settings.ingest_lock_wait_s, on_wait):
            return self._ingest(paths, rebuild, progress)

    def _ingest(
        self, paths: Sequence[Path], rebuild: bool, progress: Progress | None
    ) -> IngestReport:
        new = [p.resolve() for p in paths]
        sources = list(dict.fromkeys([*self.user_sources(), *new]))
        gone = [p for p in sources if not p.exists()]
        sources = [p for p in sources if p.exists()]
        loaded = self.corpus.load(sources)
        self.corpus.cache.prune()  # parsed copies of files no longer in the corpus
        # a file given now that fails to load is reported, not remembered for the next ingests
        failed = {e.path.resolve() for e in loaded.errors} & set(new)
        UserSources(self.sources_file).write([p for p in sources if p not in failed])
        report = self.index.ingest(
            loaded.documents,
            rebuild=rebuild,
            progress=progress,
            origin=self.origin,
            shared={p.id for p in self.corpus.publications},
        )
        report.errors[:0] = loaded.errors
        report.warnings += [f"{p}: no longer exists; its documents left the index" for p in gone]
        self.__dict__.pop("opened", None)  # the next search sees the new generation
        self._retrievers.clear()
        return report

    @cached_property
    def opened(self) -> OpenIndex:
        return self.index.open()

    def retriever(self, kind: str = "hybrid") -> Retriever:
        if kind not in self._retrievers:
            self._retrievers[kind] = make_retriever(
                self.opened, kind, self.settings.candidates, self.settings.rrf_k
            )
        return self._retrievers[kind]

    def search(
        self, query: str, k: int | None = None, doc_type: str | None = None, kind: str = "hybrid"
    ) -> list[Hit]:
        """The ``k`` best chunks for ``query`` (hybrid BM25 + dense by default)."""
        return self.retriever(kind).search(query, k or self.settings.top_k, doc_type)

    # ---------------------------------------------------------------- answers

    @cached_property
    def answerer(self) -> ExtractiveAnswerer:
        return ExtractiveAnswerer(self.opened, self.embedder)

    @cached_property
    def checker(self) -> GroundingChecker:
        return GroundingChecker(self.embedder)

    @cached_property
    def llm(self) -> LLMAnswerer:
        """The LLM answerer of the configured backend (ConfigError when there is none)."""
        s = self.settings
        return LLMAnswerer(
            make_chat_model(s),
            Prompts.load(s.prompts_dir),
            self.checker,
            s.llm_policy,
            s.llm_min_grounding,
        )

    def resolve_mode(self, mode: str | None) -> str:
        if mode in (None, "auto"):
            return "llm" if self.settings.llm_backend != "none" else "extractive"
        if mode not in ("llm", "extractive"):
            raise AssistantError(f"unknown mode '{mode}'", "use extractive or llm")
        return mode

    def _condense(self, question: str, history: Sequence[Turn], mode: str) -> str:
        if mode == "llm" and history:
            try:
                return self.llm.condense(question, history)
            except LLMFailure:
                pass  # the rule-based condensation below still applies
        return condense(question, history)

    @cached_property
    def records(self) -> Database:
        """The records database (feedback, audit, ingest lock), shared by every replica."""
        return open_records(self.settings.records_url, self.settings.home)

    @cached_property
    def audit(self) -> AuditTrail | None:
        s = self.settings
        return AuditTrail(self.records, s.audit_retention_days) if s.audit else None

    def ask(
        self,
        question: str,
        history: Sequence[Turn] = (),
        mode: str | None = None,
        on_token: TokenSink | None = None,
    ) -> Answer:
        """Answer ``question`` (with the conversation so far) from the indexed publications:
        screened, redacted, condensed, retrieved, answered and verified, then recorded in the
        audit trail (redacted). Never raises for a refusal.

        ``mode``: 'extractive', 'llm', or None for the configured default. In LLM mode the
        model's tokens go to ``on_token`` as they come (a draft, not yet verified)."""
        answer = self._answer(question, history, mode, on_token)
        if self.audit is not None:
            self.audit.record(answer)
        if answers_log.isEnabledFor(logging.INFO):  # the server's log; the CLI keeps quiet
            answers_log.info(log_line(answer, holder_name()))
        return answer

    def _answer(
        self,
        question: str,
        history: Sequence[Turn],
        mode: str | None,
        on_token: TokenSink | None,
    ) -> Answer:
        """The stages, in order; each is timed into ``answer.timings_ms``."""
        started = time.perf_counter()
        mode = self.resolve_mode(mode)
        answer, reason = self._screen(question)
        if reason:
            return self._refuse(answer, reason, started)
        query = self._condense(answer.question, history, mode)
        answer.condensed_question = query if query != answer.question else None
        with timed(answer, "retrieve"):
            hits = self.retrieve_for_answer(query)
        answer.retrieved = [Passage.of(h) for h in hits]
        if self._off_topic(query, hits, answer.language):
            return self._refuse(answer, "out_of_scope", started)
        with timed(answer, "answer"):
            result = self.answerer.answer(query, hits, answer.language)
        if result is None:
            answer.closest_publications = self.closest_publications(query, hits)
            return self._refuse(answer, "no_evidence", started)
        with timed(answer, "verify"):
            self._verify_extractive(answer, result, hits)
        if mode == "llm":
            self._answer_with_llm(answer, query, hits, on_token)
        answer.timings_ms["total"] = (time.perf_counter() - started) * 1000
        return answer

    def _screen(self, question: str) -> tuple[Answer, RefusalReason | None]:
        """Clean the question, decide a refusal from it alone (local rules: nothing leaves or
        is stored), and redact patient data: from here on only the redacted question is used."""
        question, notices = clean_question(question, self.settings.max_question_chars)
        reason = screen(question)
        redaction = redact(question)
        answer = Answer(
            question=redaction.text,
            answer="",
            language=detect_language(question),
            notices=notices,
            corpus_version=self.opened.info.corpus_version,
        )
        if (count := len(question_parts(redaction.text, limit=None))) > MAX_PARTS:
            answer.notices.append(texts.too_many_parts(count, MAX_PARTS))
        if redaction.detected:
            answer.privacy = PrivacyReport(
                detected=list(redaction.detected), redacted_question=redaction.text
            )
            answer.notices.append(texts.patient_data(redaction.detected))
            if self.settings.privacy_block and not reason:
                reason = "out_of_scope"
        return answer, reason

    @staticmethod
    def _off_topic(query: str, hits: Sequence[Hit], language: str) -> bool:
        best_lexical = max((h.bm25_score or 0.0 for h in hits), default=0.0)
        best_dense = max((h.dense_score or 0.0 for h in hits), default=0.0)
        return off_topic(query, best_lexical, best_dense, language=language)

    def _verify_extractive(
        self, answer: Answer, result: ExtractiveResult, hits: Sequence[Hit]
    ) -> None:
        answer.answer, answer.citations, sentences, notices = result
        answer.notices.extend(notices)
        chunks = {h.chunk.chunk_id: h.chunk.text for h in hits}
        passages = {c.n: chunks[c.chunk_id] for c in answer.citations}
        answer.grounding = self.checker.check(sentences, passages)
        answer.mode = "extractive"

    def _answer_with_llm(
        self, answer: Answer, query: str, hits: Sequence[Hit], on_token: TokenSink | None
    ) -> None:
        """Replace the (already verified) extractive answer by the model's, if it passes."""
        llm, s = self.llm, self.settings
        answer.model = model_label(s)
        messages = llm.messages(query, hits, answer.language)
        answer.prompt = "\n\n".join(f"[{m.type}]\n{m.content}" for m in messages)
        try:
            with timed(answer, "generate"):
                answer.llm_raw = llm.generate(messages, on_token)
        except LLMFailure as exc:
            reason = describe_failure(exc.__cause__ or exc, s.llm_base_url, s.llm_timeout_s)
            answer.fallback_reason = reason
            answer.notices.append(texts.fallback(reason))
            return
        with timed(answer, "verify_llm"):
            checked = llm.check(answer.llm_raw, hits)
        if checked.declined:  # the model found no answer in the passages: so be it
            answer.mode, answer.llm_grounding = "llm", checked.report
            answer.closest_publications = self.closest_publications(query, hits)
            self._refuse(answer, "no_evidence", None)
            answer.citations, answer.grounding = [], GroundingReport()
            return
        if checked.fallback_reason:
            answer.fallback_reason = checked.fallback_reason
            answer.notices.append(texts.fallback(checked.fallback_reason))
            answer.llm_grounding = checked.report
            return
        answer.answer, answer.citations = checked.text, checked.citations
        answer.grounding, answer.mode = checked.report, "llm"
        answer.notices.extend(checked.notices)

    def retrieve_for_answer(self, query: str) -> list[Hit]:
        """Hits for the question; a multi-part question also searches each part, and the
        rankings are fused (RRF) so that every part has its passages."""
        parts = question_parts(query)
        hits = self.search(query)
        if len(parts) == 1:
            return hits
        lists = [hits, *(self.search(p, 3) for p in parts)]
        return fuse(lists, self.settings.top_k + len(parts), self.settings.rrf_k)

    def _refuse(self, answer: Answer, reason: RefusalReason, started: float | None) -> Answer:
        answer.refused = True
        answer.refusal_reason = reason
        answer.answer = texts.refusal(
            reason, answer.language, answer.question, answer.closest_publications
        )
        if started is not None:
            answer.timings_ms["total"] = (time.perf_counter() - started) * 1000
        return answer

    def closest_publications(self, query: str, hits: Sequence[Hit]) -> list[ClosestPublication]:
        """Indexed publications among the hits, then manifest titles sharing terms with the
        question (publications that `corpus sync` could bring in)."""
        seen: dict[str, ClosestPublication] = {}
        for h in hits:
            c = h.chunk
            seen.setdefault(
                c.doc_id,
                ClosestPublication(doc_id=c.doc_id, title=c.title, url=c.url, indexed=True),
            )
        stems = set(tokenize(query))
        scored = sorted(
            (
                (len(stems & set(tokenize(p.title))), p)
                for p in self.corpus.publications
                if p.id not in seen
            ),
            key=lambda item: -item[0],
        )
        for overlap, pub in scored[:3]:
            if overlap >= 2:
                seen[pub.id] = ClosestPublication(
                    doc_id=pub.id,
                    title=pub.title,
                    url=pub.landing_url or pub.pdf_url,
                    indexed=False,
                )
        return list(seen.values())[:4]

    # ---------------------------------------------------------------- for the UI

    def ensure_index(self, progress: Progress | None = None) -> IngestReport | None:
        """Ingest the corpus when there is no index yet (first start) or when it was built by
        an earlier version; else nothing."""
        info = self.index.info()
        if info is not None and not self.index.outdated(info):
            return None
        return self.ingest(progress=progress)

    def indexed_publications(self) -> list[dict]:
        """One row per indexed publication: id, title, type, date, chunks, link."""
        return self.opened.documents()

    @property
    def uploads_dir(self) -> Path:
        return self.settings.home / "uploads"

    def add_upload(self, source: Path, name: str | None = None) -> IngestReport:
        """Check an uploaded file (type by content, size), keep a copy under the data dir and
        index it. Raises AssistantError with a clear message on a bad file."""
        target = keep_upload(source, name, self.settings, self.uploads_dir)
        report = self.ingest([self.uploads_dir])
        failed = [e for e in report.errors if e.path.resolve() == target.resolve()]
        if failed:
            target.unlink(missing_ok=True)
            self.ingest()  # the bad file leaves the index again
            raise AssistantError(f"{target.name}: {failed[0].reason}", failed[0].hint)
        return report
