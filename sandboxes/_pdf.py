"""A small but valid one-page PDF 1.4 (Helvetica, WinAnsi font, correct xref offsets) for invoice links."""

from __future__ import annotations

__all__ = ["one_page_pdf"]


def _escape(value: str, encoding: str) -> str:
    safe = value.encode(encoding, "replace").decode(encoding)
    return safe.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def one_page_pdf(title: str, rows: list[str], encoding: str = "latin-1") -> bytes:
    """A PDF 1.4 document showing `title` large and up to 60 `rows` below it.

    Args:
        title: e.g. ``Factuur F20250001``.
        rows: further lines of text (client, dates, lines, totals).
        encoding: how the text is written into the content stream ("latin-1" or "cp1252"); characters
            outside it become ``?``.

    Returns:
        The document's bytes.
    """
    commands = [f"BT /F1 18 Tf 56 780 Td ({_escape(title, encoding)}) Tj ET"]
    for n, row in enumerate(rows[:60]):
        commands.append(f"BT /F1 10 Tf 56 {750 - 14 * n} Td ({_escape(row, encoding)}) Tj ET")
    stream = "\n".join(commands).encode(encoding, "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> "
        b"/Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)
