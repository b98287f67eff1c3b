"""Tiny valid PDFs written by hand, for tests that need real PDF bytes without a PDF library.

`make_pdf(["page one text", "page two text"], title=...)` gives a PDF with one Helvetica text
page per string (lines split on "\\n", long lines wrapped), an Info dictionary and a correct
xref table. Thousands of pages take well under a second to build, so a "huge PDF" test can use it.
"""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, timedelta

_WRAP = 90  # characters per line: keeps text inside a US Letter page at 11 pt
_LEADING = 14


def _pdf_literal(text: str) -> bytes:
    """A PDF literal string in WinAnsiEncoding: ( ) \\ escaped, non-ASCII as octal escapes."""
    out = bytearray(b"(")
    for byte in text.encode("cp1252", errors="replace"):
        if byte in b"()\\":
            out += b"\\" + bytes([byte])
        elif 32 <= byte < 127:
            out.append(byte)
        else:
            out += b"\\%03o" % byte
    return bytes(out + b")")


def _text_string(text: str) -> bytes:
    """An Info-dictionary text string: UTF-16BE with a byte-order mark, as hex, so any name fits."""
    return b"<" + ("\ufeff" + text).encode("utf-16-be").hex().upper().encode("ascii") + b">"


def _pdf_date(moment: datetime) -> bytes:
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    offset = moment.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    zone = "Z" if minutes == 0 else f"{sign}{abs(minutes) // 60:02d}'{abs(minutes) % 60:02d}'"
    return b"(D:" + moment.strftime("%Y%m%d%H%M%S").encode("ascii") + zone.encode("ascii") + b")"


def _content_stream(text: str) -> bytes:
    lines: list[str] = []
    for raw in text.split("\n"):
        lines.extend(textwrap.wrap(raw, _WRAP) or [""])
    ops = [b"BT", b"/F1 11 Tf", b"%d TL" % _LEADING, b"72 740 Td"]
    for number, line in enumerate(lines):
        if number:
            ops.append(b"T*")
        if line:
            ops.append(_pdf_literal(line) + b" Tj")
    ops.append(b"ET")
    return b"\n".join(ops)


def make_pdf(
    pages: list[str],
    title: str | None = None,
    *,
    author: str | None = None,
    created: datetime | None = None,
    producer: str = "newsdesk tests",
) -> bytes:
    """A PDF with one text page per item of `pages`; Info /Title, /Author, /CreationDate when given."""
    first_page = 5
    objects: dict[int, bytes] = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        3: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    }
    info = [b"/Producer " + _text_string(producer)]
    if title is not None:
        info.append(b"/Title " + _text_string(title))
    if author is not None:
        info.append(b"/Author " + _text_string(author))
    if created is not None:
        info.append(b"/CreationDate " + _pdf_date(created))
    objects[4] = b"<< " + b" ".join(info) + b" >>"
    kids = []
    for index, text in enumerate(pages):
        page_id, content_id = first_page + 2 * index, first_page + 2 * index + 1
        kids.append(b"%d 0 R" % page_id)
        objects[page_id] = (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % content_id
        )
        stream = _content_stream(text)
        objects[content_id] = b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream"
    objects[2] = b"<< /Type /Pages /Kids [" + b" ".join(kids) + b"] /Count %d >>" % len(pages)

    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    size = max(objects) + 1
    offsets = [0] * size
    for number in range(1, size):
        offsets[number] = len(out)
        out += b"%d 0 obj\n" % number + objects[number] + b"\nendobj\n"
    xref_at = len(out)
    out += b"xref\n0 %d\n" % size + b"0000000000 65535 f \n"
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets[1:])
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 4 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, xref_at)
    return bytes(out)
