"""The sandbox behind an in-process httpx transport, and clients built straight against it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from connector.http import build_client
from connector.models import SyncRun
from connector.procurify.auth import MemoryTokenStore
from connector.procurify.client import ProcurifyClient
from connector.qbo.auth import QBOOAuthConfig, exchange_code, refresh
from connector.qbo.client import QBOClient
from connector.sync import runs
from connector.sync.engine import run_pipeline
from sandbox import Sandbox
from tenants.models import Organisation

NOW = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)
DOMAIN = "northwind"


def no_sleep(_: float) -> None:
    return None


@contextmanager
def dies_after_qbo_commits_a_bill(harness: Harness) -> Iterator[None]:
    """The worker dies right after QuickBooks committed bills (one, or a batch), before we stored
    anything: whichever path the run takes to write them."""
    create, batch = harness.qbo.create, harness.qbo.batch

    def create_then_die(entity: str, body: Any, **kwargs: Any) -> Any:
        result = create(entity, body, **kwargs)
        if entity == "Bill":
            raise KeyboardInterrupt
        return result

    def batch_then_die(body: Any, **kwargs: Any) -> Any:
        batch(body, **kwargs)
        raise KeyboardInterrupt

    harness.qbo.create, harness.qbo.batch = create_then_die, batch_then_die  # type: ignore[method-assign]
    try:
        yield
    finally:
        harness.qbo.create, harness.qbo.batch = create, batch  # type: ignore[method-assign]


@dataclass
class Harness:
    sb: Sandbox
    http: httpx.Client
    procurify: ProcurifyClient
    qbo: QBOClient
    realm_id: str

    def run(self, organisation: Organisation, **kwargs: object) -> SyncRun:
        queued = runs.enqueue_run(organisation, SyncRun.Trigger.MANUAL)
        assert queued is not None, "another run is still active"
        return run_pipeline(
            queued.pk, procurify=self.procurify, qbo=self.qbo, clock=self.sb.clock.now, **kwargs
        )

    def bills(self) -> list[dict]:
        return self.sb.qbo.objects(self.realm_id, "Bill")

    def writes(self) -> int:
        return int(self.sb.qbo.stats(self.realm_id)["writes"])

    def bill_by_doc(self, doc_number: str) -> dict:
        return next(b for b in self.bills() if b.get("DocNumber") == doc_number)

    def procurify_bill(self, invoice_number: str, domain: str = DOMAIN) -> dict:
        site = self.sb.procurify.site(domain)
        return next(b for b in site.bills.values() if b.get("invoice_number") == invoice_number)


def qbo_token_provider(sb: Sandbox, http: httpx.Client, realm_id: str):
    urls = sb.qbo_urls()
    creds = sb.credentials["qbo"]
    config = QBOOAuthConfig(
        client_id=creds["client_id"],
        client_secret=creds["client_secret"],
        redirect_uri="http://app.test/callback/",
        authorize_url=urls["authorize_url"],
        token_url=urls["token_url"],
        revoke_url=urls["revoke_url"],
        api_base=urls["api_base"],
        environment="sandbox",
    )
    redirect = sb.qbo.approve_for_tests(config.client_id, config.redirect_uri, "state", realm_id)
    code = httpx.URL(redirect).params["code"]  # approve answers with the callback URL, as Intuit would
    state = {"tokens": exchange_code(http, config, code, clock=sb.clock.now)}

    def provide(force_refresh: bool) -> str:
        tokens = state["tokens"]
        if force_refresh or tokens.access_expires_at <= sb.clock.now():
            state["tokens"] = refresh(http, config, tokens.refresh_token, clock=sb.clock.now)
        return state["tokens"].access_token

    return provide


def build_harness(sb: Sandbox, domain: str = DOMAIN, realm_index: int = 0) -> Harness:
    http = build_client(transport=sb.transport())
    realm_id = sb.realm_ids[realm_index]
    creds = sb.credentials["procurify"][domain]
    procurify = ProcurifyClient(
        sb.procurify_site_url(domain),
        creds["client_id"],
        creds["client_secret"],
        MemoryTokenStore(),
        http=http,
        clock=sb.clock.now,
        sleep=no_sleep,
    )
    qbo = QBOClient(
        sb.qbo_urls()["api_base"],
        realm_id,
        qbo_token_provider(sb, http, realm_id),
        http=http,
        sleep=no_sleep,
        clock=sb.clock.now,
    )
    return Harness(sb, http, procurify, qbo, realm_id)


@pytest.fixture
def sb() -> Sandbox:
    return Sandbox.create(seed="distributor", now=NOW)


@pytest.fixture
def harness(sb: Sandbox) -> Iterator[Harness]:
    h = build_harness(sb)
    yield h
    h.http.close()


@pytest.fixture(autouse=True)
def _quiet_http_log(caplog: pytest.LogCaptureFixture) -> None:
    # One INFO line per sandbox request is most of a test's runtime; failures still show warnings.
    caplog.set_level("WARNING", logger="connector.http")
