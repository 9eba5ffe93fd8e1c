"""Serve the sandbox on a real port (demo, benchmarks, smoke tests) with the stdlib HTTP server."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, cast

import httpx

from .web import is_lost

if TYPE_CHECKING:
    from . import Sandbox

_SKIP = {"content-length", "transfer-encoding", "connection", "keep-alive"}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    sandbox: Sandbox
    verbose: bool = False


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def _serve(self) -> None:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            body = self._read_chunked()
        else:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
        host = self.headers.get("Host") or "{}:{}".format(*self.server.server_address[:2])
        headers = [(k, v) for k, v in self.headers.items() if k.lower() not in _SKIP]
        request = httpx.Request(self.command, f"http://{host}{self.path}", headers=headers, content=body)
        try:
            response = self.server.sandbox.handle(request)
        except Exception as exc:  # a fake bug must not kill the demo server
            response = httpx.Response(500, text=f"sandbox error: {exc!r}")
        response.read()  # a streamed download is sent whole here (demo server; the fakes stream in-process)
        if is_lost(response):
            response = httpx.Response(
                502, headers={"Content-Type": "text/html"}, text="<h1>502 Bad Gateway</h1>"
            )
        self.send_response(response.status_code)
        for key, value in response.headers.multi_items():
            if key.lower() not in _SKIP:
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(response.content)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.content)

    def _read_chunked(self) -> bytes:
        parts: list[bytes] = []
        while True:
            size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(parts)
            parts.append(self.rfile.read(size))
            self.rfile.readline()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve

    def log_message(self, format: str, *args: object) -> None:
        if self.server.verbose:
            super().log_message(format, *args)


@dataclass
class ServerHandle:
    url: str
    _server: _Server
    _thread: threading.Thread

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def serve_forever(self) -> None:
        self._thread.join()


def serve(sandbox: Sandbox, host: str = "127.0.0.1", port: int = 0, verbose: bool = False) -> ServerHandle:
    server = _Server((host, port), _Handler)
    server.sandbox, server.verbose = sandbox, verbose
    thread = threading.Thread(target=server.serve_forever, name="sandbox-server", daemon=True)
    thread.start()
    bound_host, bound_port = cast("tuple[str, int]", server.server_address[:2])  # TCP: (host, port)
    return ServerHandle(f"http://{bound_host}:{bound_port}", server, thread)
