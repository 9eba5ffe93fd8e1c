"""Clients for an organisation against the in-process sandbox, on the sandbox's movable clock.

The lanes mode (bench/lanes.py) measures simulated time: every QuickBooks request advances the clock by
the latency and every governor or back-off wait by the wait, so CPU and Procurify reads cost nothing.
Tokens come the way a customer's do: the consent page (the sandbox's approve stands in for it), then
the code exchange and refreshes through connector.qbo.auth.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from connector.http import build_client
from connector.procurify.auth import MemoryTokenStore
from connector.procurify.client import ProcurifyClient
from connector.qbo.auth import QBOOAuthConfig, TokenSet, exchange_code, refresh
from connector.qbo.client import QBOClient
from connector.qbo.governor import Limits, LocalGovernor
from sandbox import Sandbox

REDIRECT_URI = "http://bench.invalid/connections/qbo/callback/"


class QBOLatency(httpx.BaseTransport):
    """The sandbox's transport, with each QuickBooks API request advancing its clock by the latency."""

    def __init__(self, inner: httpx.BaseTransport, sb: Sandbox, latency_s: float) -> None:
        self.inner, self.sb, self.latency_s = inner, sb, latency_s

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if "/v3/company/" in request.url.path:
            self.sb.clock.advance(self.latency_s)
        return self.inner.handle_request(request)


@dataclass
class SandboxTokens:
    """A QBOClient token provider: one consent, then refreshes when the access token expires."""

    sb: Sandbox
    http: httpx.Client
    config: QBOOAuthConfig
    tokens: TokenSet

    def __call__(self, force_refresh: bool) -> str:
        if force_refresh or self.tokens.access_expires_at <= self.sb.clock.now():
            self.tokens = refresh(self.http, self.config, self.tokens.refresh_token, clock=self.sb.clock.now)
        return self.tokens.access_token


def consent(sb: Sandbox, http: httpx.Client, realm_id: str) -> SandboxTokens:
    urls, creds = sb.qbo_urls(), sb.credentials["qbo"]
    config = QBOOAuthConfig(
        client_id=creds["client_id"],
        client_secret=creds["client_secret"],
        redirect_uri=REDIRECT_URI,
        authorize_url=urls["authorize_url"],
        token_url=urls["token_url"],
        revoke_url=urls["revoke_url"],
        api_base=urls["api_base"],
        environment="sandbox",
    )
    callback = sb.qbo.approve_for_tests(config.client_id, REDIRECT_URI, "bench", realm_id)
    code = httpx.URL(callback).params["code"]
    return SandboxTokens(sb, http, config, exchange_code(http, config, code, clock=sb.clock.now))


def clients(sb: Sandbox, domain: str, realm_id: str, latency_s: float) -> tuple[ProcurifyClient, QBOClient]:
    """Procurify free and instant; QuickBooks through the production client, paced by a LocalGovernor
    on the sandbox clock, its waits advancing that clock."""
    clock = sb.clock
    http = build_client(transport=sb.transport())
    creds = sb.credentials["procurify"][domain]
    procurify = ProcurifyClient(
        sb.procurify_site_url(domain),
        creds["client_id"],
        creds["client_secret"],
        MemoryTokenStore(),
        http=http,
        clock=clock.now,
        sleep=lambda _seconds: None,
    )
    qbo = QBOClient(
        sb.qbo_urls()["api_base"],
        realm_id,
        consent(sb, http, realm_id),
        http=build_client(transport=QBOLatency(sb.transport(), sb, latency_s)),
        sleep=lambda seconds: _wait(sb, seconds),
        clock=clock.now,
        governor=LocalGovernor(Limits(), clock=lambda: clock.now().timestamp()),
    )
    return procurify, qbo


def _wait(sb: Sandbox, seconds: float) -> None:
    sb.clock.advance(seconds)
