"""Answer objects rendered for people: the chat message and the trainer's view (Markdown with
a little HTML). Pure functions of the :class:`~assistant.contract.Answer`, so the UI stays a
thin shell."""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import unquote, urlparse

from assistant import messages as texts
from assistant.contract import Answer, Citation, GroundingReport


def _highlight(passage: str, quote: str) -> str:
    """The passage, escaped, with the quoted words marked."""
    start = passage.find(quote) if quote else -1
    if start < 0:
        return as_text(passage).replace("\n", "<br>")
    before, middle, after = passage[:start], quote, passage[start + len(quote) :]
    return (as_text(before) + "<mark>" + as_text(middle) + "</mark>" + as_text(after)).replace(
        "\n", "<br>"
    )


_MARKDOWN = re.compile(r"([\\`*_\[\]()!#|~])")


def as_text(text: str) -> str:
    """Corpus text, questions and model output, shown as text: HTML escaped and the Markdown
    that could draw links, images or layout neutralised (a document cannot draw a form, an
    overlay or load a remote image in the chat)."""
    return _MARKDOWN.sub(r"\\\1", html.escape(text, quote=False))


def public_link(url: str | None) -> str | None:
    """A link users may follow: web addresses only (a local file's path on the server is
    neither useful to them nor theirs to see)."""
    return url if url and url.startswith(("http://", "https://")) else None


def public_source(url: str | None) -> str:
    """What the corpus table shows: the web address, or only a local file's name."""
    if public_link(url):
        return str(url)
    return unquote(urlparse(url or "").path).rsplit("/", 1)[-1]


def _source_line(c: Citation) -> str:
    details = ", ".join(x for x in (c.doc_type, c.date, f"p. {c.page}" if c.page else None) if x)
    section = f" — {html.escape(c.section)}" if c.section else ""
    url = public_link(c.url)
    link = (
        f' · <a href="{html.escape(url, quote=True)}" target="_blank" rel="noopener">source</a>'
        if url
        else ""
    )
    return f"[{c.n}] {html.escape(c.title)}{section} ({html.escape(details)}){link}"


def answer_markdown(answer: Answer) -> str:
    """The chat message: answer, sources with expandable passages, verification, notices."""
    parts = []
    if answer.refused:
        reason = texts.REFUSAL_HEADINGS.get(answer.refusal_reason or "", "")
        parts.append(f"**{texts.NO_SOURCED_ANSWER}** ({reason}).\n")
    parts.append(as_text(answer.answer))
    passages = {p.chunk_id: p.text for p in answer.retrieved}
    if answer.citations:
        parts.append(f"\n\n**{texts.SOURCES}**\n")
        for c in answer.citations:
            body = _highlight(passages.get(c.chunk_id, c.quote), c.quote)
            parts.append(
                f'<details class="source"><summary>{_source_line(c)}</summary>'
                f'<div class="passage">{body}</div></details>'
            )
        g, writer = answer.grounding, answer.model if answer.mode == "llm" else None
        parts.append(f"\n*{texts.verification_line(g.supported, g.total, writer)}*")
    for notice in answer.notices:
        parts.append(f"\n> ⚠️ {as_text(notice)}")
    return "\n".join(parts)


def draft_markdown(draft: str) -> str:
    """What the chat shows while an LLM writes: a draft, clearly not yet verified."""
    return f"*Brouillon du modèle, en cours de vérification…*\n\n{as_text(draft)}"


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    def cell(v: Any) -> str:
        text = "" if v is None else (f"{v:.4f}" if isinstance(v, float) else str(v))
        return as_text(text).replace("\n", " ")

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _verdicts_table(report: GroundingReport) -> str:
    return _table(
        ["phrase", "cite", "appuyée", "raison", "couverture", "similarité"],
        [
            [
                v.sentence[:120],
                " ".join(f"[{m}]" for m in v.markers),
                "oui" if v.supported else "**non**",
                v.reason,
                round(v.coverage, 3),
                None if v.similarity is None else round(v.similarity, 3),
            ]
            for v in report.verdicts
        ],
    )


def trainer_markdown(answer: Answer | None) -> str:
    """How the last answer was found and checked: for trainers."""
    if answer is None:
        return "*Posez une question dans l'onglet Assistant : son analyse apparaîtra ici.*"
    out = [f"### Question\n{as_text(answer.question)}"]
    if answer.condensed_question:
        out.append(
            f"Question reformulée pour la recherche (suite de conversation) : "
            f"*{as_text(answer.condensed_question)}*"
        )
    out.append("### Passages retrouvés (BM25 + sémantique, fusion RRF)")
    out.append(
        _table(
            [
                "rang",
                "publication",
                "section",
                "rang BM25",
                "score BM25",
                "rang dense",
                "score dense",
                "score fusionné",
                "extrait",
            ],
            [
                [
                    p.rank,
                    p.doc_id,
                    p.section,
                    p.bm25_rank,
                    p.bm25_score,
                    p.dense_rank,
                    p.dense_score,
                    p.score,
                    p.text[:90] + "…",
                ]
                for p in answer.retrieved
            ],
        )
    )
    for title, report in (
        ("Vérification de chaque phrase", answer.grounding),
        ("Vérification de la réponse du LLM (non retenue)", answer.llm_grounding),
    ):
        if report is not None and report.verdicts:
            out.append(f"### {title} — {report.supported}/{report.total} appuyées")
            out.append(_verdicts_table(report))
    if answer.fallback_reason:
        out.append(f"### Repli sur la réponse extractive\n{as_text(answer.fallback_reason)}")
    if answer.prompt:
        out.append(f"### Prompt envoyé au LLM\n```text\n{answer.prompt}\n```")
    if answer.llm_raw:
        out.append(f"### Texte brut du LLM\n```text\n{answer.llm_raw}\n```")
    timings = answer.timings_ms
    out.append("### Temps (ms)\n" + _table(list(timings), [[round(v) for v in timings.values()]]))
    out.append(
        f"Mode : {answer.mode} · modèle : {answer.model or '—'} · version du corpus : "
        f"{answer.corpus_version}"
    )
    return "\n\n".join(out)
