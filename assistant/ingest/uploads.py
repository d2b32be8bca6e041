"""A file uploaded in the chat: checked (name, type by content, size), read once in an
isolated process, then kept under the data dir's ``uploads/`` — or refused with a message."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

from assistant.errors import AssistantError, DocumentLoadError
from assistant.ingest.isolation import load_file_isolated
from assistant.ingest.loaders import SUPPORTED_SUFFIXES, looks_like_pdf
from assistant.settings import Settings


def safe_name(name: str) -> str:
    """The file name to keep: no folder, only word characters, dots, dashes and spaces."""
    return re.sub(r"[^\w.\- ]+", "_", Path(name).name).strip(" .") or "upload"


def check_upload(source: Path, name: str, max_mb: int) -> None:
    """Refuse an unsupported format, an empty or too large file, a PDF that is not one."""
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise AssistantError(
            f"{name}: format non pris en charge ({suffix or 'aucun'})",
            "PDF, HTML, Markdown ou texte",
        )
    size = source.stat().st_size
    if size == 0:
        raise AssistantError(f"{name}: fichier vide (0 octet)", "vérifiez le fichier")
    if size > max_mb * 2**20:
        raise AssistantError(
            f"{name}: fichier trop volumineux ({size / 2**20:.1f} Mio)", f"limite : {max_mb} Mio"
        )
    with source.open("rb") as fh:
        head = fh.read(1024)  # not the whole file: it may be 50 MB
    if suffix == ".pdf" and not looks_like_pdf(head):
        raise AssistantError(f"{name}: ce n'est pas un PDF (contenu)", "vérifiez le fichier")


def keep_upload(source: Path, name: str | None, settings: Settings, folder: Path) -> Path:
    """Check ``source`` and read it under its final name outside ``folder`` first (a bad file
    never replaces a good one of the same name, and never sits in ``folder`` where every
    ingest would meet it); then move it into ``folder``. Returns where it is kept."""
    safe = safe_name(name or source.name)
    check_upload(source, safe, settings.max_upload_mb)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / safe
    with tempfile.TemporaryDirectory(dir=settings.home, prefix=".upload-") as staging:
        staged = Path(staging) / safe
        shutil.copyfile(source, staged)
        try:
            load_file_isolated(
                staged,
                settings.max_upload_mb * 2**20,
                settings.parse_timeout_s,
                settings.parse_memory_mb,
            )
        except DocumentLoadError as exc:
            raise AssistantError(f"{safe}: {exc.reason}", exc.hint) from exc
        os.replace(staged, target)
    return target
