"""Procurify client-credentials tokens (procurify.md §1).

No refresh tokens exist: a new 24-hour token is requested with the same id/secret. The token
store is a Protocol so the Django layer can persist it encrypted.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

import httpx

from connector import retry_rules
from connector.errors import Permanent, Retryable
from connector.http import network_error, utcnow

AUDIENCE = "https://api.procurify.com/"  # trailing slash matters (procurify.md §1)
DEFAULT_EXPIRES_IN = 86400


@dataclass(frozen=True)
class AccessToken:
    value: str = field(repr=False)
    expires_at: datetime

    def expires_within(self, margin: timedelta, now: datetime) -> bool:
        return self.expires_at - margin <= now


class TokenStore(Protocol):
    def load(self) -> AccessToken | None: ...

    def save(self, token: AccessToken) -> None: ...


class MemoryTokenStore:
    """A TokenStore for tests and scripts; also counts saves so tests can see renewals."""

    def __init__(self, token: AccessToken | None = None) -> None:
        self.token = token
        self.saves = 0

    def load(self) -> AccessToken | None:
        return self.token

    def save(self, token: AccessToken) -> None:
        self.token = token
        self.saves += 1


class BadCredentials(Permanent):
    """Procurify refused the client id/secret (401/403 from the token endpoint)."""


def default_token_url(site_url: str) -> str:
    # Current docs name the per-domain URL; older code used login.procurify.com, so callers may
    # override it (procurify.md §1, "Is it Auth0?").
    return site_url.rstrip("/") + "/oauth/token"


def fetch_token(
    http: httpx.Client,
    token_url: str,
    client_id: str,
    client_secret: str,
    *,
    clock: Callable[[], datetime] = utcnow,
) -> AccessToken:
    """POST the JSON client-credentials body and return the token with its absolute expiry."""
    body = {
        "client_id": client_id,
        "client_secret": client_secret,
        "audience": AUDIENCE,
        "grant_type": "client_credentials",
    }
    issued_at = clock()
    try:
        response = http.post(token_url, json=body, headers={"Accept": "application/json"})
    except httpx.TransportError as exc:
        raise network_error(exc, "Procurify") from exc
    _raise_for_token_status(response, clock)
    return _parse_token(response, issued_at)


# OAuth 2 error codes (RFC 6749 §5.2) we pass on as ``code``; anything else a server says is not
# repeated: the address might not be Procurify at all, and its reply must not reach a page or a log.
_OAUTH_ERRORS = frozenset(
    {
        "invalid_request",
        "invalid_client",
        "invalid_grant",
        "unauthorized_client",
        "unsupported_grant_type",
        "invalid_scope",
        "access_denied",
    }
)


def _raise_for_token_status(response: httpx.Response, clock: Callable[[], datetime]) -> None:
    status = response.status_code
    if 300 <= status < 400:
        # Never followed (build_client sets follow_redirects=False): the secret stays where we sent it.
        raise Permanent(
            f"Procurify's token address answered with a redirect (HTTP {status}), which is not followed.",
            code="redirect_refused",
            status=status,
        )
    if status in (401, 403):
        raise BadCredentials(
            "Procurify did not accept the client ID and secret. Check them in Procurify under Settings → "
            "Integrations → Procurify API, and that the user who created them is still active.",
            code=_oauth_error(response) or "bad_credentials",
            status=status,
        )
    if retry_rules.is_transient(status):
        raise Retryable(
            f"Procurify's sign-in service is unavailable (HTTP {status}). We will try again shortly.",
            retry_after=retry_rules.retry_after(response, clock),
            code="procurify_unavailable",
            status=status,
        )
    if status >= 400:
        error = _oauth_error(response)
        raise Permanent(
            f"Procurify refused the token request (HTTP {status}{', ' + error if error else ''}).",
            code=error or "token_request_refused",
            status=status,
        )


def _oauth_error(response: httpx.Response) -> str | None:
    """The standard OAuth error code of the body, or None (free text is never passed on)."""
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        return None
    return error if isinstance(error, str) and error in _OAUTH_ERRORS else None


def _parse_token(response: httpx.Response, issued_at: datetime) -> AccessToken:
    try:
        payload = response.json()
        value = payload["access_token"]
        expires_in = int(payload.get("expires_in") or DEFAULT_EXPIRES_IN)
    except (ValueError, KeyError, TypeError, AttributeError, json.JSONDecodeError) as exc:
        raise Permanent(
            "Procurify's token response could not be read (no access_token).", code="malformed_token"
        ) from exc
    if not isinstance(value, str) or not value:
        raise Permanent("Procurify's token response had an empty access_token.", code="malformed_token")
    # Measure from before the request so clock skew makes us renew early, never late.
    return AccessToken(value=value, expires_at=issued_at + timedelta(seconds=expires_in))
