"""``corpus sync``: download the manifest's publications into the data dir.

Robust by construction: timeouts, retries with exponential backoff on transient failures,
a User-Agent, conditional requests (ETag / Last-Modified) plus a sha256 comparison so that an
unchanged file is never rewritten, and downloads written to a temporary file that replaces the
cached copy only once complete and checked — a failed download never damages a good copy.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import os
import tempfile
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import httpx

from assistant.errors import SyncError
from assistant.ingest.corpus import Corpus, Publication
from assistant.ingest.loaders import looks_like_pdf

SyncStatus = Literal["new", "updated", "unchanged", "failed"]
MAX_DOWNLOAD_BYTES = 100 * 1024 * 1024
STATE_FILE = "sync-state.json"


@dataclass(frozen=True)
class SyncResult:
    """Outcome of syncing one publication."""

    pub_id: str
    url: str
    status: SyncStatus
    reason: str = ""
    sha256: str | None = None
    size: int | None = None
    attempts: int = 1


@dataclass
class CacheEntry:
    """What we know of the cached copy of one publication."""

    url: str
    sha256: str
    size: int
    etag: str | None = None
    last_modified: str | None = None
    fetched_at: str | None = None


class _Transient(Exception):
    """A failure worth retrying (timeout, connection, 5xx, truncated body)."""


def _atomic_write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


class SyncState:
    """The sync-state.json file beside the downloads: one :class:`CacheEntry` per id."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries: dict[str, CacheEntry] = {}
        if path.is_file():
            try:
                raw = json.loads(path.read_text(encoding="utf-8"))
                self.entries = {k: CacheEntry(**v) for k, v in raw.items()}
            except (ValueError, TypeError):
                self.entries = {}  # unreadable state: files are re-validated by sha256

    def save(self) -> None:
        data = {k: asdict(v) for k, v in sorted(self.entries.items())}
        _atomic_write_text(self.path, json.dumps(data, indent=2, ensure_ascii=False))


def _check_body(pub: Publication, head: bytes, tail: bytes, content_type: str) -> None:
    """Refuse a body that is not what the manifest announces (error pages, cut PDFs)."""
    if pub.pdf_url:
        if not looks_like_pdf(head):
            raise SyncError(f"not a PDF (Content-Type: {content_type or 'none'})")
        if b"%%EOF" not in tail:
            raise _Transient("truncated PDF (no %%EOF marker)")
    elif "html" not in content_type and b"<" not in head[:512]:
        raise SyncError(f"not an HTML page (Content-Type: {content_type or 'none'})")


def _download(
    client: httpx.Client, pub: Publication, url: str, dest: Path, cached: CacheEntry | None
) -> tuple[int, Path | None, httpx.Headers]:
    """One attempt. Returns (status code, temp file or None on 304, headers)."""
    headers = {}
    if cached and dest.is_file():
        if cached.etag:
            headers["If-None-Match"] = cached.etag
        if cached.last_modified:
            headers["If-Modified-Since"] = cached.last_modified
    try:
        with client.stream("GET", url, headers=headers) as response:
            if response.status_code == 304:
                return 304, None, response.headers
            if response.status_code >= 500 or response.status_code == 429:
                raise _Transient(f"HTTP {response.status_code}")
            if response.status_code >= 400:
                raise SyncError(f"HTTP {response.status_code} {response.reason_phrase}")
            dest.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=".part-", suffix=dest.suffix)
            tmp = Path(tmp_name)
            try:
                head, tail, size = b"", b"", 0
                with os.fdopen(fd, "wb") as fh:
                    for data in response.iter_bytes():
                        size += len(data)
                        if size > MAX_DOWNLOAD_BYTES:
                            raise SyncError(f"file larger than {MAX_DOWNLOAD_BYTES // 2**20} MiB")
                        head = head if len(head) >= 1024 else (head + data)[:1024]
                        tail = (tail + data)[-2048:]
                        fh.write(data)
                if size == 0:
                    raise _Transient("empty body")
                _check_body(pub, head, tail, response.headers.get("content-type", ""))
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
            return response.status_code, tmp, response.headers
    except httpx.TimeoutException as exc:
        raise _Transient(f"timeout after {client.timeout.read}s ({type(exc).__name__})") from exc
    except httpx.RemoteProtocolError as exc:
        raise _Transient(f"truncated or malformed response ({exc})") from exc
    except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
        raise SyncError(f"redirected to an address that is not http(s) ({exc})") from exc
    except httpx.TooManyRedirects as exc:
        raise SyncError(f"too many redirects (more than {MAX_REDIRECTS})") from exc
    except httpx.TransportError as exc:
        raise _Transient(f"connection failed ({exc})") from exc
    except httpx.HTTPError as exc:  # any other client error is this file's failure
        raise SyncError(f"download failed ({type(exc).__name__}: {exc})") from exc


