"""The one seam every API client is reached through: transport, clock and pause (style.md item 2).

``use_transport(sb.transport())`` routes every client built for an organisation through an
in-process httpx transport (tests, the demo); its optional ``clock`` lets token-expiry maths follow
the sandbox's clock and its ``sleep`` skips real back-off waits. Nothing here knows about clients
or tokens, so the token lifecycle (connector/qbo_tokens.py), the client factory
(connector/clients.py) and the engine all sit above it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import httpx
from django.utils import timezone

from connector import netguard
from connector.http import DEFAULT_TIMEOUT, build_client

# Interactive checks ("Test connection") must answer while the person waits: no retry loop,
# a short timeout. The sync engine keeps the client defaults.
INTERACTIVE_TIMEOUT = httpx.Timeout(connect=5.0, read=15.0, write=10.0, pool=5.0)


@dataclass
class _Seam:
    transport: httpx.BaseTransport | None = None
    clock: Callable[[], datetime] | None = None
    sleep: Callable[[float], None] | None = None  # tests skip real back-off waits


_seam = _Seam()
_seam_lock = threading.Lock()


def set_transport(
    transport: httpx.BaseTransport | None,
    *,
    clock: Callable[[], datetime] | None = None,
    sleep: Callable[[float], None] | None = None,
) -> None:
    """Route every client built here through ``transport`` (None: the real network)."""
    with _seam_lock:
        _seam.transport = transport
        _seam.clock = clock
        _seam.sleep = sleep


@contextmanager
def use_transport(
    transport: httpx.BaseTransport,
    *,
    clock: Callable[[], datetime] | None = None,
    sleep: Callable[[float], None] | None = None,
) -> Iterator[httpx.BaseTransport]:
    previous = (_seam.transport, _seam.clock, _seam.sleep)
    set_transport(transport, clock=clock, sleep=sleep)
    try:
        yield transport
    finally:
        set_transport(previous[0], clock=previous[1], sleep=previous[2])


def now() -> datetime:
    """The time token expiries are judged by: the seam's clock in tests, else Django's."""
    return _seam.clock() if _seam.clock is not None else timezone.now()


def pause() -> Callable[[float], None]:
    """How back-off and throttle waits sleep: the seam's ``sleep`` in tests, else time.sleep."""
    return _seam.sleep or time.sleep


def http_client(*, interactive: bool = False, procurify: bool = False) -> httpx.Client:
    """An httpx client from the one HTTP seam; callers close it (use it as a context manager).

    ``procurify``: the address is tenant-typed, so the SSRF guard (connector.netguard) applies.
    """
    timeout = INTERACTIVE_TIMEOUT if interactive else DEFAULT_TIMEOUT
    guard = netguard.Policy.from_settings() if procurify else None
    return build_client(transport=_seam.transport, timeout=timeout, guard=guard)
