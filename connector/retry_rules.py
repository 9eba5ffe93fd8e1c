"""When a remote answer means "try again later", in one place for both APIs and their sign-in services.

Every client classifies its own responses (style.md item 4) but asks here whether a status is
transient and how long the server asked us to wait. The back-off loop itself is
connector.http.send_with_retries.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import httpx

from connector.http import parse_retry_after

TOO_MANY_REQUESTS = 429


def is_transient(status: int) -> bool:
    """429 (slow down) and every 5xx: the same request may well succeed later."""
    return status == TOO_MANY_REQUESTS or status >= 500


def is_throttled(status: int) -> bool:
    return status == TOO_MANY_REQUESTS


def retry_after(response: httpx.Response, clock: Callable[[], datetime]) -> float | None:
    """The seconds the server's Retry-After header asks for, or None when it names none."""
    return parse_retry_after(response.headers.get("Retry-After"), now=clock())


def throttle_wait(response: httpx.Response, clock: Callable[[], datetime], default: float) -> float:
    """How long to hold off after a throttle: the server's Retry-After, else ``default``."""
    wait = retry_after(response, clock)
    return default if wait is None else wait
