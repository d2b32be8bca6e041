"""Loaders: one file (HTML, PDF, Markdown, plain text) → a structured :class:`Document`.

A document is a sequence of :class:`Block` (heading, paragraph, list item, table row) that
keeps what the chunker needs: heading levels and PDF page numbers. Each loader raises
:class:`DocumentLoadError` naming the file and the reason; :func:`load_files` collects those
errors so that one bad file never stops the others from loading.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from bs4 import BeautifulSoup, Tag

from assistant.errors import DocumentLoadError
from assistant.text import normalize_space

BlockKind = Literal["heading", "paragraph", "list_item", "table"]

MAX_FILE_BYTES = 64 * 1024 * 1024
SUPPORTED_SUFFIXES = (".html", ".htm", ".pdf", ".md", ".markdown", ".txt")


def looks_like_pdf(head: bytes) -> bool:
    """A PDF's first bytes (leading whitespace allowed) are its ``%PDF`` header."""
    return head.lstrip()[:5].startswith(b"%PDF")


@dataclass(frozen=True)
class Block:
    """One structural unit of a document. ``level`` is the heading level (1 = title)."""

    kind: BlockKind
    text: str
    level: int = 0
    page: int | None = None


@dataclass(frozen=True)
class DocMeta:
    """What a document is: from the manifest for HAS publications, else from the file."""

    doc_id: str
    title: str
    doc_type: str = "document"
    date: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class Document:
    """A loaded publication: its metadata, its blocks, and where it came from."""

    meta: DocMeta
    blocks: tuple[Block, ...]
    source: Path
    sha256: str
    fmt: str
    page_count: int | None = None
    warnings: tuple[str, ...] = field(default=())

    @property
    def doc_id(self) -> str:
        return self.meta.doc_id

    @property
    def text(self) -> str:
        """The document's text, one block per line."""
        return "\n".join(b.text for b in self.blocks)


@dataclass
class LoadReport:
    """Result of loading many files: the documents that loaded and the errors of the others."""

    documents: list[Document] = field(default_factory=list)
    errors: list[DocumentLoadError] = field(default_factory=list)


# --------------------------------------------------------------------------- bytes → text


def _read_bytes(path: Path, max_bytes: int) -> bytes:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise DocumentLoadError(path, f"cannot read file ({exc.strerror})") from exc
    if size == 0:
        raise DocumentLoadError(path, "empty file (0 bytes)", "re-download or remove it")
    if size > max_bytes:
        raise DocumentLoadError(
            path,
            f"file too large ({size / 2**20:.1f} MiB > {max_bytes / 2**20:.0f} MiB)",
            "split the document, check that it is the right file, or raise "
            "HAS_ASSISTANT_MAX_FILE_MB",
        )
    return path.read_bytes()


