"""The user's own sources: files and folders added with ``ingest PATHS``, remembered in
``HAS_ASSISTANT_HOME/sources.json`` for the next ingests."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

from assistant.errors import AssistantError


class UserSources:
    """The remembered list of paths. A damaged file is an error, never read as "no sources"
    (the next ingest would drop the user's documents from the index)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> list[Path]:
        try:
            raw = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        except (OSError, UnicodeDecodeError) as exc:
            raise AssistantError(
                f"{self.path}: unreadable ({exc})", "fix or delete the file"
            ) from exc
        try:
            paths = json.loads(raw)
            if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
                raise ValueError("expected a JSON list of paths")
        except ValueError as exc:
            raise AssistantError(
                f"{self.path}: damaged ({exc}); your own documents were left indexed",
                'fix it (a JSON list of paths: ["/path/one", "/path/two"]) or delete it '
                "and add your folders again with `has-assistant ingest PATH`",
            ) from exc
        return [Path(p) for p in paths]

    def write(self, paths: Sequence[Path]) -> None:
        """Replace the list, atomically (a crash never leaves half a file)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        tmp.write_text(json.dumps([str(p) for p in paths], indent=1), "utf-8")
        os.replace(tmp, self.path)