MAX_REDIRECTS = 5


def _is_local(host: str) -> bool:
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_private or address.is_link_local


def check_redirect(response: httpx.Response) -> None:
    """Follow a redirect only to http(s), and to a local address only on the same origin
    (a public page must not send the server to one of its neighbours' ports)."""
    if not response.has_redirect_location:
        return
    origin = response.request.url
    try:
        target = origin.join(response.headers["location"])
    except httpx.InvalidURL as exc:
        raise SyncError(f"redirected to an address that is not http(s) ({exc})") from exc
    if target.scheme not in ("http", "https"):
        raise SyncError(f"redirected to an address that is not http(s) ({target.scheme}:)")
    if _is_local(target.host) and (target.host, target.port) != (origin.host, origin.port):
        raise SyncError(f"redirected to a local address ({target.host}:{target.port}), refused")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sync_publication(
    client: httpx.Client,
    pub: Publication,
    dest: Path,
    state: SyncState,
    retries: int = 3,
    backoff_s: float = 1.0,
) -> SyncResult:
    """Download one publication to ``dest`` (retrying transient failures); update ``state``."""
    url = pub.download_url
    assert url, "sync_publication needs a publication with a URL"
    cached = state.entries.get(pub.id)
    if cached and cached.url != url:
        cached = None  # the manifest points elsewhere now: no conditional request
    attempt = 0
    while True:
        attempt += 1
        try:
            code, tmp, headers = _download(client, pub, url, dest, cached)
            break
        except _Transient as exc:
            if attempt > retries:
                return SyncResult(pub.id, url, "failed", str(exc), attempts=attempt)
            time.sleep(backoff_s * 2 ** (attempt - 1))
        except SyncError as exc:
            return SyncResult(pub.id, url, "failed", exc.message, attempts=attempt)
    if tmp is None:  # 304 Not Modified
        assert cached is not None
        return SyncResult(pub.id, url, "unchanged", "304", cached.sha256, cached.size, attempt)
    sha = _sha256(tmp)
    size = tmp.stat().st_size
    previous = _sha256(dest) if dest.is_file() else None
    if previous == sha:
        tmp.unlink()
        status: SyncStatus = "unchanged"
    else:
        os.replace(tmp, dest)
        status = "new" if previous is None else "updated"
    state.entries[pub.id] = CacheEntry(
        url=url,
        sha256=sha,
        size=size,
        etag=headers.get("etag"),
        last_modified=headers.get("last-modified"),
        fetched_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    return SyncResult(pub.id, url, status, f"HTTP {code}", sha, size, attempt)


def sync_corpus(corpus: Corpus, only: Iterable[str] = ()) -> list[SyncResult]:
    """Sync every manifest entry that has a URL (or only the given ids)."""
    settings = corpus.settings
    wanted = set(only)
    unknown = wanted - {p.id for p in corpus.publications}
    if unknown:
        raise SyncError(
            f"unknown publication id(s): {', '.join(sorted(unknown))}",
            "see `has-assistant corpus list`",
        )
    pubs = [p for p in corpus.publications if p.download_url and (not wanted or p.id in wanted)]
    state = SyncState(settings.downloads_dir / STATE_FILE)
    results: list[SyncResult] = []
    timeout = httpx.Timeout(settings.sync_timeout_s)
    headers = {"User-Agent": settings.user_agent}
    with httpx.Client(
        timeout=timeout,
        headers=headers,
        follow_redirects=True,
        max_redirects=MAX_REDIRECTS,
        event_hooks={"response": [check_redirect]},
    ) as client:
        for pub in pubs:
            results.append(
                sync_publication(
                    client,
                    pub,
                    corpus.downloaded_path(pub),
                    state,
                    settings.sync_retries,
                    settings.sync_backoff_s,
                )
            )
            state.save()  # after each file, so an interrupted sync keeps what it fetched
    return results
