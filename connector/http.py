"""The one HTTP seam (style.md item 2): every httpx client is built here, and every retry loop runs here.

Tests point clients at fakes by passing an httpx transport to ``build_client``; nothing else
in the clients knows how requests leave the process.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar

import httpx

from config.secret_names import QUERY_SECRET_KEYS, SECRET_HEADERS
from connector.errors import Retryable
from connector.netguard import Policy, guarded_transport

logger = logging.getLogger("connector.http")

USER_AGENT = "ml-connector/0.1"
# QBO kills requests after 120 s (quickbooks-online.md §2); a read longer than 60 s is almost
# always a stuck connection, and batches of 30 have hit shorter client timeouts (§7).
DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=60.0, write=30.0, pool=10.0)

REDACTED = "[redacted]"
_SECRET_HEADERS = SECRET_HEADERS
_SECRET_PARAMS = QUERY_SECRET_KEYS

T = TypeVar("T")


def utcnow() -> datetime:
    return datetime.now(UTC)


def build_client(
    *,
    base_url: str = "",
    transport: httpx.BaseTransport | None = None,
    timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
    user_agent: str = USER_AGENT,
    guard: Policy | None = None,
) -> httpx.Client:
    """An httpx client with our timeouts, UA and secret-redacting log hooks.

    ``guard``: the SSRF policy for tenant-typed addresses (connector.netguard). Every request is
    checked before it reaches ``transport``; without a ``transport`` the real network is reached
    only through a pinned transport that connects to the addresses it verified.
    """
    if guard is not None:
        transport = guarded_transport(transport, guard)
    return httpx.Client(
        base_url=base_url,
        transport=transport,
        timeout=timeout,
        headers={"User-Agent": user_agent},
        follow_redirects=False,  # a redirect would carry the bearer token somewhere we did not choose
        event_hooks={"request": [_log_request], "response": [_log_response]},
    )


def redact_url(url: httpx.URL | str) -> str:
    """The URL with secret query values (code, tokens, client_secret) replaced."""
    url = httpx.URL(url)
    if not url.query:
        return str(url)
    params = [(k, REDACTED if k.lower() in _SECRET_PARAMS else v) for k, v in url.params.multi_items()]
    return str(url.copy_with(params=params))


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {k: (REDACTED if k.lower() in _SECRET_HEADERS else v) for k, v in headers.items()}


def _log_request(request: httpx.Request) -> None:
    # Bodies are never logged: token requests carry client secrets and codes, token responses
    # carry tokens, and API bodies carry customer data.
    logger.debug(
        "http request %s %s headers=%s",
        request.method,
        redact_url(request.url),
        redact_headers(request.headers),
    )


def _log_response(response: httpx.Response) -> None:
    request = response.request
    # intuit_tid is the id Intuit support asks for (quickbooks-online.md §2).
    logger.info(
        "http response %s %s -> %s intuit_tid=%s",
        request.method,
        redact_url(request.url),
        response.status_code,
        response.headers.get("intuit_tid", "-"),
    )


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP-date), or None."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or utcnow())).total_seconds())


def network_error(exc: httpx.TransportError, service: str) -> Retryable:
    """Translate an httpx transport failure into a Retryable with a sentence for the UI."""
    host = exc.request.url.host if _has_request(exc) else "the server"
    if isinstance(exc, httpx.TimeoutException):
        message = f"{service} at {host} did not answer in time."
    else:
        message = f"Could not reach {service} at {host}. Check the address and try again later."
    return Retryable(message, code="network", detail=type(exc).__name__)


def _has_request(exc: httpx.TransportError) -> bool:
    try:
        exc.request  # noqa: B018 - httpx raises RuntimeError when no request is attached
    except RuntimeError:
        return False
    return True


def backoff_delay(attempt: int, *, base: float, cap: float, rand: Callable[[], float]) -> float:
    """Full-jitter exponential backoff for attempt 1, 2, … (AWS architecture blog's "full jitter")."""
    return rand() * min(cap, base * (2 ** (attempt - 1)))


def send_with_retries(
    client: httpx.Client,
    request_fn: Callable[[httpx.Client], T],
    *,
    max_attempts: int = 4,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    base_delay: float = 1.0,
    max_delay: float = 60.0,
    max_total_wait: float = 300.0,
    rand: Callable[[], float] = random.random,
    service: str = "the remote service",
) -> T:
    """Call ``request_fn(client)`` until it returns, retrying ``Retryable`` and transport errors.

    ``request_fn`` classifies its own responses (raising Retryable for 429/5xx). A server's
    Retry-After is honoured plus up to 10% jitter; when it asks for longer than ``max_delay``,
    or the total wait would pass ``max_total_wait``, the Retryable is raised at once so the
    caller (a Celery task) can reschedule instead of blocking a worker.
    """
    started = clock()
    for attempt in range(1, max_attempts + 1):
        try:
            return request_fn(client)
        except httpx.TransportError as exc:
            error = network_error(exc, service)
            error.__cause__ = exc
        except Retryable as exc:
            error = exc
        delay = _next_delay(error, attempt, base_delay=base_delay, max_delay=max_delay, rand=rand)
        if attempt == max_attempts or delay is None or clock() - started + delay > max_total_wait:
            raise error
        logger.warning("retrying in %.1fs after attempt %d/%d: %s", delay, attempt, max_attempts, error)
        sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


def _next_delay(
    error: Retryable, attempt: int, *, base_delay: float, max_delay: float, rand: Callable[[], float]
) -> float | None:
    if error.retry_after is not None:
        if error.retry_after > max_delay:
            return None
        return error.retry_after + error.retry_after * 0.1 * rand()
    return backoff_delay(attempt, base=base_delay, cap=max_delay, rand=rand)
