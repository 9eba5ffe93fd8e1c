"""Smoke test over a real socket: the standalone server runs the same handlers (issue §5)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sandbox_support import AUDIENCE, FIXED_NOW

from sandbox import Sandbox
from sandbox.server import ServerHandle


@pytest.fixture
def served() -> Iterator[tuple[Sandbox, ServerHandle]]:
    sb = Sandbox.create(seed="distributor", now=FIXED_NOW)
    handle = sb.serve("127.0.0.1", 0)
    yield sb, handle
    handle.stop()


def test_it_serves_procurify_qbo_and_control_on_a_free_port(served) -> None:
    sb, handle = served
    assert handle.url.startswith("http://127.0.0.1:")
    with httpx.Client(base_url=handle.url, timeout=5) as c:
        creds = sb.credentials["procurify"]["northwind"]
        token = c.post(
            "/procurify/northwind/oauth/token",
            json={**creds, "audience": AUDIENCE, "grant_type": "client_credentials"},
        ).json()["access_token"]
        bills = c.get("/procurify/northwind/api/v3/ap/bills/", headers={"Authorization": f"Bearer {token}"})
        assert bills.status_code == 200
        assert bills.json()["metadata"]["pagination"]["next"].startswith(handle.url)
        moved = c.post("/_sandbox/clock", json={"advance_seconds": 86400})
        assert moved.json()["frozen"] is True
        expired = c.get("/procurify/northwind/api/v3/users/me/", headers={"Authorization": f"Bearer {token}"})
        assert expired.status_code == 401
        assert "Northwind Industrial Supply" in c.get("/_sandbox/").text


def test_it_answers_502_after_committing_a_lost_write(served) -> None:
    sb, handle = served
    realm = sb.realm_ids[0]
    with httpx.Client(base_url=handle.url, timeout=5) as c:
        callback = c.post(
            "/_sandbox/qbo/approve",
            json={
                "client_id": "sandbox-qbo-client",
                "redirect_uri": "http://x/cb",
                "state": "s",
                "realm_id": realm,
            },
        ).json()["callback_url"]
        code = httpx.URL(callback).params["code"]
        tokens = c.post(
            "/qbo/oauth2/v1/tokens/bearer",
            data={"grant_type": "authorization_code", "code": code, "redirect_uri": "http://x/cb"},
            auth=("sandbox-qbo-client", "sandbox-qbo-secret"),
        ).json()
        c.post("/_sandbox/faults", json={"lose_next": 1})
        response = c.post(
            f"/qbo/v3/company/{realm}/vendor",
            json={"DisplayName": "Socket Vendor"},
            headers={"Authorization": f"Bearer {tokens['access_token']}"},
        )
    assert response.status_code == 502
    assert "Socket Vendor" in [v["DisplayName"] for v in sb.qbo.objects(realm, "Vendor")]
