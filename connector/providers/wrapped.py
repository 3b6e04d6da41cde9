"""Cut a wrapped record's own source text out of a single-record answer (``{"invoice": {...}}``)."""

from __future__ import annotations

import json
import re

__all__ = ["inner_text"]


def inner_text(content: bytes, key: str) -> str | None:
    """The exact text of the object under `key` in a body that is only ``{"<key>": <object>}``, else None.

    A listing gives each record's own bytes; cutting the same bytes out of a single GET makes the payload
    hash of a record read by id equal the listed one's, so reading it again by id writes nothing new.
    """
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return None
    opening = re.match(r'\s*\{\s*"' + re.escape(key) + r'"\s*:\s*', text)
    if opening is None:
        return None
    try:
        _, end = json.JSONDecoder().raw_decode(text, opening.end())
    except ValueError:
        return None
    return text[opening.end() : end] if text[end:].strip() == "}" else None
