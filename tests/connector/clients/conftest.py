"""Fakes at the HTTP seam only: ordered response scripts behind ``httpx.MockTransport``."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from connector.http import build_client

Reply = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


class FakeServer:
    """Answers each (method, path) from its own queue, in order, and records every request.

    An exhausted queue is a test failure: it means the client made a call the test did not
    script (for example an extra retry).
    """

    def __init__(self) -> None:
        self.queues: dict[tuple[str, str], deque[Reply]] = {}
        self.requests: list[httpx.Request] = []

    def add(self, method: str, path: str, *replies: Reply) -> None:
        self.queues.setdefault((method, path), deque()).extend(replies)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        queue = self.queues.get((request.method, request.url.path))
        if not queue:
            raise AssertionError(f"unscripted request {request.method} {request.url}")
        reply = queue.popleft()
        if isinstance(reply, Exception):
            raise reply
        if callable(reply):
            return reply(request)
        return reply

    def to(self, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path == path]

    def http(self) -> httpx.Client:
        return build_client(transport=httpx.MockTransport(self.handle))


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: Any) -> None:
        self.now += timedelta(**kwargs)


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def fake() -> FakeServer:
    return FakeServer()


@pytest.fixture
def http(fake: FakeServer):
    with fake.http() as client:
        yield client


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 2, 12, 0, tzinfo=UTC))


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()
