"""Faithful local fakes of the Procurify and QuickBooks Online APIs (see sandbox/README.md)."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

import httpx

from . import seed as seeding
from .clock import FakeClock
from .faults import Faults
from .procurify import ProcurifyFake
from .qbo import QBOFake
from .qbo_oauth import QBOAuth
from .server import ServerHandle, serve
from .transport import AsyncSandboxTransport, SandboxTransport
from .web import json_response

DEFAULT_BASE_URL = "http://sandbox.test"
__all__ = ["FakeClock", "Faults", "ProcurifyFake", "QBOFake", "Sandbox"]


class Sandbox:
    """Both fakes, one clock, one set of fault knobs, one URL space."""

    def __init__(self, clock: FakeClock, seed: str | None, tenants: int, options: dict[str, Any]) -> None:
        self.clock = clock
        self.faults = Faults()
        self.procurify = ProcurifyFake(clock, self.faults)
        self.qbo = QBOFake(clock, self.faults, seeding.QBO_CLIENT_ID, seeding.QBO_CLIENT_SECRET)
        self._seed, self._tenants, self._options = seed, tenants, options
        self._lock = threading.Lock()
        self._load()

    @classmethod
    def create(
        cls,
        seed: str | None = "distributor",
        *,
        tenants: int = 1,
        now: datetime | None = None,
        **options: Any,
    ) -> Sandbox:
        """seed: "distributor", "large" (n_bills, n_vendors, n_pos), "empty" or None.
        now: freeze the clock there first, which makes the seeded data byte-for-byte repeatable."""
        return cls(FakeClock(now), seed, tenants, options)

    def _load(self) -> None:
        result = seeding.build(self._seed, self.clock.now(), self._tenants, **self._options)
        for tenant in result.tenants:
            self.procurify.add_site(tenant.site)
            self.qbo.add_realm(tenant.realm)

    def reset(self) -> None:
        """Back to the freshly seeded state: data, tokens, faults and throttle windows."""
        with self._lock:
            self.procurify.sites.clear()
            self.qbo.realms.clear()
            self.qbo.auth = QBOAuth(self.clock, seeding.QBO_CLIENT_ID, seeding.QBO_CLIENT_SECRET)
            self.qbo.reset_limits()
            self.faults.reset()
            self._load()

    # --- routing ---------------------------------------------------------------------------------
    def handle(self, request: httpx.Request) -> httpx.Response:
        # The first known segment decides, so a base URL may carry its own path prefix.
        prefix = next((s for s in request.url.path.split("/") if s in ("_sandbox", "procurify", "qbo")), None)
        if prefix == "_sandbox":
            from .control import handle as control

            return control(self, request)
        if prefix == "procurify":
            return self.procurify.handle(request)
        if prefix == "qbo":
            return self.qbo.handle(request)
        return json_response(404, {"error": "unknown sandbox path", "path": request.url.path})

    def transport(self, base_url: str = DEFAULT_BASE_URL) -> httpx.BaseTransport:
        # Routing is by path, so any base URL works; base_url is kept for symmetry with the URL helpers.
        return SandboxTransport(self)

    def async_transport(self, base_url: str = DEFAULT_BASE_URL) -> httpx.AsyncBaseTransport:
        return AsyncSandboxTransport(self)

    def client(self, base_url: str = DEFAULT_BASE_URL, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=base_url, transport=self.transport(base_url), **kwargs)

    def serve(self, host: str = "127.0.0.1", port: int = 0, verbose: bool = False) -> ServerHandle:
        return serve(self, host, port, verbose)

    # --- where things are ------------------------------------------------------------------------
    def procurify_site_url(self, domain: str, base_url: str = DEFAULT_BASE_URL) -> str:
        return f"{base_url.rstrip('/')}/procurify/{domain}"

    def qbo_urls(self, base_url: str = DEFAULT_BASE_URL) -> dict[str, str]:
        base = base_url.rstrip("/")
        return {
            "authorize_url": f"{base}/qbo/connect/oauth2",
            "token_url": f"{base}/qbo/oauth2/v1/tokens/bearer",
            "revoke_url": f"{base}/qbo/oauth2/v1/tokens/revoke",
            "api_base": f"{base}/qbo",
        }

    @property
    def credentials(self) -> dict[str, Any]:
        return {
            "procurify": {
                domain: {"client_id": site.client_id, "client_secret": site.client_secret}
                for domain, site in self.procurify.sites.items()
            },
            "qbo": {**self.qbo.credentials, "realm_ids": list(self.qbo.realms)},
        }

    @property
    def domains(self) -> list[str]:
        return list(self.procurify.sites)

    @property
    def realm_ids(self) -> list[str]:
        return list(self.qbo.realms)
