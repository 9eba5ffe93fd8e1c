"""The in-process transports and the Sandbox entry point (issue §5)."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import httpx
from sandbox_support import AUDIENCE

from sandbox import Sandbox


def test_it_serves_async_clients_through_the_async_transport(sb: Sandbox) -> None:
    async def fetch() -> int:
        creds = sb.credentials["procurify"]["northwind"]
        async with httpx.AsyncClient(transport=sb.async_transport(), base_url="http://sandbox.test") as c:
            response = await c.post(
                "/procurify/northwind/oauth/token",
                json={**creds, "audience": AUDIENCE, "grant_type": "client_credentials"},
            )
            return response.status_code

    # A thread of its own: a browser test in the same worker may have left an event loop running here.
    with ThreadPoolExecutor(max_workers=1) as pool:
        assert pool.submit(asyncio.run, fetch()).result() == 200


def test_it_routes_under_any_base_url_prefix(sb: Sandbox) -> None:
    base = "http://other.host/prefix"
    with httpx.Client(transport=sb.transport(base)) as c:
        response = c.get(f"{sb.qbo_urls(base)['authorize_url']}?client_id=x&redirect_uri=y")
    assert response.status_code == 400  # reached the QBO authorize page, which rejects the client


def test_it_answers_404_outside_the_known_prefixes(client) -> None:
    assert client.get("/elsewhere").status_code == 404


def test_it_builds_site_and_qbo_urls(sb: Sandbox) -> None:
    assert sb.procurify_site_url("northwind") == "http://sandbox.test/procurify/northwind"
    urls = sb.qbo_urls("http://127.0.0.1:8765/")
    assert urls == {
        "authorize_url": "http://127.0.0.1:8765/qbo/connect/oauth2",
        "token_url": "http://127.0.0.1:8765/qbo/oauth2/v1/tokens/bearer",
        "revoke_url": "http://127.0.0.1:8765/qbo/oauth2/v1/tokens/revoke",
        "api_base": "http://127.0.0.1:8765/qbo",
    }


def test_it_starts_empty_without_a_seed() -> None:
    sb = Sandbox.create(seed=None)
    assert sb.domains == [] and sb.realm_ids == []
    assert sb.credentials["qbo"]["client_id"] == "sandbox-qbo-client"


def test_it_follows_real_time_until_moved() -> None:
    sb = Sandbox.create(seed=None)
    assert not sb.clock.frozen
    sb.clock.advance(seconds=10)
    assert sb.clock.frozen
