"""httpx transports that hand requests straight to the fakes: no sockets, same handlers as the server."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx

from .web import is_lost, is_streamed

if TYPE_CHECKING:
    from . import Sandbox


def _finish(request: httpx.Request, response: httpx.Response) -> httpx.Response:
    if is_lost(response):
        # The write is committed; the client only sees its read time out.
        raise httpx.ReadTimeout("sandbox: response lost after the write committed", request=request)
    if is_streamed(response):  # a file download: handed over unread, as a socket would deliver it
        return httpx.Response(response.status_code, headers=response.headers, stream=response.stream)
    return httpx.Response(response.status_code, headers=response.headers, content=response.content)


class SandboxTransport(httpx.BaseTransport):
    def __init__(self, sandbox: Sandbox) -> None:
        self._sandbox = sandbox

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if not _streams_body(request):
            request.read()
        return _finish(request, self._sandbox.handle(request))


class AsyncSandboxTransport(httpx.AsyncBaseTransport):
    """Runs the fake inline; latency knobs therefore block the event loop."""

    def __init__(self, sandbox: Sandbox) -> None:
        self._sandbox = sandbox

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        return _finish(request, self._sandbox.handle(request))


def _streams_body(request: httpx.Request) -> bool:
    # QBO's file upload reads its multipart body chunk by chunk (sandbox/qbo_upload.py), so a
    # test can measure that a 50 MB file never sits whole in memory on either side.
    return request.method == "POST" and request.url.path.rstrip("/").endswith("/upload")
