"""Read a response body with a bound on its DECODED size, decoding gzip and deflate in bounded steps.

httpx inflates a compressed chunk whole (a 64 KiB gzip chunk may become 64 MiB) and keeps whatever comes,
so a small "zip bomb" could fill the process's memory. Here the raw bytes are read as they arrive and
inflated with zlib's ``max_length`` a megabyte at a time, and the read stops (raising `BodyTooLarge`) the
moment the decoded body passes the allowance: never a truncated body that parses, never more than the
allowance and one step in memory.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

import httpx

__all__ = ["ACCEPT_ENCODING", "BodyTooLarge", "UnreadableBody", "read_bounded"]

ACCEPT_ENCODING = "gzip, deflate"
"""What the session asks for: exactly the encodings `read_bounded` decodes."""


class UnreadableBody(ValueError):
    """The body cannot be decoded (an unknown content encoding, corrupt compressed data)."""


class BodyTooLarge(UnreadableBody):
    """The decoded body is larger than the allowance."""


class _Inflater:
    """zlib decompression (gzip, or deflate with or without the zlib header) in steps of at most `STEP`."""

    STEP = 1024 * 1024  # one 64 KiB read of a bomb would otherwise inflate to 64 MiB in one buffer

    def __init__(self, encoding: str) -> None:
        self._gzip = encoding in ("gzip", "x-gzip")
        self._z = zlib.decompressobj(zlib.MAX_WBITS | 16 if self._gzip else zlib.MAX_WBITS)
        self._started = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        """Inflate `data`, a step at a time (the caller stops pulling once it has had enough)."""
        if not self._started:
            self._started = True
            try:
                first = self._z.decompress(data, self.STEP)
            except zlib.error:
                if self._gzip:
                    raise
                # "deflate" is often sent raw (no zlib header), as httpx and browsers accept.
                self._z = zlib.decompressobj(-zlib.MAX_WBITS)
                first = self._z.decompress(data, self.STEP)
            yield first
            data = self._z.unconsumed_tail
        while data:
            yield self._z.decompress(data, self.STEP)
            data = self._z.unconsumed_tail

    def finish(self) -> Iterator[bytes]:
        """What is still inside zlib once the input ended, a step at a time."""
        while self._started and not self._z.eof:
            out = self._z.decompress(b"", self.STEP)
            if not out:
                break
            yield out
        if self._started:
            yield self._z.flush()


def _decoder(response: httpx.Response) -> _Inflater | None:
    """The inflater the response's Content-Encoding asks for; None for an identity body."""
    codings = [c.strip().lower() for c in response.headers.get("content-encoding", "").split(",")]
    codings = [c for c in codings if c and c != "identity"]
    if not codings:
        return None
    if len(codings) == 1 and codings[0] in ("gzip", "x-gzip", "deflate"):
        return _Inflater(codings[0])
    raise UnreadableBody(f"unsupported Content-Encoding {', '.join(codings)!r} (asked for {ACCEPT_ENCODING})")


def _too_large(limit: int) -> BodyTooLarge:
    return BodyTooLarge(f"body larger than the limit of {limit:,} bytes (max_body_mib); not read further")


def read_bounded(response: httpx.Response, limit: int) -> bytes:
    """Read a streamed response's body whole, decoded, refusing one that would be larger than `limit` bytes.

    The response is left unread and closed by the caller. Raw bytes are bounded by `limit` too (a
    compressed body is never larger than its content, save a few header bytes on tiny bodies).

    Args:
        response: a response sent with ``stream=True``, not read yet.
        limit: the largest decoded body accepted, in bytes.

    Returns:
        The decoded body.

    Raises:
        BodyTooLarge: the decoded (or raw) body passes `limit`; reading stopped there.
        UnreadableBody: an unsupported content encoding, or corrupt compressed data.
        httpx.TransportError: the connection failed or timed out mid-body.
    """
    if response.is_stream_consumed:  # built in memory (httpx.MockTransport): already read and decoded
        if len(response.content) > limit:
            raise _too_large(limit)
        return response.content
    inflater = _decoder(response)
    chunks: list[bytes] = []
    size = raw = 0

    def keep(data: bytes) -> None:
        nonlocal size
        size += len(data)
        if size > limit:
            raise _too_large(limit)
        chunks.append(data)

    try:
        for data in response.iter_raw():
            raw += len(data)
            if raw > limit:
                raise _too_large(limit)
            if inflater is None:
                keep(data)
            else:
                for step in inflater.feed(data):
                    keep(step)
        if inflater is not None:
            for step in inflater.finish():
                keep(step)
    except zlib.error as exc:
        raise UnreadableBody(f"corrupt {response.headers['content-encoding']} body: {exc}") from None
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)
