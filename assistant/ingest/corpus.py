"""The corpus: the manifest of HAS publications and where each one's text lives locally.

A publication can have a copy bundled with the source tree (``corpus/documents/``, works
offline) and a copy downloaded by ``corpus sync`` into the data dir. The downloaded copy is
preferred when it loads, since it is the fresher one; the bundled copy is the fallback.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from assistant.errors import ConfigError, DocumentLoadError
from assistant.ingest.loaders import (
    DocMeta,
    LoadReport,
    ParseCache,
    iter_files,
    load_file,
    load_files,
)
from assistant.settings import Settings


class Publication(BaseModel):
    """One entry of ``corpus/manifest.toml``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    title: str = Field(min_length=1)
    type: str = "document"
    date: str | None = None
    updated: str | None = None
    landing_url: str | None = None
    pdf_url: str | None = None
    file: str | None = None
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    note: str | None = None

    @field_validator("landing_url", "pdf_url")
    @classmethod
    def _http_only(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @field_validator("file")
    @classmethod
    def _inside_the_corpus(cls, value: str | None) -> str | None:
        """A bundled file is named relative to the corpus folder and stays inside it."""
        if value is None:
            return value
        path = PurePosixPath(value.replace("\\", "/"))
        if path.is_absolute() or ".." in path.parts or PureWindowsPath(value).drive:
            raise ValueError("must be a path inside the corpus folder (no '/…', no '..')")
        return value

    @property
    def download_url(self) -> str | None:
        """What ``corpus sync`` fetches: the PDF when known, else the landing page."""
        return self.pdf_url or self.landing_url

    @property
    def download_suffix(self) -> str:
        return ".pdf" if self.pdf_url else ".html"

    def meta(self, path: Path) -> DocMeta:
        """Metadata for a local copy; a PDF's link is the PDF itself (so #page=N works)."""
        pdf = path.suffix.lower() == ".pdf"
        url = (self.pdf_url or self.landing_url) if pdf else (self.landing_url or self.pdf_url)
        return DocMeta(
            doc_id=self.id,
            title=self.title,
            doc_type=self.type,
            date=self.updated or self.date,
            url=url,
        )


def load_manifest(path: Path) -> list[Publication]:
    """Read and validate a manifest; raise :class:`ConfigError` naming the faulty entry."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(
            f"manifest not found: {path}", "set HAS_ASSISTANT_CORPUS_DIR to a corpus folder"
        ) from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: invalid TOML ({exc})", "fix the manifest syntax") from exc
    publications: list[Publication] = []
    for i, entry in enumerate(raw.get("publication", []), start=1):
        try:
            publications.append(Publication(**entry))
        except (ValidationError, TypeError) as exc:
            name = entry.get("id", f"#{i}") if isinstance(entry, dict) else f"#{i}"
            raise ConfigError(f"{path}: publication {name} is invalid:\n{exc}") from exc
    ids = [p.id for p in publications]
    if duplicates := sorted({i for i in ids if ids.count(i) > 1}):
        raise ConfigError(f"{path}: duplicate publication ids: {', '.join(duplicates)}")
    return publications


@dataclass(frozen=True)
class PublicationStatus:
    """Where a publication's text is available locally."""

    publication: Publication
    bundled: Path | None
    downloaded: Path | None

    @property
    def local_path(self) -> Path | None:
        return self.downloaded or self.bundled

    @property
    def label(self) -> str:
        parts = [name for name, p in (("bundled", self.bundled), ("synced", self.downloaded)) if p]
        if parts:
            return " + ".join(parts)
        return "not downloaded" if self.publication.download_url else "no source known"


class Corpus:
    """The manifest of a corpus folder plus its local copies."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.root = settings.corpus_dir
        self.publications = load_manifest(settings.manifest_path)
        self.max_bytes = settings.max_file_mb * 2**20
        self.cache = ParseCache(settings.home / "parsed")  # each file parsed once

    def downloaded_path(self, pub: Publication) -> Path:
        """Where ``corpus sync`` stores (or would store) this publication."""
        return self.settings.downloads_dir / f"{pub.id}{pub.download_suffix}"

    def status(self, pub: Publication) -> PublicationStatus:
        bundled = (self.root / pub.file) if pub.file else None
        downloaded = self.downloaded_path(pub) if pub.download_url else None
        return PublicationStatus(
            pub,
            bundled if bundled and bundled.is_file() else None,
            downloaded if downloaded and downloaded.is_file() else None,
        )

    def statuses(self) -> list[PublicationStatus]:
        return [self.status(p) for p in self.publications]

    def _load_publication(self, status: PublicationStatus, report: LoadReport) -> None:
        """Load the synced copy, falling back to the bundled one if the synced copy is bad."""
        for path in (status.downloaded, status.bundled):
            if path is None:
                continue
            try:
                report.documents.append(
                    load_file(path, status.publication.meta(path), self.max_bytes, self.cache)
                )
                return
            except DocumentLoadError as exc:
                report.errors.append(exc)

    def load(self, extra_paths: Iterable[Path] = ()) -> LoadReport:
        """Load every publication available locally, then the user's extra files/folders.

        Errors are collected in the report; files that load are never dropped because
        another one failed."""
        report = LoadReport()
        statuses = self.statuses()
        for status in statuses:
            self._load_publication(status, report)
        known = {p.resolve() for s in statuses for p in (s.bundled, s.downloaded) if p}
        extra = load_files(
            (p for p in iter_files(extra_paths) if p.resolve() not in known),
            self.max_bytes,
            self.cache,
        )
        report.documents.extend(extra.documents)
        report.errors.extend(extra.errors)
        return report
