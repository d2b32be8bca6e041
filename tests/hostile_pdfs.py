"""Hand-written hostile PDFs (no text worth reading; nothing here is HAS content)."""

from __future__ import annotations

import zlib


def raw_pdf(objects: list[bytes]) -> bytes:
    """A PDF from object bodies (object n is ``objects[n - 1]``, the catalog is 1), with a
    correct cross-reference table."""
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def stream(data: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Length %d %s >>\nstream\n" % (len(data), extra) + data + b"\nendstream"


def inflation_bomb(megabytes: int = 200) -> bytes:
    """A 200 KB PDF whose page content inflates to ``megabytes`` MB (past pypdf's limit)."""
    content = b"BT /F1 12 Tf (x) Tj ET\n" + b" " * (megabytes * 2**20)
    return raw_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
            b" /Resources << /Font << /F1 5 0 R >> >> >>",
            stream(zlib.compress(content, 9), b"/Filter /FlateDecode"),
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        ]
    )


def deep_page_tree(depth: int = 1500) -> bytes:
    """Page-tree nodes nested ``depth`` deep above a single page."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    objects += [
        b"<< /Type /Pages /Kids [%d 0 R] /Count 1 >>" % (n + 1) for n in range(2, depth + 2)
    ]
    objects.append(b"<< /Type /Page /MediaBox [0 0 612 792] /Contents %d 0 R >>" % (depth + 3))
    objects.append(stream(b"BT (x) Tj ET"))
    return raw_pdf(objects)
