"""The Gradio chat: a thin shell over :class:`assistant.app.Assistant`.

Callbacks only move data between widgets and the facade; rendering lives in
:mod:`assistant.render`, storage in :mod:`assistant.feedback`.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import queue
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr
from starlette.middleware import Middleware

from assistant import messages as texts
from assistant.answer.conversation import Turn
from assistant.app import Assistant
from assistant.contract import Answer
from assistant.errors import AssistantError
from assistant.ingest.loaders import SUPPORTED_SUFFIXES
from assistant.interfaces.render import (
    answer_markdown,
    draft_markdown,
    public_source,
    trainer_markdown,
)
from assistant.records.database import holder_name
from assistant.records.feedback import FeedbackStore

log = logging.getLogger("has_assistant.ui")

HEADER = """# Assistant HAS — numérique et IA en santé
Réponses **citées** tirées des publications de la Haute Autorité de santé sur le choix et
l'usage des technologies numériques et de l'IA en contexte de soins. Chaque phrase est
vérifiée contre le passage qu'elle cite ; vérifiez toujours la source.

> **Champ** : ce qui aide à choisir et utiliser les outils numériques et l'IA — pas les
> décisions concernant un patient (diagnostic, dose, traitement).
> **N'indiquez jamais de données permettant d'identifier un patient** (nom, date de naissance,
> numéro de sécurité sociale, IPP, adresse…)."""

EXAMPLES = [
    "Quels sont les trois axes du cadre de confiance ?",
    "À partir de quand le 6e cycle de certification s'applique-t-il aux visites ?",
    "À qui s'adresse le guide d'aide au choix des DMN à usage professionnel ?",
    "Quelles technologies sont exclues du périmètre de ces travaux ?",
]

CSS = """
details.source { margin: 0.3em 0; }
details.source summary { cursor: pointer; }
details.source .passage { padding: 0.5em 0.8em; border-left: 3px solid #7a9cc6; }
mark { background: #fff2a8; }
"""


def parse_auth(value: str | None) -> list[tuple[str, str]]:
    """'user:password[,user2:password2]' → [(user, password), …]."""
    pairs = []
    for item in (value or "").split(","):
        item = item.strip()
        if ":" in item:
            user, password = item.split(":", 1)
            if user.strip() and password:
                pairs.append((user.strip(), password))
    return pairs


def message_text(content: Any) -> str:
    """The text of a chat message's content: a string, or Gradio 6's list of parts
    (``[{"type": "text", "text": "…"}, …]``), files and other parts left out."""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        content = [content]
    if isinstance(content, list | tuple):
        parts = [p.get("text", "") if isinstance(p, dict) else str(p) for p in content]
        return " ".join(p for p in parts if isinstance(p, str) and p).strip()
    return ""


def _turns(history: list[dict[str, Any]]) -> list[Turn]:
    """Past questions of the chat (the assistant's rendered answers are not re-read)."""
    return [Turn(message_text(m.get("content"))) for m in history if m.get("role") == "user"]


class HealthCheck:
    """ASGI middleware answering ``GET /healthz`` before Gradio (no login needed): the index
    (reachable, collection, corpus version, chunks) and the records database (reachable);
    200 when both are, else 503. For load balancers and the compose file's health checks."""

    def __init__(self, app: Any, assistant: Assistant) -> None:
        self.app, self.assistant = app, assistant

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope.get("type") != "http" or scope.get("path") != "/healthz":
            await self.app(scope, receive, send)
            return
        report = await asyncio.to_thread(health, self.assistant)
        body = json.dumps(report).encode()
        status = 200 if report["status"] == "ok" else 503
        headers = [(b"content-type", b"application/json"), (b"cache-control", b"no-store")]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def health(assistant: Assistant) -> dict[str, Any]:
    """What ``/healthz`` reports (never raises: a failure is a field)."""
    index: dict[str, Any] = {"reachable": False}
    try:
        info = assistant.index.info()
        index = {
            "reachable": info is not None,
            "collection": info.collection if info else None,
            "corpus_version": info.corpus_version if info else None,
            "chunks": info.n_chunks if info else 0,
        }
    except Exception as exc:  # any failure of the store is "unreachable", with its kind
        index["error"] = type(exc).__name__
    database = {"reachable": assistant.records.ping()}
    ok = index["reachable"] and database["reachable"]
    return {"status": "ok" if ok else "unavailable", "replica": holder_name(),
            "index": index, "database": database}  # fmt: skip


class LoginRateLimit:
    """ASGI middleware in front of Gradio's ``/login``: counts failed logins per client
    address (Gradio's login hook sees only the user name) and answers 429 while the address is
    locked out."""

    def __init__(self, app: Any, guard: LoginGuard) -> None:
        self.app, self.guard = app, guard

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        is_login = (
            scope.get("type") == "http"
            and scope.get("method") == "POST"
            and str(scope.get("path", "")).rstrip("/").endswith("/login")
        )
        if not is_login:
            await self.app(scope, receive, send)
            return
        address = (scope.get("client") or ("?", 0))[0]
        if not self.guard.address_allowed(address):
            body = b'{"detail": "Too many failed logins: retry later."}'
            headers = [(b"content-type", b"application/json"), (b"retry-after", b"300")]
            await send({"type": "http.response.start", "status": 429, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        status: list[int] = []

        async def watch(message: dict) -> None:
            if message["type"] == "http.response.start":
                status.append(int(message["status"]))
            await send(message)

        await self.app(scope, receive, watch)
        self.guard.address_result(address, bool(status) and status[0] < 400)


class SessionSlots:
    """At most ``limit`` requests at once per user (or per browser session without login):
    one client cannot fill the queue that every other user waits in."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.active: dict[str, int] = {}
        self._lock = threading.Lock()

    @staticmethod
    def key(request: gr.Request | None) -> str:
        if request is None:
            return ""
        return str(getattr(request, "username", None) or getattr(request, "session_hash", ""))

    def acquire(self, key: str) -> bool:
        with self._lock:
            if self.active.get(key, 0) >= self.limit:
                return False
            self.active[key] = self.active.get(key, 0) + 1
            return True

    def release(self, key: str) -> None:
        with self._lock:
            self.active[key] -= 1
            if not self.active[key]:
                del self.active[key]


class LoginGuard:
    """Checks logins; after ``max_failures`` wrong passwords for one user within
    ``window_s``, that user is locked out for ``lock_s`` (even with the right password). Each
    failure is logged with the user name, never the password, and answered after a pause."""

    def __init__(
        self,
        accounts: list[tuple[str, str]],
        max_failures: int = 5,
        window_s: float = 300.0,
        lock_s: float = 300.0,
        pause_s: float = 1.0,
    ) -> None:
        self.accounts = dict(accounts)
        self.max_failures, self.window_s, self.lock_s = max_failures, window_s, lock_s
        self.pause_s = pause_s
        self.failures: dict[str, list[float]] = {}
        self.locked_until: dict[str, float] = {}
        self._lock = threading.Lock()

    def check(self, username: str, password: str) -> bool:
        now = time.monotonic()
        with self._lock:
            if self.locked_until.get(username, 0.0) > now:
                log.warning("login refused: user %r is locked out", username)
                return False
            expected = self.accounts.get(username)
            ok = expected is not None and hmac.compare_digest(
                password.encode("utf-8"), expected.encode("utf-8")
            )
            if ok:
                self.failures.pop(username, None)
                return True
            recent = [t for t in self.failures.get(username, []) if now - t < self.window_s]
            recent.append(now)
            self.failures[username] = recent
            if len(recent) >= self.max_failures:
                self.locked_until[username] = now + self.lock_s
                log.warning("user %r locked out after %d failed logins", username, len(recent))
            else:
                log.warning("failed login for user %r", username)
            return False

    def address_allowed(self, address: str) -> bool:
        """False while ``address`` is locked out (too many failed logins from it)."""
        with self._lock:
            return self.locked_until.get(f"@{address}", 0.0) <= time.monotonic()

    def address_result(self, address: str, ok: bool) -> None:
        """Count a failed login from ``address``: past ``4 × max_failures`` in the window (any
        user names), the address is locked out too."""
        key, now = f"@{address}", time.monotonic()
        with self._lock:
            if ok:
                return
            recent = [t for t in self.failures.get(key, []) if now - t < self.window_s]
            recent.append(now)
            self.failures[key] = recent
            if len(recent) >= 4 * self.max_failures:
                self.locked_until[key] = now + self.lock_s
                log.warning("address %s locked out after %d failed logins", address, len(recent))

    def gradio_auth(self):
        """The async callable Gradio's ``launch(auth=…)`` awaits (the pause blocks no one)."""

        async def auth(username: str, password: str) -> bool:
            ok = self.check(username, password)
            if not ok:
                await asyncio.sleep(self.pause_s)
            return ok

        return auth


class ChatApp:
    """Callbacks of the UI, bound to one Assistant and one feedback store."""

    def __init__(
        self, assistant: Assistant, feedback: FeedbackStore, admins: set[str] | None = None
    ) -> None:
        self.assistant = assistant
        self.feedback = feedback
        self.admins = admins  # None: no login, everyone may upload
        self.recent: OrderedDict[str, Answer] = OrderedDict()  # answers by id
        self.slots = SessionSlots(assistant.settings.max_per_session)

    def _remember(self, answer: Answer) -> Answer:
        self.recent[answer.id] = answer
        while len(self.recent) > 1000:
            self.recent.popitem(last=False)
        return answer

    def respond(
        self,
        message: str,
        history: list[dict[str, Any]],
        mode: str,
        request: gr.Request | None = None,
    ) -> Iterator[tuple[list[dict[str, Any]], str, Any, Any, Any]]:
        """Stream one exchange (at most ``max_per_session`` at once per user or session)."""
        key = self.slots.key(request)
        if not self.slots.acquire(key):
            busy = {"role": "assistant", "content": texts.BUSY}
            yield [*history, {"role": "user", "content": message}, busy], "", *[gr.skip()] * 3
            return
        try:
            yield from self._respond(message, history, mode)
        finally:
            self.slots.release(key)

    def _respond(
        self, message: str, history: list[dict[str, Any]], mode: str
    ) -> Iterator[tuple[list[dict[str, Any]], str, Any, Any, Any]]:
        """Stream one exchange: a waiting line, the LLM draft if any, then the checked answer."""
        history = [*history, {"role": "user", "content": message}]
        waiting = {"role": "assistant", "content": texts.SEARCHING}
        yield [*history, waiting], "", gr.skip(), gr.skip(), ""
        tokens: queue.Queue[str] = queue.Queue()
        result: dict[str, Any] = {}

        def run() -> None:
            try:
                result["answer"] = self.assistant.ask(
                    message, _turns(history[:-1]), mode, tokens.put
                )
            except AssistantError as exc:
                result["error"] = str(exc)
            except Exception as exc:  # any failure: a message for the user, the trace in the log
                log.exception("the answer failed")
                result["error"] = texts.internal_error(type(exc).__name__)

        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        draft = ""
        while worker.is_alive() or not tokens.empty():
            try:
                draft += tokens.get(timeout=0.1)
            except queue.Empty:
                continue
            yield (
                [*history, {"role": "assistant", "content": draft_markdown(draft)}],
                "",
                gr.skip(),
                gr.skip(),
                gr.skip(),
            )
        worker.join()
        if "error" in result:
            reply = {"role": "assistant", "content": texts.error(result["error"])}
            yield [*history, reply], "", gr.skip(), gr.skip(), gr.skip()
            return
        answer = self._remember(result["answer"])
        if answer.privacy:  # keep only the redacted question, even on screen
            history[-1] = {"role": "user", "content": answer.question}
        reply = {"role": "assistant", "content": answer_markdown(answer)}
        yield [*history, reply], "", answer, trainer_markdown(answer), ""

    def give_feedback(self, answer: Answer | None, comment: str, useful: bool) -> tuple[str, str]:
        if answer is None:
            return texts.ASK_FIRST, comment
        row = self.feedback.add(answer, useful, comment or "")
        return texts.feedback_saved(useful, row), ""

    def index_summary(self) -> str:
        documents = self.assistant.indexed_publications()  # reads the current version first
        info = self.assistant.opened.info
        return (
            f"Index : {len(documents)} publication(s) — version {info.corpus_version}, "
            f"embeddings {info.embedder}."
        )

    def publications(self) -> list[list[Any]]:
        return [
            [p["title"], p["type"], p["date"], p["chunks"], public_source(p["url"])]
            for p in self.assistant.indexed_publications()
        ]

    def upload(
        self,
        file: str | None,
        request: gr.Request,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 - Gradio's idiom: it injects it
    ) -> tuple[str, list[list[Any]]]:
        if self.admins is not None and getattr(request, "username", None) not in self.admins:
            return texts.ADMIN_ONLY_UPLOAD, self.publications()
        if not file:
            return texts.CHOOSE_FILE, self.publications()
        progress(0.1, desc=texts.CHECKING_UPLOAD)
        try:
            report = self.assistant.add_upload(Path(file), Path(file).name)
        except AssistantError as exc:
            return f"❌ {exc}", self.publications()
        progress(1.0)
        done = texts.upload_done(len(report.added), len(report.changed), report.embedded_chunks)
        return done, self.publications()

    def ask_api(self, question: str, request: gr.Request | None = None) -> dict[str, Any]:
        """API endpoint /ask: a question in, the answer object out ("busy, retry" when this
        user or session already has ``max_per_session`` questions running)."""
        key = self.slots.key(request)
        if not self.slots.acquire(key):
            raise gr.Error(texts.BUSY)
        try:
            return self._remember(self.assistant.ask(question)).to_json()
        finally:
            self.slots.release(key)

    def feedback_api(self, answer_id: str, useful: bool, comment: str = "") -> str:
        """API endpoint /feedback: feedback on a recent answer, by its id."""
        answer = self.recent.get(answer_id)
        if answer is None:
            raise gr.Error(texts.unknown_answer(answer_id))
        return self.give_feedback(answer, comment, useful)[0]


def build_app(app: ChatApp) -> gr.Blocks:
    settings = app.assistant.settings
    modes = ["extractive", "llm"] if settings.llm_backend != "none" else ["extractive"]
    with gr.Blocks(title="Assistant HAS — numérique et IA en santé") as demo:
        gr.Markdown(HEADER)
        last = gr.State(None)
        with gr.Tab("Assistant"):
            chatbot = gr.Chatbot(
                label="Conversation", height=520, elem_id="chat", feedback_options=None
            )
            with gr.Row():
                box = gr.Textbox(
                    placeholder="Votre question…",
                    show_label=False,
                    scale=8,
                    elem_id="question",
                    max_length=settings.max_question_chars,
                )
                send = gr.Button("Envoyer", variant="primary", scale=1, elem_id="send")
            mode = gr.Radio(modes, value=modes[-1], label="Mode de réponse", visible=len(modes) > 1)
            gr.Examples(EXAMPLES, inputs=box, label="Exemples de questions")
            with gr.Row():
                useful = gr.Button("Utile", elem_id="useful")
                not_useful = gr.Button("Pas utile", elem_id="not-useful")
                comment = gr.Textbox(label="Commentaire (facultatif)", scale=3)
            status = gr.Markdown(elem_id="feedback-status")
        with gr.Tab("Formateur"):
            gr.Markdown("Comment la dernière réponse a été trouvée et vérifiée.")
            trainer = gr.Markdown(trainer_markdown(None), elem_id="trainer")
        with gr.Tab("Corpus"):
            # functions, not values: each page load shows the index as it is now (another
            # replica may have added documents since this one started)
            gr.Markdown(app.index_summary)
            table = gr.Dataframe(
                app.publications,
                headers=["titre", "type", "date", "passages", "source"],
                interactive=False,
                wrap=True,
            )
            upload = gr.File(
                label="Ajouter un document (PDF, HTML, Markdown, texte)",
                elem_id="upload-file",
                file_types=list(SUPPORTED_SUFFIXES),
            )
            add = gr.Button("Indexer ce document", elem_id="add-document")
            upload_status = gr.Markdown(elem_id="upload-status")

        outputs = [chatbot, box, last, trainer, status]
        box.submit(app.respond, [box, chatbot, mode], outputs, api_visibility="private")
        send.click(app.respond, [box, chatbot, mode], outputs, api_visibility="private")
        useful.click(
            lambda a, c: app.give_feedback(a, c, True),
            [last, comment],
            [status, comment],
            api_visibility="private",
        )
        not_useful.click(
            lambda a, c: app.give_feedback(a, c, False),
            [last, comment],
            [status, comment],
            api_visibility="private",
        )
        add.click(app.upload, [upload], [upload_status, table], api_visibility="private")
        gr.api(app.ask_api, api_name="ask")
        gr.api(app.feedback_api, api_name="feedback")
    return demo


def serve(assistant: Assistant, host: str, port: int, block: bool = True) -> gr.Blocks:
    """Launch the chat (queue with a concurrency limit; login when HAS_ASSISTANT_AUTH is set)."""
    settings = assistant.settings
    auth = parse_auth(settings.auth.get_secret_value() if settings.auth else None)
    admins = None
    if auth:
        names = settings.admins.split(",") if settings.admins else [auth[0][0]]
        admins = {n.strip() for n in names if n.strip()}
    log_to_stderr()
    feedback = FeedbackStore(assistant.records)
    demo = build_app(ChatApp(assistant, feedback, admins))
    # a bounded queue: beyond it a request is refused at once (busy, retry) instead of waiting
    demo.queue(default_concurrency_limit=settings.max_concurrency, max_size=settings.max_queue)
    guard = LoginGuard(auth, settings.login_max_failures, lock_s=settings.login_lock_s)
    middleware = [Middleware(HealthCheck, assistant=assistant)]
    if auth:
        middleware.append(Middleware(LoginRateLimit, guard=guard))
    demo.launch(
        server_name=host,
        server_port=port,
        max_file_size=f"{settings.max_upload_mb}mb",  # refused while it streams in
        auth=guard.gradio_auth() if auth else None,
        app_kwargs={"middleware": middleware},
        css=CSS,
        prevent_thread_lock=not block,
        show_error=False,
        quiet=False,
        footer_links=["api"],
    )
    return demo


def log_to_stderr() -> None:
    """The server's own log lines (one JSON line per answer, warnings, tracebacks) on stderr,
    without turning on every library's INFO logs."""
    logger = logging.getLogger("assistant")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
