"""PHP's ``parse_str`` and ``http_build_query(..., PHP_QUERY_RFC3986)``, as Symfony reads and API Platform writes.

A query string becomes a tree of ordered dicts: ``updatedAt[after]=x`` -> ``{"updatedAt": {"after": "x"}}``,
``invoice[]=1&invoice[]=2`` -> ``{"invoice": {"0": "1", "1": "2"}}`` (PHP arrays keep their keys; ``[]``
appends the next integer key), a repeated plain key keeps the last value, ``+`` decodes to a space.
Links are rebuilt from that tree, so they keep every other parameter, re-encoded the PHP way:
``updatedAt%5Bafter%5D=2024-01-01T00%3A00%3A00%2B00%3A00``, ``invoice%5B0%5D=1``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from urllib.parse import quote, unquote_plus

__all__ = ["Params", "build_query", "php_int", "values_of"]

Params = dict[str, Any]  # str -> str | Params


def _note_index(nexts: dict[int, int], node: Params, name: str) -> None:
    """Remember the next free integer key of `node` (PHP: the highest integer key + 1)."""
    if name.isdigit() or (name[:1] == "-" and name[1:].isdigit()):
        nexts[id(node)] = max(nexts.get(id(node), 0), int(name) + 1)


def _split_key(key: str) -> tuple[str, list[str]]:
    """``a[b][]`` -> ("a", ["b", ""]); a key without brackets has no path."""
    start = key.find("[")
    if start <= 0:
        return key, []
    base, rest, path = key[:start], key[start:], []
    while rest.startswith("["):
        end = rest.find("]")
        if end < 0:
            break
        path.append(rest[1:end])
        rest = rest[end + 1:]
    return base, path


@lru_cache(maxsize=65_536)
def _decode(text: str) -> str:
    """``urldecode``: ``+`` is a space, ``%XX`` a byte (UTF-8)."""
    return unquote_plus(text) if "%" in text or "+" in text else text


def parse_str(raw_query: str) -> Params:
    """Parse a raw (percent-encoded) query string into PHP's nested array shape."""
    params: Params = {}
    nexts: dict[int, int] = {}  # id(node) -> next integer key for "[]"
    for part in raw_query.split("&"):
        if not part:
            continue
        raw_key, _, raw_value = part.partition("=")
        key, value = _decode(raw_key), _decode(raw_value)
        base, path = _split_key(key)
        if not base:
            continue
        if not path:
            params[base] = value
            continue
        node = params.get(base)
        if not isinstance(node, dict):
            node = params[base] = {}
        for i, segment in enumerate(path):
            name = segment if segment != "" else str(nexts.get(id(node), 0))
            _note_index(nexts, node, name)
            if i == len(path) - 1:
                node[name] = value
            else:
                child = node.get(name)
                if not isinstance(child, dict):
                    child = node[name] = {}
                node = child
    return params


def _pairs(prefix: str, value: Any) -> list[tuple[str, str]]:
    if isinstance(value, dict):
        out: list[tuple[str, str]] = []
        for key, child in value.items():
            out.extend(_pairs(f"{prefix}[{key}]", child))
        return out
    return [(prefix, str(value))]


@lru_cache(maxsize=65_536)
def _encode(text: str) -> str:
    """PHP's rawurlencode (RFC 3986: everything but letters, digits and ``-_.~``)."""
    return quote(text, safe="")


def build_query(params: Params) -> str:
    """``http_build_query`` with RFC 3986 encoding (``%20``, ``%5B``, ``%2F``), keys in their order."""
    pairs = [pair for key, value in params.items() for pair in _pairs(key, value)]
    return "&".join(f"{_encode(k)}={_encode(v)}" for k, v in pairs)


def php_int(value: Any, default: int) -> int:
    """PHP's ``(int)`` cast of a query value: a leading signed integer, else 0; an array counts as 1."""
    if value is None:
        return default
    if isinstance(value, dict):
        return 1 if value else 0
    text = str(value).lstrip(" \t\n\r\v\f")
    sign, digits = 1, ""
    if text and text[0] in "+-":
        sign, text = (-1 if text[0] == "-" else 1), text[1:]
    for ch in text:
        if not ch.isdigit() or not ch.isascii():
            break
        digits += ch
    return sign * int(digits) if digits else 0


def values_of(value: Any) -> list[str]:
    """A filter value as a list: a scalar is one value, an array gives its scalar members in order."""
    if value is None:
        return []
    if isinstance(value, dict):
        return [v for v in value.values() if isinstance(v, str)]
    return [str(value)]
