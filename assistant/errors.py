"""The small exception tree of has-assistant.

Every error says what went wrong *and* how to fix it; the CLI turns them into one clean
message and a non-zero exit code instead of a stack trace.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType


class AssistantError(Exception):
    """Base class: ``message`` says what happened, ``hint`` how to fix it."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  → {self.hint}" if self.hint else self.message


class ConfigError(AssistantError):
    """Invalid settings or manifest."""

    exit_code = 2


class DocumentLoadError(AssistantError):
    """A file could not be turned into a Document (the other files still load)."""

    def __init__(self, path: Path | str, reason: str, hint: str | None = None) -> None:
        super().__init__(f"{path}: {reason}", hint)
        self.path = Path(path)
        self.reason = reason


class SyncError(AssistantError):
    """A download failed; the cached copy, if any, is kept."""


class IndexStoreError(AssistantError):
    """The index is missing, built with another embedder, or unreachable."""

    exit_code = 3


class IndexMissingError(IndexStoreError):
    def __init__(self, where: str) -> None:
        super().__init__(f"no index yet in {where}", "run `has-assistant ingest` first")


class IndexMismatchError(IndexStoreError):
    def __init__(self, built_with: str, configured: str) -> None:
        super().__init__(
            f"the index was built with embedder '{built_with}', "
            f"but the configured embedder is '{configured}'",
            "run `has-assistant ingest --rebuild` (or set HAS_ASSISTANT_EMBEDDER back)",
        )


def optional_import(module: str, feature: str, extra: str) -> ModuleType:
    """Import the package of an optional backend, or raise a ConfigError naming the extra
    that installs it (``feature``: what needs it, e.g. "the ollama LLM backend")."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ConfigError(
            f"{feature} needs the Python package '{module}', which is not installed",
            f"pip install 'has-assistant[{extra}]'",
        ) from exc