def _decode_text(path: Path, data: bytes) -> str:
    """Decode a text file (UTF-8, else Windows-1252), refusing binary content."""
    if b"\x00" in data[:8192]:
        raise DocumentLoadError(
            path, "binary content in a text file", "check the extension matches the content"
        )
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        controls = sum(1 for c in text if ord(c) < 32 and c not in "\n\r\t\f")
        if controls > max(8, len(text) // 100):
            break
        return text
    raise DocumentLoadError(
        path, "not readable as text (unknown encoding or binary content)", "save it as UTF-8"
    )


# --------------------------------------------------------------------------- plain text


# list markers: dashes, stars and numbers need a space after them; typographic bullets
# (« • », « ▪ »…) do not, as PDF text extraction often glues them to the item
_BULLET = re.compile(r"^\s*(?:[•▪◦●■►➢✓]\s*|[-–—*·]\s+|\d{1,2}[.)]\s+)(?=\S)")
_LONE_BULLET = re.compile(r"^\s*[-–—•*▪◦●■►➢✓·]\s*$")
_TERMINAL = tuple(".;:!?…,»)|")
# a label line that names the block described on the lines after it: « Niveau A »,
# « Critère 2.4 », « Étape 1 – Cadrage », « Axe II : Accompagner »
_LABEL = re.compile(
    r"^(?:[A-ZÀ-Ý][\w'’-]*\s+){1,3}(?:[A-Z]|\d{1,2}(?:\.\d{1,2})*|[IVX]{1,5})\b"
    r"(?:\s*[–—:-]\s*[^.!?]*)?\s*:?$"
)


def _is_heading_line(line: str, next_line: str | None) -> bool:
    """A short line without final punctuation, followed by real text, reads as a heading."""
    if len(line) > 90 or _BULLET.match(line) or line.endswith(_TERMINAL) or "|" in line:
        return False
    if not (line[0].isupper() or line[0].isdigit()):
        return False
    return next_line is not None and sum(c.isalpha() for c in next_line) >= 3


def _lines_to_blocks(lines: list[str], page: int | None, join_wrapped: bool) -> list[Block]:
    """Turn lines into blocks. With ``join_wrapped`` (PDF), a line continues the previous
    paragraph unless that one ended a sentence; otherwise each non-empty line is a block."""
    lines = [normalize_space(x) for x in lines]
    blocks: list[Block] = []
    current: list[str] = []
    current_kind: BlockKind = "paragraph"

    def flush() -> None:
        nonlocal current
        if current:
            blocks.append(Block(current_kind, " ".join(current), page=page))
            current = []

    bullet_pending = False  # a bullet alone on its line: the next line is the item
    for i, line in enumerate(lines):
        if not line:
            flush()
            continue
        if _LONE_BULLET.match(line):
            flush()
            bullet_pending = True
            continue
        if not any(c.isalnum() for c in line):
            continue  # layout debris such as a lone "|"
        next_line = next((x for x in lines[i + 1 :] if x), None)
        if bullet_pending or _BULLET.match(line):
            flush()
            current_kind, current = "list_item", [_BULLET.sub("", line)]
            bullet_pending = False
        elif _continues_item(current_kind, current, line):
            current.append(line)
        elif "|" in line:
            flush()
            cells = [c.strip() for c in line.split("|") if c.strip()]
            blocks.append(Block("table", " | ".join(cells), page=page))
        elif _is_heading_line(line, next_line) and (not current or current[-1].endswith(_TERMINAL)):
            flush()
            blocks.append(Block("heading", line, level=2, page=page))
        elif join_wrapped and current and not current[-1].endswith((".", "!", "?", "…", ":")):
            if current[-1].endswith("-") and line[:1].islower():
                current[-1] = current[-1][:-1] + line.split(" ", 1)[0]
                rest = line.split(" ", 1)[1:] or []
                current.extend(rest)
            else:
                current.append(line)
        else:
            flush()
            current_kind, current = "paragraph", [line]
    flush()
    return _labels_with_descriptions(blocks)


def _continues_item(kind: BlockKind, current: list[str], line: str) -> bool:
    """A wrapped list item: the item has no final punctuation and the line goes on in
    lower case (« • Vérifier la conformité de l'outil » / « aux exigences du RGPD ; »)."""
    return (
        kind == "list_item"
        and bool(current)
        and not current[-1].endswith(_TERMINAL)
        and line[:1].islower()
    )


def _labels_with_descriptions(blocks: list[Block]) -> list[Block]:
    """A label line (« Niveau A ») read as a heading is kept with the description that
    follows it, as one paragraph « Niveau A : … »: a quote of the description then names
    what it describes, and the label does not start a chunk of its own."""
    out: list[Block] = []
    for block in blocks:
        previous = out[-1] if out else None
        if (
            previous is not None
            and previous.kind in ("heading", "paragraph")
            and previous.level != 1
            and _LABEL.match(previous.text)
            and block.kind == "paragraph"
            and block.page == previous.page
        ):
            label = previous.text if previous.text.endswith(":") else f"{previous.text} :"
            out[-1] = Block("paragraph", f"{label} {block.text}", page=block.page)
        else:
            out.append(block)
    return out


def _title_first(blocks: list[Block]) -> list[Block]:
    """Mark the first line of a text document as its title (heading level 1)."""
    if blocks and blocks[0].kind in ("heading", "paragraph") and len(blocks[0].text) <= 200:
        blocks[0] = Block("heading", blocks[0].text, level=1, page=blocks[0].page)
    return blocks


def parse_plain_text(text: str) -> list[Block]:
    """Plain text: one paragraph per line, short unpunctuated lines as headings."""
    return _title_first(_lines_to_blocks(text.splitlines(), page=None, join_wrapped=False))


# --------------------------------------------------------------------------- Markdown


_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_EMPHASIS = re.compile(r"(\*\*|__|\*|_|`)(?=\S)(.+?)(?<=\S)\1")


def _md_inline(text: str) -> str:
    return normalize_space(_MD_EMPHASIS.sub(r"\2", _MD_LINK.sub(r"\1", text)))


def parse_markdown(text: str) -> list[Block]:
    """Markdown: ATX headings, lists, tables and paragraphs (wrapped lines joined)."""
    blocks: list[Block] = []
    paragraph: list[str] = []
    in_code = False

    def flush() -> None:
        if paragraph:
            blocks.append(Block("paragraph", _md_inline(" ".join(paragraph))))
            paragraph.clear()

    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith(">") and not in_code:  # blockquote: keep the quoted text
            line = line.lstrip("> ").strip()
        if line.startswith("```"):
            flush()
            in_code = not in_code
            continue
        if in_code:
            if line:
                paragraph.append(line)
            continue
        if not line:
            flush()
            continue
        if heading := _MD_HEADING.match(line):
            flush()
            blocks.append(Block("heading", _md_inline(heading.group(2)), len(heading.group(1))))
        elif _BULLET.match(line):
            flush()
            blocks.append(Block("list_item", _md_inline(_BULLET.sub("", line))))
        elif line.startswith("|"):
            flush()
            cells = [c.strip() for c in line.strip("|").split("|")]
            if not all(re.fullmatch(r":?-{2,}:?", c) for c in cells if c):
                blocks.append(Block("table", " | ".join(_md_inline(c) for c in cells if c)))
        elif (
            raw.startswith(("  ", "\t"))
            and not paragraph
            and blocks[-1:]
            and (blocks[-1].kind == "list_item")
        ):  # an indented continuation line of a list item
            last = blocks.pop()
            blocks.append(Block("list_item", f"{last.text} {_md_inline(line)}"))
        else:
            paragraph.append(line)
    flush()
    return [b for b in blocks if b.text]


# --------------------------------------------------------------------------- HTML

_NOISE_TAGS = (
    "script",
    "style",
    "noscript",
    "nav",
    "header",
    "footer",
    "aside",
    "form",
    "iframe",
    "svg",
    "button",
    "template",
)
_NOISE_ROLES = ("navigation", "banner", "contentinfo", "search", "complementary")
_NOISE_MARKERS = re.compile(
    r"(^|[-_ ])(menu|nav|navbar|navigation|footer|header|breadcrumbs?|cookies?|share|partage|"
    r"social|sidebar|skip|toolbar|pagination|print|newsletter)([-_ ]|$)",
    re.I,
)
_BLOCK_TAGS = (
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "p",
    "li",
    "tr",
    "dt",
    "dd",
    "blockquote",
    "pre",
    "figcaption",
)


def _is_noise(tag: Tag) -> bool:
    if tag.name in _NOISE_TAGS or tag.get("role") in _NOISE_ROLES:
        return True
    if tag.get("hidden") is not None or tag.get("aria-hidden") == "true":
        return True
    markers = " ".join([tag.get("id") or "", *(tag.get("class") or [])])
    return bool(markers and _NOISE_MARKERS.search(markers))


def _main_content(soup: BeautifulSoup) -> Tag:
    for selector in ("main", "[role=main]", "article", "#content", ".content", "#main"):
        found = soup.select_one(selector)
        if found is not None and found.get_text(strip=True):
            return found
    return soup.body or soup


def parse_html(html: str) -> tuple[list[Block], str | None]:
    """HTML: the main content only (menus, headers, footers, scripts dropped).

    Returns the blocks and the page's ``<title>`` (or None)."""
    soup = BeautifulSoup(html, "html.parser")
    page_title = normalize_space(soup.title.get_text()) if soup.title else None
    root = _main_content(soup)
    for tag in list(root.find_all(True)):
        if not tag.decomposed and _is_noise(tag):
            tag.decompose()
    blocks: list[Block] = []
    for tag in root.find_all(_BLOCK_TAGS):
        if tag.find_parent(_BLOCK_TAGS) is not None and tag.name != "li":
            continue  # text already taken with its enclosing block
        if tag.name == "li":
            for sub in tag.find_all(["ul", "ol"]):
                sub.extract()  # nested items are still visited, as items of their own
            text = normalize_space(tag.get_text(" "))
        elif tag.name == "tr":
            cells = [normalize_space(c.get_text(" ")) for c in tag.find_all(["td", "th"])]
            text = " | ".join(c for c in cells if c)
        else:
            text = normalize_space(tag.get_text(" "))
        if not text:
            continue
        if tag.name[0] == "h" and tag.name[1:].isdigit():
            blocks.append(Block("heading", text, level=int(tag.name[1])))
        else:
            kind: BlockKind = {"li": "list_item", "tr": "table"}.get(tag.name, "paragraph")  # type: ignore[assignment]
            blocks.append(Block(kind, text))
    return blocks, page_title


# --------------------------------------------------------------------------- PDF


def parse_pdf(path: Path) -> list[Block]:
    """PDF: text per page with pypdf, page numbers kept on every block (1-based)."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            raise DocumentLoadError(path, "encrypted PDF", "provide an unprotected copy")
        pages = [page.extract_text() or "" for page in reader.pages]
    except DocumentLoadError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise DocumentLoadError(
            path, f"corrupt or unreadable PDF ({exc})", "re-download the file"
        ) from exc
    if not pages:
        raise DocumentLoadError(path, "PDF has no pages")
    blocks: list[Block] = []
    for number, page_text in enumerate(pages, start=1):
        blocks.extend(_lines_to_blocks(page_text.splitlines(), page=number, join_wrapped=True))
    if not blocks:
        raise DocumentLoadError(
            path,
            f"PDF has no text layer ({len(pages)} page(s) of images?)",
            "run OCR on it first (e.g. ocrmypdf) and add the OCR'd copy",
        )
    return blocks


# --------------------------------------------------------------------------- entry points


def _meta_from_file(path: Path, blocks: list[Block], title_hint: str | None) -> DocMeta:
    title = next((b.text for b in blocks if b.kind == "heading" and b.level == 1), None)
    slug = re.sub(r"[^a-z0-9]+", "-", path.stem.lower()).strip("-") or "document"
    return DocMeta(doc_id=slug, title=title or title_hint or path.stem)


def _parse(path: Path, data: bytes) -> tuple[list[Block], str | None]:
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        if not looks_like_pdf(data[:1024]):
            raise DocumentLoadError(path, "not a PDF (no %PDF header)", "re-download the file")
        return parse_pdf(path), None
    text = _decode_text(path, data)
    if suffix in (".html", ".htm"):
        return parse_html(text)
    if suffix in (".md", ".markdown"):
        return parse_markdown(text), None
    return parse_plain_text(text), None


LOADER_VERSION = "1"  # bump whenever parsing changes: the parse cache is keyed by it


class ParseCache:
    """Parsed blocks by file content, so that a file is parsed once (a PDF's text extraction
    is the slow part of an ingest): one JSON file per content hash in ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.used: set[str] = set()

    @staticmethod
    def key(path: Path, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        return f"v{LOADER_VERSION}-{digest}{path.suffix.lower()}"

    def get(self, key: str) -> tuple[list[Block], str | None] | None:
        self.used.add(key)
        try:
            raw = json.loads((self.folder / f"{key}.json").read_text(encoding="utf-8"))
            return [Block(*b) for b in raw["blocks"]], raw["title"]
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def put(self, key: str, blocks: list[Block], title: str | None) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        rows = [[b.kind, b.text, b.level, b.page] for b in blocks]
        tmp = self.folder / f".{key}.tmp"
        tmp.write_text(json.dumps({"blocks": rows, "title": title}, ensure_ascii=False), "utf-8")
        tmp.replace(self.folder / f"{key}.json")

    def prune(self) -> None:
        """Forget the files not read since this cache was opened."""
        for path in self.folder.glob("*.json"):
            if path.stem not in self.used:
                path.unlink(missing_ok=True)


def load_file(
    path: Path | str,
    meta: DocMeta | None = None,
    max_bytes: int = MAX_FILE_BYTES,
    cache: ParseCache | None = None,
) -> Document:
    """Load one file into a :class:`Document`.

    ``meta`` (from the manifest) names the publication; without it, the id is derived from the
    file name and the title from the first heading. Raises :class:`DocumentLoadError`."""
    path = Path(path)
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise DocumentLoadError(
            path,
            f"unsupported format '{path.suffix or '(no extension)'}'",
            f"supported: {', '.join(SUPPORTED_SUFFIXES)}",
        )
    data = _read_bytes(path, max_bytes)
    key = ParseCache.key(path, data) if cache else ""
    cached = cache.get(key) if cache else None
    try:
        blocks, title_hint = cached or _parse(path, data)
    except DocumentLoadError:
        raise
    except RecursionError as exc:
        raise DocumentLoadError(
            path, "structure nested too deeply to read", "check the file"
        ) from exc
    except MemoryError as exc:
        raise DocumentLoadError(path, "too large to read in memory", "split the file") from exc
    except Exception as exc:  # any parser failure on a broken or hostile file is this file's error
        raise DocumentLoadError(
            path, f"unreadable file ({type(exc).__name__}: {exc})", "check or re-download the file"
        ) from exc
    if not any(b.text.strip() for b in blocks):
        raise DocumentLoadError(path, "no text found in the document")
    if cache and cached is None:
        cache.put(key, blocks, title_hint)
    pages = {b.page for b in blocks if b.page is not None}
    return Document(
        meta=meta or _meta_from_file(path, blocks, title_hint),
        blocks=tuple(blocks),
        source=path,
        sha256=hashlib.sha256(data).hexdigest(),
        fmt=path.suffix.lower().lstrip("."),
        page_count=max(pages) if pages else None,
    )


def iter_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Expand folders into the files they hold (sorted, hidden files skipped)."""
    for path in paths:
        if path.is_dir():
            yield from sorted(
                p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")
            )
        else:
            yield path


def load_files(
    paths: Iterable[Path], max_bytes: int = MAX_FILE_BYTES, cache: ParseCache | None = None
) -> LoadReport:
    """Load every file (folders expanded); errors are collected, never raised."""
    report = LoadReport()
    for path in iter_files(paths):
        try:
            report.documents.append(load_file(path, max_bytes=max_bytes, cache=cache))
        except DocumentLoadError as exc:
            report.errors.append(exc)
    return report
