"""A small but valid one-page PDF of an invoice (Helvetica text, correct xref offsets)."""

from __future__ import annotations

__all__ = ["invoice_pdf"]


def _text(value: str) -> str:
    safe = value.encode("latin-1", "replace").decode("latin-1")
    return safe.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def invoice_pdf(title: str, rows: list[str]) -> bytes:
    """A PDF 1.4 document showing `title` large and `rows` below it.

    Args:
        title: e.g. ``Factuur F20250001``.
        rows: further lines of text (client, dates, lines, totals).
    """
    commands = [f"BT /F1 18 Tf 56 780 Td ({_text(title)}) Tj ET"]
    y = 750
    for row in rows[:60]:
        commands.append(f"BT /F1 10 Tf 56 {y} Td ({_text(row)}) Tj ET")
        y -= 14
    stream = "\n".join(commands).encode("latin-1")
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
    out += b"xref\n0 %d\n" % (len(objects) + 1)
    out += b"0000000000 65535 f \n"
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)
