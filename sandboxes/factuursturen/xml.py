"""Minimal XML output, the service's default when a request does not ask for JSON (shape invented)."""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape

from sandboxes.factuursturen.wire import strip_marks

__all__ = ["render"]

_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'


def render(root: str, value: Any, item: str = "item") -> bytes:
    """``<root>...</root>``: objects become child elements, lists repeat `item` elements, all text escaped.

    Args:
        root: the document element (``invoices``, ``invoice``, ...).
        value: the API-shaped value (the same dicts the JSON answer is built from).
        item: element name for members of a top-level list (``invoice``).
    """
    parts = [_HEAD]
    _emit(parts, root, value, item)
    return "".join(parts).encode("utf-8")


def _emit(parts: list[str], tag: str, value: Any, item: str) -> None:
    if isinstance(value, dict):
        parts.append(f"<{tag}>")
        for key, child in value.items():
            _emit(parts, str(key), child, "item")
        parts.append(f"</{tag}>")
    elif isinstance(value, list):
        if not value:
            parts.append(f"<{tag}/>")
            return
        parts.append(f"<{tag}>")
        for child in value:
            _emit(parts, item, child, "item")
        parts.append(f"</{tag}>")
    elif value is None:
        parts.append(f"<{tag}/>")
    else:
        parts.append(f"<{tag}>{escape(strip_marks(str(value)))}</{tag}>")
