"""Scrub credentials from text before it reaches an exception, a log line or a metric."""

from __future__ import annotations

import base64
import binascii
import logging
import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

__all__ = ["MASK", "RedactingFilter", "excerpt", "redact"]

MASK = "***"

# Header or parameter names whose value is a credential wherever it appears (headers, dict reprs, queries).
_SECRET_NAMES = (
    r"authorization|proxy-authorization|x-api-key|api[-_]?key|apikey|x-auth-token|access[-_]token|"
    r"refresh[-_]token|client[-_]secret|password|passwd|secret|token|signature"
)
_NAMED_VALUE = re.compile(
    rf"(?i)(?P<name>\b(?:{_SECRET_NAMES})\b)(?P<sep>[\"']?\s*[:=]\s*[\"']?)"
    r"(?P<scheme>(?:basic|bearer|token|digest)\s+)?(?P<value>[^\s\"',;&}\]]+)"
)
_URL_USERINFO = re.compile(r"(?i)\b(?P<scheme>[a-z][a-z0-9+.-]*://)[^/\s@:]*(?::[^/\s@]*)?@")
_AUTH_TOKEN = re.compile(r"(?i)\b(?P<scheme>basic|bearer)\s+(?P<value>[A-Za-z0-9+/=._~-]{6,})")
_BASE64ISH = re.compile(r"[A-Za-z0-9+/]{8,}={0,2}")


def _variants(secret: str) -> set[str]:
    """Forms a secret takes on the wire: itself, URL-encoded, and base64 of itself."""
    forms = {secret, quote(secret, safe=""), quote_plus(secret)}
    forms.add(base64.b64encode(secret.encode()).decode().rstrip("="))
    return {f for f in forms if f}


def _scrub_base64(text: str, secrets: list[str]) -> str:
    """Mask base64 tokens that decode to text containing a secret (a Basic "user:secret" pair)."""

    def check(match: re.Match[str]) -> str:
        token = match.group(0)
        try:
            raw = base64.b64decode(token + "=" * (-len(token) % 4), validate=True)
            decoded = raw.decode("utf-8", "replace")
        except (binascii.Error, ValueError):
            return token
        return MASK if any(s in decoded for s in secrets) else token

    return _BASE64ISH.sub(check, text)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Return `text` with credentials replaced by ``***``.

    Scrubs each literal secret (also URL-encoded, base64-encoded, and inside a base64 Basic
    ``user:secret`` pair), the user-info part of URLs, every ``Basic``/``Bearer`` token, and the values of
    credential-like headers or parameters (``Authorization``, ``X-Api-Key``, ``api_key=``, ``token=``...).

    Args:
        text: any text that may have come from the wire or from a request.
        secrets: literal secret values known to the caller (API keys, passwords).

    Returns:
        The scrubbed text.
    """
    if not text:
        return text
    known = sorted({s for s in secrets if s}, key=len, reverse=True)
    if known:
        text = _scrub_base64(text, known)
        for form in sorted({f for s in known for f in _variants(s)}, key=len, reverse=True):
            text = text.replace(form, MASK)
    text = _URL_USERINFO.sub(lambda m: f"{m.group('scheme')}{MASK}@", text)
    text = _AUTH_TOKEN.sub(lambda m: f"{m.group('scheme')} {MASK}", text)
    return _NAMED_VALUE.sub(lambda m: f"{m['name']}{m['sep']}{m['scheme'] or ''}{MASK}", text)


_TAG = re.compile(r"<[^>]{0,200}>")
_SPACE = re.compile(r"\s+")
_MAX_SCAN = 20_000


def excerpt(text: str, secrets: Iterable[str] = (), limit: int = 200) -> str:
    """Return a short, redacted, single-line excerpt of a body for an error message.

    Markup tags are dropped (an HTML error page becomes its text); the text is redacted *before* it is
    cut, so a secret can never survive half-cut at the end.

    Args:
        text: the body as text.
        secrets: literal secret values to scrub.
        limit: maximum length of the result, in characters.

    Returns:
        The excerpt, ending in an ellipsis when it was cut.
    """
    if len(text) > _MAX_SCAN:  # never regex a huge body; drop the cut word so no half secret survives
        head = text[:_MAX_SCAN].rsplit(None, 1)
        text = head[0] if len(head) > 1 else ""
    flat = _TAG.sub(" ", text) if text.lstrip().startswith("<") else text
    flat = _SPACE.sub(" ", redact(flat, secrets)).strip()
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


class RedactingFilter(logging.Filter):
    """A logging filter that renders each record's message and traceback, then redacts them.

    Attach it to handlers (or to the ``connector.http`` logger); it never drops a record.
    """

    def __init__(self, secrets: Iterable[str] = (), name: str = "") -> None:
        """Start with the given secrets.

        Args:
            secrets: literal secret values to scrub, in addition to the generic credential patterns.
            name: passed to `logging.Filter`.
        """
        super().__init__(name)
        self.secrets: set[str] = {s for s in secrets if s}

    def add(self, secret: str) -> None:
        """Register one more secret value."""
        if secret:
            self.secrets.add(secret)

    def filter(self, record: logging.LogRecord) -> bool:
        """Replace the record's message (args merged in) and traceback text with redacted renderings."""
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed %-format must not hide the (scrubbed) text
            message = f"{record.msg} {record.args}"
        record.msg = redact(message, self.secrets)
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info), self.secrets)
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        return True
