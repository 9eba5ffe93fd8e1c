"""QBO's OAuth 2.0 authorization-code flow with rotating refresh tokens (reference §1)."""

from __future__ import annotations

import base64
import html
import secrets
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import httpx

from .clock import FakeClock
from .web import body_bytes, html_response, json_response, read_form, read_json, redirect

ACCESS_SECONDS = 3600
REFRESH_SECONDS = 8726400  # ~101 days, the value Intuit's samples show
CODE_SECONDS = 300  # code lifetime is unverified; treat as single-use minutes
SCOPE = "com.intuit.quickbooks.accounting"


@dataclass
class Grant:
    """One connection (app x realm): the current refresh token and every access token it minted."""

    realm_id: str
    refresh_token: str
    refresh_expires: datetime
    access: dict[str, datetime] = field(default_factory=dict)
    revoked: bool = False


@dataclass
class Code:
    client_id: str
    redirect_uri: str
    realm_id: str
    expires: datetime


class QBOAuth:
    def __init__(self, clock: FakeClock, client_id: str, client_secret: str) -> None:
        self.clock, self.client_id, self.client_secret = clock, client_id, client_secret
        self.realm_names: dict[str, str] = {}
        self._lock = threading.RLock()
        self._codes: dict[str, Code] = {}
        self._grants: list[Grant] = []
        self._by_refresh: dict[str, Grant] = {}  # includes superseded tokens, so they fail loudly
        self._by_access: dict[str, Grant] = {}

    # --- authorize page -------------------------------------------------------------------------
    def authorize(self, request: httpx.Request) -> httpx.Response:
        params = dict(request.url.params) if request.method == "GET" else read_form(request)
        problem = self._bad_authorize(params)
        if problem:
            return html_response(400, f"<h1>Invalid request</h1><p>{html.escape(problem)}</p>")
        if request.method == "GET":
            return html_response(200, self._page(params))
        state = params.get("state", "")
        if params.get("decision") != "approve":
            return redirect(_with_query(params["redirect_uri"], {"error": "access_denied", "state": state}))
        realm_id = params.get("realm_id", "")
        if realm_id not in self.realm_names:
            return html_response(400, "<h1>Choose a company</h1>")
        return redirect(self.approve(params["client_id"], params["redirect_uri"], state, realm_id))

    def _bad_authorize(self, params: dict[str, str]) -> str | None:
        if params.get("client_id") != self.client_id:
            return "Unknown client_id."
        if params.get("response_type", "code") != "code":
            return "Only response_type=code is supported."
        if not params.get("redirect_uri"):
            return "redirect_uri is required."
        if SCOPE not in params.get("scope", SCOPE).split():
            return f"scope must include {SCOPE}."
        return None

    def _page(self, params: dict[str, str]) -> str:
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
            for k, v in params.items()
            if k in ("client_id", "redirect_uri", "state", "scope", "response_type")
        )
        options = "".join(
            f'<option value="{html.escape(r)}">{html.escape(n)} ({html.escape(r)})</option>'
            for r, n in self.realm_names.items()
        )
        return (
            "<!doctype html><title>Intuit sandbox - connect</title>"
            "<h1>Connect to QuickBooks (sandbox)</h1>"
            f'<form method="post">{hidden}<label>Company <select name="realm_id">{options}</select></label>'
            '<button name="decision" value="approve" id="approve">Connect</button>'
            '<button name="decision" value="deny" id="deny">Cancel</button></form>'
        )

    def approve(self, client_id: str, redirect_uri: str, state: str, realm_id: str) -> str:
        code = "AB" + secrets.token_urlsafe(24)
        with self._lock:
            expires = self.clock.now() + timedelta(seconds=CODE_SECONDS)
            self._codes[code] = Code(client_id, redirect_uri, realm_id, expires)
        return _with_query(redirect_uri, {"code": code, "state": state, "realmId": realm_id})

    # --- token endpoint -------------------------------------------------------------------------
    def token(self, request: httpx.Request) -> httpx.Response:
        if not self._client_ok(request):
            return _oauth_error(401, "invalid_client", "Client authentication failed")
        form = read_form(request)
        grant_type = form.get("grant_type")
        with self._lock:
            if grant_type == "authorization_code":
                return self._exchange(form)
            if grant_type == "refresh_token":
                return self._refresh(form.get("refresh_token", ""))
        return _oauth_error(400, "unsupported_grant_type", f"grant_type {grant_type!r} is not supported")

    def _client_ok(self, request: httpx.Request) -> bool:
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "basic":
            try:
                user, _, password = base64.b64decode(value).decode().partition(":")
            except ValueError:
                return False
        else:  # client_secret_post is also advertised
            form = read_form(request)
            user, password = form.get("client_id", ""), form.get("client_secret", "")
        return secrets.compare_digest(user, self.client_id) and secrets.compare_digest(
            password, self.client_secret
        )

    def _exchange(self, form: dict[str, str]) -> httpx.Response:
        code = self._codes.pop(form.get("code", ""), None)  # single use
        now = self.clock.now()
        if code is None or code.expires <= now:
            return _oauth_error(400, "invalid_grant", "Authorization code is invalid or expired")
        if form.get("redirect_uri") != code.redirect_uri:
            return _oauth_error(400, "invalid_grant", "redirect_uri does not match the authorization request")
        grant = Grant(code.realm_id, "", now)
        self._grants.append(grant)
        return self._issue(grant, now)

    def _refresh(self, token: str) -> httpx.Response:
        grant = self._by_refresh.get(token)
        now = self.clock.now()
        if grant is None or grant.revoked or grant.refresh_token != token or grant.refresh_expires <= now:
            return _oauth_error(400, "invalid_grant", "Incorrect or invalid refresh token")
        return self._issue(grant, now)

    def _issue(self, grant: Grant, now: datetime) -> httpx.Response:
        # Every refresh rotates: the previous refresh token dies at once (§1, the strict reading).
        grant.refresh_token = "RT1-" + secrets.token_urlsafe(32)
        grant.refresh_expires = now + timedelta(seconds=REFRESH_SECONDS)
        self._by_refresh[grant.refresh_token] = grant
        access = "eyJ" + secrets.token_urlsafe(48)
        grant.access[access] = now + timedelta(seconds=ACCESS_SECONDS)
        self._by_access[access] = grant
        body = {
            "token_type": "bearer",
            "access_token": access,
            "refresh_token": grant.refresh_token,
            "expires_in": ACCESS_SECONDS,
            "x_refresh_token_expires_in": REFRESH_SECONDS,
        }
        return json_response(200, body, {"intuit_tid": secrets.token_hex(8)})

    # --- revoke ---------------------------------------------------------------------------------
    def revoke(self, request: httpx.Request) -> httpx.Response:
        if not self._client_ok(request):
            return _oauth_error(401, "invalid_client", "Client authentication failed")
        payload = read_json(request) or {k: v[0] for k, v in parse_qs(body_bytes(request).decode()).items()}
        token = str((payload or {}).get("token", ""))
        with self._lock:
            grant = self._by_refresh.get(token) or self._by_access.get(token)
            if grant is None:
                return _oauth_error(400, "invalid_request", "Token is invalid")
            grant.revoked = True
        return httpx.Response(200)

    # --- API side -------------------------------------------------------------------------------
    def access_realm(self, token: str | None) -> str | None:
        """The realm a live access token belongs to, or None if unknown, expired or revoked."""
        with self._lock:
            grant = self._by_access.get(token or "")
            if grant is None or grant.revoked:
                return None
            expires = grant.access.get(token or "")
            return grant.realm_id if expires and expires > self.clock.now() else None

    def expire_access(self, realm_id: str | None = None) -> int:
        with self._lock:
            now, count = self.clock.now(), 0
            for grant in self._grants:
                if realm_id in (None, grant.realm_id):
                    for token in grant.access:
                        grant.access[token] = min(grant.access[token], now)
                        count += 1
            return count

    def revoke_realm(self, realm_id: str | None = None) -> int:
        """What a user's "Disconnect" in QBO does: refresh gives invalid_grant, API gives 401."""
        with self._lock:
            hit = [g for g in self._grants if realm_id in (None, g.realm_id) and not g.revoked]
            for grant in hit:
                grant.revoked = True
            return len(hit)

    def summary(self) -> dict[str, Any]:
        with self._lock:
            now = self.clock.now()
            return {
                "grants": [
                    {
                        "realm_id": g.realm_id,
                        "revoked": g.revoked,
                        "live_access_tokens": sum(1 for t in g.access.values() if t > now),
                        "refresh_expires": g.refresh_expires.isoformat(),
                    }
                    for g in self._grants
                ]
            }


def _oauth_error(status: int, error: str, description: str) -> httpx.Response:
    return json_response(status, {"error": error, "error_description": description})


def _with_query(url: str, extra: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = f"{parts.query}&{urlencode(extra)}" if parts.query else urlencode(extra)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))
