"""A small hostile server: a proxy in front of the hydra sandbox that turns marked strings into raw JSON numbers.

The sandbox writes the wire with Python's json, which cannot write a number such as ``1e999`` (it reads back as
infinity, and writes ``Infinity``). A real service can. A value corrupted to ``"@raw:1e999"`` at the sandbox leaves
this proxy as the bare number ``1e999``; everything else passes unchanged, headers included.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

__all__ = ["RawNumberProxy"]

_HOP = {"content-length", "transfer-encoding", "connection", "content-encoding"}


class RawNumberProxy:
    """Serve on loopback, forwarding to `origin`; ``"@raw:<text>"`` in an answer becomes the bare ``<text>``."""

    def __init__(self, origin: str) -> None:
        """Args: origin: the sandbox's scheme://host:port."""
        upstream = httpx.Client(base_url=origin, timeout=30)

        class Handler(BaseHTTPRequestHandler):
            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP | {"host"}}
                answer = upstream.request(self.command, self.path, content=body, headers=headers)
                content = answer.content.replace(b'"@raw:', b"\x00").split(b"\x00")
                out = content[0] + b"".join(part.replace(b'"', b"", 1) for part in content[1:])
                self.send_response(answer.status_code)
                for key, value in answer.headers.items():
                    if key.lower() not in _HOP:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _forward

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._upstream = upstream
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()
        self._upstream.close()
