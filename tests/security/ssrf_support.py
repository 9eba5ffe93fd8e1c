"""Fakes for the SSRF tests: a scripted resolver, a request-recording httpx transport, and a fake socket
layer under the real httpx → httpcore → PinnedBackend stack that records connects, TLS names and bytes."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import httpcore
import httpx

PUBLIC_IP = "93.184.216.34"  # a global unicast address (example.com's), never contacted: sockets are fake
PUBLIC_IP6 = "2606:2800:220:1:248:1893:25c8:1946"


@dataclass
class FakeResolver:
    """``answers[host]`` is a list of addresses, or a list of such lists (one per lookup: rebinding)."""

    answers: dict[str, Any] = field(default_factory=dict)
    lookups: list[str] = field(default_factory=list)

    def __call__(self, host: str, port: int) -> list[str]:
        self.lookups.append(host)
        answer = self.answers.get(host)
        if answer is None:
            raise OSError(f"[Errno -2] Name or service not known: {host}")
        if answer and isinstance(answer[0], list):
            index = min(sum(1 for h in self.lookups if h == host) - 1, len(answer) - 1)
            return list(answer[index])
        return list(answer)


class RecordingTransport(httpx.BaseTransport):
    """Stands where the network would be; answers like Procurify and remembers every request."""

    def __init__(self, respond: Callable[[httpx.Request], httpx.Response] | None = None) -> None:
        self.requests: list[httpx.Request] = []
        self.respond = respond or procurify_like

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        return self.respond(request)

    def sent(self) -> str:
        return "\n".join(
            f"{r.method} {r.url} {dict(r.headers)} {r.content.decode(errors='replace')}"
            for r in self.requests
        )


def procurify_like(request: httpx.Request) -> httpx.Response:
    if request.url.path.endswith("/oauth/token"):
        return httpx.Response(
            200, json={"access_token": "tok-abc", "expires_in": 86400, "token_type": "Bearer"}
        )
    return httpx.Response(200, json={"data": [], "metadata": {"pagination": {"count": 0, "next": None}}})


# ---- a fake socket layer under PinnedBackend --------------------------------------------------------


class FakeSocket(httpcore.NetworkStream):
    def __init__(self, net: FakeNetwork, address: str) -> None:
        self.net, self.address = net, address
        self.incoming = b""
        self.pending = b""

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.net.sent.append(buffer)
        self.incoming += buffer

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        if not self.pending and self.incoming:
            self.pending, self.incoming = self.net.answer(self.incoming), b""
        chunk, self.pending = self.pending[:max_bytes], self.pending[max_bytes:]
        return chunk

    def close(self) -> None:
        pass

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> Any:
        self.net.tls_names.append(server_hostname)
        return self

    def get_extra_info(self, info: str) -> Any:
        return None


@dataclass
class FakeNetwork(httpcore.NetworkBackend):
    """Records every TCP connect (address, port), TLS server name and byte sent; answers like Procurify
    unless ``responses`` (path suffix → raw HTTP response bytes) says otherwise."""

    connects: list[tuple[str, int]] = field(default_factory=list)
    tls_names: list[str | None] = field(default_factory=list)
    sent: list[bytes] = field(default_factory=list)
    responses: dict[str, bytes] = field(default_factory=dict)

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        self.connects.append((host, port))
        return FakeSocket(self, host)

    def connect_unix_socket(self, path: str, timeout: float | None = None, socket_options: Any = None) -> Any:
        raise AssertionError("no unix sockets")

    def sleep(self, seconds: float) -> None:
        pass

    def answer(self, request: bytes) -> bytes:
        path = request.split(b" ", 2)[1].decode().split("?")[0]
        for suffix, raw in self.responses.items():
            if path.endswith(suffix):
                return raw
        if path.endswith("/oauth/token"):
            return http_response(200, {"access_token": "tok-abc", "expires_in": 86400})
        return http_response(200, {"data": [], "metadata": {"pagination": {"count": 0, "next": None}}})

    def all_sent(self) -> str:
        return b"".join(self.sent).decode(errors="replace")


def http_response(status: int, body: Any, headers: dict[str, str] | None = None) -> bytes:
    content = json.dumps(body).encode()
    lines = [f"HTTP/1.1 {status} X", "Content-Type: application/json", f"Content-Length: {len(content)}"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + content
