"""QBO OAuth 2.0 authorization-code flow with plain httpx (quickbooks-online.md §1).

Not Authlib: it never refreshes on 401 and our refresh must run under the Django layer's row
lock (dependencies.md). These functions make exactly one call each and never retry: repeating
a refresh after an ambiguous failure can burn a rotated refresh token, so the caller decides.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx

from connector import retry_rules
from connector.errors import Permanent, ReauthRequired, Retryable
from connector.http import network_error, utcnow

SCOPE = "com.intuit.quickbooks.accounting"
INTUIT_URLS = {
    "authorize_url": "https://appcenter.intuit.com/connect/oauth2",
    "token_url": "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer",
    "revoke_url": "https://developer.api.intuit.com/v2/oauth2/tokens/revoke",
}
API_BASES = {
    "production": "https://quickbooks.api.intuit.com",
    "sandbox": "https://sandbox-quickbooks.api.intuit.com",
}


@dataclass(frozen=True)
class QBOOAuthConfig:
    client_id: str
    client_secret: str = field(repr=False)
    redirect_uri: str
    authorize_url: str
    token_url: str
    revoke_url: str
    api_base: str
    environment: str  # "sandbox" | "production"

    @classmethod
    def intuit(
        cls, client_id: str, client_secret: str, redirect_uri: str, environment: str
    ) -> QBOOAuthConfig:
        """Intuit's real endpoints; they are the same for sandbox and production apps (§1)."""
        return cls(
            client_id=client_id,
            client_secret=client_secret,
            redirect_uri=redirect_uri,
            api_base=API_BASES[environment],
            environment=environment,
            **INTUIT_URLS,
        )


@dataclass(frozen=True)
class TokenSet:
    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    access_expires_at: datetime
    refresh_expires_at: datetime | None


def authorization_url(config: QBOOAuthConfig, state: str) -> str:
    query = urlencode(
        {
            "client_id": config.client_id,
            "response_type": "code",  # the only type Intuit supports
            "scope": SCOPE,
            "redirect_uri": config.redirect_uri,
            "state": state,
        }
    )
    separator = "&" if "?" in config.authorize_url else "?"
    return f"{config.authorize_url}{separator}{query}"


def exchange_code(
    http: httpx.Client, config: QBOOAuthConfig, code: str, *, clock: Callable[[], datetime] = utcnow
) -> TokenSet:
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": config.redirect_uri}
    return _token_request(http, config, form, clock)


def refresh(
    http: httpx.Client, config: QBOOAuthConfig, refresh_token: str, *, clock: Callable[[], datetime] = utcnow
) -> TokenSet:
    """Refresh once. The result's refresh_token may be new: persist it before using the access token."""
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    return _token_request(http, config, form, clock)


def revoke(http: httpx.Client, config: QBOOAuthConfig, token: str) -> bool:
    """Disconnect the app from the company. False when Intuit says the token is already invalid."""
    try:
        response = http.post(
            config.revoke_url, json={"token": token}, headers=_ACCEPT, auth=_basic_auth(config)
        )
    except httpx.TransportError as exc:
        raise network_error(exc, "QuickBooks") from exc
    if response.status_code == 400:
        return False
    _raise_for_status(response, utcnow)
    return True


def _basic_auth(config: QBOOAuthConfig) -> httpx.BasicAuth:
    # httpx builds the header inside the request, so no plain "Basic …" string sits in a local that a
    # debug page or an error tracker would print (httpx.Headers and BasicAuth reprs mask it).
    return httpx.BasicAuth(config.client_id, config.client_secret)


_ACCEPT = {"Accept": "application/json"}


def _token_request(
    http: httpx.Client, config: QBOOAuthConfig, form: dict[str, str], clock: Callable[[], datetime]
) -> TokenSet:
    issued_at = clock()
    try:
        response = http.post(config.token_url, data=form, headers=_ACCEPT, auth=_basic_auth(config))
    except httpx.TransportError as exc:
        raise network_error(exc, "QuickBooks") from exc
    _raise_for_status(response, clock)
    return _parse_token_set(response, issued_at)


def _raise_for_status(response: httpx.Response, clock: Callable[[], datetime]) -> None:
    """Classify a token/revoke response (§1 token-endpoint errors)."""
    status = response.status_code
    if status < 400:
        return
    error, description = _oauth_error(response)
    if retry_rules.is_transient(status):
        raise Retryable(
            f"QuickBooks sign-in is unavailable (HTTP {status}). We will try again shortly.",
            retry_after=retry_rules.retry_after(response, clock),
            code="qbo_auth_unavailable",
            status=status,
        )
    if error == "invalid_grant":
        # Expired, revoked or rotated-away refresh token, or a reused code: not transient.
        raise ReauthRequired(
            "QuickBooks no longer accepts this connection's authorisation (it expired or was revoked). "
            "Reconnect QuickBooks on the Connections page.",
            code="invalid_grant",
            detail=description,
            status=status,
        )
    if error == "invalid_client" or status == 401:
        raise Permanent(
            "QuickBooks rejected this app's client ID or secret. The app's configuration needs fixing.",
            code=error or "invalid_client",
            detail=description,
            status=status,
        )
    raise Permanent(
        f"QuickBooks refused the token request (HTTP {status}, {error or 'no reason given'}).",
        code=error or "token_request_refused",
        detail=description,
        status=status,
    )


def _oauth_error(response: httpx.Response) -> tuple[str | None, str | None]:
    try:
        body: Any = response.json()
    except ValueError:
        return None, None
    if not isinstance(body, dict):
        return None, None
    error, description = body.get("error"), body.get("error_description")
    return (error if isinstance(error, str) else None), (
        description if isinstance(description, str) else None
    )


def _parse_token_set(response: httpx.Response, issued_at: datetime) -> TokenSet:
    try:
        body = response.json()
        access, refresh_token = body["access_token"], body["refresh_token"]
        expires_in = int(body.get("expires_in") or 3600)
        refresh_in = body.get("x_refresh_token_expires_in")
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise Permanent(
            "QuickBooks' token response could not be read (missing tokens).", code="malformed_token"
        ) from exc
    if not (isinstance(access, str) and access and isinstance(refresh_token, str) and refresh_token):
        raise Permanent("QuickBooks' token response had empty tokens.", code="malformed_token")
    # Expiries count from before the request so we err towards refreshing early.
    return TokenSet(
        access_token=access,
        refresh_token=refresh_token,
        access_expires_at=issued_at + timedelta(seconds=expires_in),
        refresh_expires_at=issued_at + timedelta(seconds=int(refresh_in)) if refresh_in else None,
    )
