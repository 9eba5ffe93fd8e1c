"""The /_sandbox/ control API, driven over the in-process transport (issue §5)."""

from __future__ import annotations

from sandbox_support import QBO

from sandbox import Sandbox


def test_it_moves_the_clock(sb: Sandbox, client) -> None:
    before = sb.clock.now()
    body = client.post("/_sandbox/clock", json={"advance_seconds": 3600}).json()
    assert (sb.clock.now() - before).total_seconds() == 3600
    assert body == {"now": sb.clock.now().isoformat(), "frozen": True}


def test_it_sets_faults_and_reports_them(sb: Sandbox, client) -> None:
    body = client.post("/_sandbox/faults", json={"latency_ms": 5, "throttle": True, "retry_after": 30}).json()
    assert body["throttle"] is True and sb.faults.latency_ms == 5 and sb.faults.retry_after == 30
    assert client.post("/_sandbox/faults", json={"bogus": 1}).status_code == 400


def test_it_edits_a_procurify_bill(sb: Sandbox, client) -> None:
    bill = sb.procurify.bills("northwind")[0]
    edited = client.post(
        f"/_sandbox/procurify/northwind/bills/{bill['uuid']}", json={"status": "paid"}
    ).json()
    assert edited["status"] == 4 and edited["version"] == bill["version"] + 1


def test_it_adds_procurify_vendors_and_bills(sb: Sandbox, client) -> None:
    vendor = client.post("/_sandbox/procurify/northwind/vendors", json={"name": "New Co"}).json()
    bill = client.post(
        "/_sandbox/procurify/northwind/bills",
        json={
            "vendor_id": vendor["id"],
            "lines": [{"description": "Thing", "amount": "12.00", "account_code": "6100"}],
        },
    ).json()
    assert bill["vendor"]["name"] == "New Co" and bill["total_cost_with_tax"] == 12.0


def test_it_expires_tokens_and_edits_qbo_objects(sb: Sandbox, qbo: QBO, client) -> None:
    vendor = sb.qbo.objects(qbo.realm_id, "Vendor")[0]
    edited = client.post(
        f"/_sandbox/qbo/{qbo.realm_id}/vendor/{vendor['Id']}", json={"CompanyName": "X"}
    ).json()
    assert edited["SyncToken"] == "1"
    assert (
        client.post("/_sandbox/tokens/expire", json={"realm_id": qbo.realm_id}).json()["qbo_access_tokens"]
        == 1
    )
    assert qbo.get("preferences").status_code == 401


def test_it_resets_to_the_seeded_state(sb: Sandbox, qbo: QBO, client) -> None:
    qbo.ok("vendor", {"DisplayName": "Temporary"})
    client.post("/_sandbox/reset")
    names = [v["DisplayName"] for v in sb.qbo.objects(sb.realm_ids[0], "Vendor")]
    assert "Temporary" not in names
    assert qbo.get("preferences").status_code == 401  # tokens did not survive the reset


def test_it_dumps_state_and_stats(sb: Sandbox, qbo: QBO, client) -> None:
    qbo.get("preferences")
    state = client.get("/_sandbox/state", params={"full": "1"}).json()
    assert state["qbo"][qbo.realm_id]["counts"]["Vendor"] == len(
        state["qbo"][qbo.realm_id]["objects"]["Vendor"]
    )
    stats = client.get("/_sandbox/stats").json()
    assert stats["qbo"][qbo.realm_id]["reads"] == 1
    assert client.get("/_sandbox/credentials").json() == sb.credentials
