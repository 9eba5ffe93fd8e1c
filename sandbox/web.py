"""Small helpers for building and reading httpx messages inside the fakes."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

import httpx

# A response carrying this extension was committed but must not reach the client
# (the transport raises ReadTimeout, the server answers 502).
LOST = "sandbox_lost"
# A response carrying this extension streams its body (file downloads): transports pass it through.
STREAMED = "sandbox_stream"


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def dumps(body: Any) -> bytes:
    return json.dumps(body, default=_default, ensure_ascii=False).encode()


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    hdrs = {"Content-Type": "application/json"}
    hdrs.update(headers or {})
    return httpx.Response(status, headers=hdrs, content=dumps(body))


def html_response(status: int, html: str, headers: dict[str, str] | None = None) -> httpx.Response:
    hdrs = {"Content-Type": "text/html; charset=utf-8"}
    hdrs.update(headers or {})
    return httpx.Response(status, headers=hdrs, content=html.encode())


def redirect(location: str) -> httpx.Response:
    return httpx.Response(302, headers={"Location": location}, content=b"")


def body_bytes(request: httpx.Request) -> bytes:
    try:
        return request.content
    except httpx.RequestNotRead:
        return request.read()


def read_json(request: httpx.Request) -> Any:
    """Parsed JSON body, or None when the body is empty or not JSON."""
    raw = body_bytes(request)
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


def read_form(request: httpx.Request) -> dict[str, str]:
    return dict(parse_qsl(body_bytes(request).decode(errors="replace"), keep_blank_values=True))


def bearer(request: httpx.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def mark_lost(response: httpx.Response) -> httpx.Response:
    response.extensions[LOST] = True
    return response


def is_lost(response: httpx.Response) -> bool:
    return bool(response.extensions.get(LOST))


def is_streamed(response: httpx.Response) -> bool:
    return bool(response.extensions.get(STREAMED))
