"""LLM backends (LangChain chat models) and the prompts they are given.

``make_chat_model`` returns a LangChain ``BaseChatModel`` for the configured backend:
``openai`` (any OpenAI-compatible server: vLLM, Mistral, Albert, llama.cpp's server…),
``ollama``, or ``llamacpp`` (a local GGUF file run in-process). Temperature 0, timeouts, and
no silent retries: a failure surfaces at once so that the caller can fall back.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import PrivateAttr

from assistant.errors import ConfigError, optional_import
from assistant.index.retrieval import Hit
from assistant.settings import Settings


@dataclass(frozen=True)
class Prompts:
    """The prompt files of ``prompts/``, read at run time."""

    system: str
    answer: str
    condense: str

    @classmethod
    def load(cls, folder: Path) -> Prompts:
        try:
            return cls(
                *(
                    (folder / name).read_text(encoding="utf-8")
                    for name in ("system_fr.md", "answer.md", "condense.md")
                )
            )
        except OSError as exc:
            raise ConfigError(
                f"cannot read the prompts in {folder}: {exc}",
                "set HAS_ASSISTANT_PROMPTS_DIR to the prompts/ folder",
            ) from exc


def format_passages(hits: Sequence[Hit]) -> str:
    """Passages numbered [1]…[k] in rank order, each with its source, fenced as data."""
    blocks = []
    for n, hit in enumerate(hits, start=1):
        c = hit.chunk
        where = " › ".join(x for x in (c.title, c.section) if x)
        page = f", p. {c.page}" if c.page else ""
        text = c.text.replace("<<<", "‹‹‹").replace(">>>", "›››")  # cannot close the fence
        blocks.append(f"[{n}] ({where}{page})\n{text}")
    return "\n\n".join(blocks)


class LlamaCppChatModel(BaseChatModel):
    """A local GGUF model run in-process with llama-cpp-python, as a LangChain chat model."""

    model_path: str
    temperature: float = 0.0
    max_tokens: int = 512
    n_ctx: int = 4096
    _llama: Any = PrivateAttr(default=None)

    @property
    def _llm_type(self) -> str:
        return "llamacpp-local"

    def _client(self) -> Any:
        if self._llama is None:
            Llama = optional_import("llama_cpp", "the llamacpp LLM backend", "llamacpp").Llama
            if not Path(self.model_path).is_file():
                raise ConfigError(
                    f"GGUF model not found: {self.model_path}",
                    "set HAS_ASSISTANT_LLM_MODEL to a .gguf file",
                )
            self._llama = Llama(model_path=self.model_path, n_ctx=self.n_ctx, verbose=False, seed=0)
        return self._llama

    def _messages(self, messages: list[BaseMessage]) -> list[dict[str, str]]:
        roles = {"human": "user", "ai": "assistant", "system": "system"}
        return [{"role": roles.get(m.type, "user"), "content": str(m.content)} for m in messages]

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        text = "".join(chunk.text for chunk in self._stream(messages, stop, run_manager))
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        stream = self._client().create_chat_completion(
            messages=self._messages(messages),
            temperature=self.temperature,
            max_tokens=self.max_tokens,
            stop=stop,
            stream=True,
        )
        for part in stream:
            token = part["choices"][0]["delta"].get("content") or ""
            if token:
                if run_manager:
                    run_manager.on_llm_new_token(token)
                yield ChatGenerationChunk(message=AIMessageChunk(content=token))


def make_chat_model(settings: Settings) -> BaseChatModel:
    """The chat model of ``HAS_ASSISTANT_LLM_BACKEND`` (not 'none')."""
    backend, model = settings.llm_backend, settings.llm_model
    key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
    if backend == "openai":
        if not settings.llm_base_url or not model:
            raise ConfigError(
                "the openai backend needs a base URL and a model",
                "set HAS_ASSISTANT_LLM_BASE_URL and HAS_ASSISTANT_LLM_MODEL",
            )
        from langchain_openai import ChatOpenAI  # a dependency: most deployments use it

        return ChatOpenAI(
            base_url=settings.llm_base_url,
            model=model,
            api_key=key or "not-needed",
            temperature=0,
            timeout=settings.llm_timeout_s,
            max_retries=0,
            max_tokens=settings.llm_max_tokens,
            # langchain-openai sends max_completion_tokens, which many OpenAI-compatible
            # servers (llama.cpp, older vLLM) ignore: send the classic field as well
            extra_body={"max_tokens": settings.llm_max_tokens},
        )
    if backend == "ollama":
        ChatOllama = optional_import("langchain_ollama", "the ollama LLM backend", "llm").ChatOllama

        return ChatOllama(
            base_url=settings.llm_base_url or "http://127.0.0.1:11434",
            model=model or "mistral",
            temperature=0,
            num_predict=settings.llm_max_tokens,
            client_kwargs={"timeout": settings.llm_timeout_s},
        )
    if backend == "llamacpp":
        if not model:
            raise ConfigError(
                "the llamacpp backend needs a GGUF file", "set HAS_ASSISTANT_LLM_MODEL to its path"
            )
        optional_import("llama_cpp", "the llamacpp LLM backend", "llamacpp")
        return LlamaCppChatModel(model_path=model, max_tokens=settings.llm_max_tokens)
    raise ConfigError(
        f"no LLM backend configured ('{backend}')",
        "set HAS_ASSISTANT_LLM_BACKEND to openai, ollama or llamacpp",
    )


def model_label(settings: Settings) -> str:
    return f"{settings.llm_backend}:{settings.llm_model or '?'}"
