"""Answer objects rendered for people: the chat message and the trainer's view (Markdown with
a little HTML). Pure functions of ``Answer.as_dict()``, so the UI stays a thin shell."""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import unquote, urlparse

REASONS = {
    "no_evidence": "les publications indexées ne répondent pas",
    "out_of_scope": "hors du champ de l'assistant",
    "unsafe_request": "demande contraire aux règles de l'assistant",
}


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


def _source_line(c: dict[str, Any]) -> str:
    details = ", ".join(
        x
        for x in (c.get("doc_type"), c.get("date"), f"p. {c['page']}" if c.get("page") else None)
        if x
    )
    section = f" — {html.escape(c['section'])}" if c.get("section") else ""
    url = public_link(c.get("url"))
    link = (
        f' · <a href="{html.escape(url, quote=True)}" target="_blank" rel="noopener">source</a>'
        if url
        else ""
    )
    return f"[{c['n']}] {html.escape(c['title'])}{section} ({html.escape(details)}){link}"


def answer_markdown(answer: dict[str, Any]) -> str:
    """The chat message: answer, sources with expandable passages, verification, notices."""
    parts = []
    if answer.get("refused"):
        reason = REASONS.get(answer.get("refusal_reason") or "", "")
        parts.append(f"**Pas de réponse sourcée** ({reason}).\n")
    parts.append(as_text(answer["answer"]))
    passages = {r["chunk_id"]: r["text"] for r in answer.get("retrieved", [])}
    citations = answer.get("citations", [])
    if citations:
        parts.append("\n\n**Sources**\n")
        for c in citations:
            body = _highlight(passages.get(c.get("chunk_id"), c["quote"]), c["quote"])
            parts.append(
                f'<details class="source"><summary>{_source_line(c)}</summary>'
                f'<div class="passage">{body}</div></details>'
            )
        g = answer["grounding"]
        mode = ("rédigée par " + answer["model"]) if answer.get("mode") == "llm" else "extractive"
        parts.append(
            f"\n*Vérification : {g['supported']}/{g['total']} phrase(s) appuyée(s) "
            f"par la source citée — réponse {mode}.*"
        )
    for notice in answer.get("notices", []):
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


def trainer_markdown(answer: dict[str, Any] | None) -> str:
    """How the last answer was found and checked: for trainers."""
    if not answer:
        return "*Posez une question dans l'onglet Assistant : son analyse apparaîtra ici.*"
    out = [f"### Question\n{as_text(answer['question'])}"]
    if answer.get("condensed_question"):
        out.append(
            f"Question reformulée pour la recherche (suite de conversation) : "
            f"*{as_text(answer['condensed_question'])}*"
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
                    r["rank"],
                    r["doc_id"],
                    r["section"],
                    r.get("bm25_rank"),
                    r.get("bm25_score"),
                    r.get("dense_rank"),
                    r.get("dense_score"),
                    r["score"],
                    r["text"][:90] + "…",
                ]
                for r in answer.get("retrieved", [])
            ],
        )
    )
    for title, key in (
        ("Vérification de chaque phrase", "grounding"),
        ("Vérification de la réponse du LLM (non retenue)", "llm_grounding"),
    ):
        report = answer.get(key)
        if report and report.get("sentences"):
            out.append(f"### {title} — {report['supported']}/{report['total']} appuyées")
            out.append(
                _table(
                    ["phrase", "cite", "appuyée", "raison", "couverture", "similarité"],
                    [
                        [
                            s["sentence"][:120],
                            " ".join(f"[{m}]" for m in s["markers"]),
                            "oui" if s["supported"] else "**non**",
                            s["reason"],
                            s["coverage"],
                            s["similarity"],
                        ]
                        for s in report["sentences"]
                    ],
                )
            )
    if answer.get("fallback_reason"):
        out.append(f"### Repli sur la réponse extractive\n{as_text(answer['fallback_reason'])}")
    if answer.get("prompt"):
        out.append(f"### Prompt envoyé au LLM\n```text\n{answer['prompt']}\n```")
    if answer.get("llm_raw"):
        out.append(f"### Texte brut du LLM\n```text\n{answer['llm_raw']}\n```")
    timings = answer.get("timings_ms", {})
    out.append("### Temps (ms)\n" + _table(list(timings), [[round(v) for v in timings.values()]]))
    mode = answer.get("mode")
    out.append(
        f"Mode : {mode} · modèle : {answer.get('model') or '—'} · version du corpus : "
        f"{answer.get('corpus_version')}"
    )
    return "\n\n".join(out)
