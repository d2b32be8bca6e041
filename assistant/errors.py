"""The small exception tree of has-assistant.

Every error says what went wrong *and* how to fix it; the CLI turns them into one clean
message and a non-zero exit code instead of a stack trace.
"""

from __future__ import annotations

from pathlib import Path


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
