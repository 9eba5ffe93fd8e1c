"""Issue 15: a credit note is a vendor credit on every page, and one removed in Procurify after it
reached QuickBooks is held for a person like a bill, who deletes it there with one audited click."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sandbox_wiring import connect, point_settings_at

from connector.clients import procurify_client_for, qbo_client_for, use_transport
from connector.models import AuditEvent, ExternalRecord, HeldRecord, SyncRun
from connector.sync import runs
from connector.sync.engine import run_pipeline
from sandbox import Sandbox, seed_credits
from tenants.models import Organisation


@pytest.fixture
def sandbox(settings: Any, org_a: Organisation, owner: Any) -> Iterator[Sandbox]:
    sb = Sandbox.create(seed="distributor")
    point_settings_at(sb)
    with use_transport(sb.transport(), clock=sb.clock.now):
        sb.realm = connect(org_a, owner.user, sb)  # type: ignore[attr-defined]
        yield sb


def _sync(org: Organisation, sb: Sandbox) -> SyncRun:
    queued = runs.enqueue_run(org, SyncRun.Trigger.MANUAL)
    assert queued is not None
    run = run_pipeline(
        queued.pk, procurify=procurify_client_for(org), qbo=qbo_client_for(org), clock=sb.clock.now
    )
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    return run


def _credit_note(org: Organisation, sb: Sandbox) -> tuple[str, ExternalRecord]:
    site = sb.procurify.site("northwind")
    uuid = next(u for u, b in site.bills.items() if b.get("invoice_number") == seed_credits.RETURN_CREDIT)
    return uuid, ExternalRecord.objects.get(organisation=org, procurify_id=uuid)


def _credit_ids(sb: Sandbox) -> set[str]:
    return {c["Id"] for c in sb.qbo.objects(sb.realm, "VendorCredit")}  # type: ignore[attr-defined]


def test_the_record_page_and_the_dashboard_say_vendor_credit(org_a, owner, sandbox) -> None:
    _sync(org_a, sandbox)
    uuid, record = _credit_note(org_a, sandbox)

    page = owner.client.get(f"/o/{org_a.public_id}/records/bill/{uuid}/").content.decode()

    assert record.object_type == "vendor_credit" and record.qbo_id in _credit_ids(sandbox)
    assert "Vendor credit" in page and f"VendorCredit <code>{record.qbo_id}</code>" in page
    dashboard = owner.client.get(f"/o/{org_a.public_id}/").content.decode()
    assert "vendor credits" in dashboard


def test_a_credit_deleted_in_procurify_is_held_and_deleted_in_quickbooks_on_one_click(
    org_a, owner, sandbox
) -> None:
    _sync(org_a, sandbox)
    uuid, record = _credit_note(org_a, sandbox)
    sandbox.procurify.remove_bill("northwind", uuid)

    _sync(org_a, sandbox)

    held = HeldRecord.objects.get(organisation=org_a, procurify_id=uuid)
    assert held.object_type == "bill" and held.reason_code == "bill_removed_in_procurify"
    assert record.qbo_id in _credit_ids(sandbox)  # nothing is deleted without a person
    listing = owner.client.get(f"/o/{org_a.public_id}/held/").content.decode()
    assert "Vendor credit · held" in " ".join(listing.split())

    response = owner.client.post(f"/o/{org_a.public_id}/held/{held.public_id}/delete-in-qbo/", follow=True)

    assert "was deleted in QuickBooks" in response.content.decode()
    assert record.qbo_id not in _credit_ids(sandbox)
    held.refresh_from_db()
    assert held.state == HeldRecord.State.RESOLVED
    event = AuditEvent.objects.get(organisation=org_a, data__action="deleted_in_qbo")
    assert f"VendorCredit {record.qbo_id}" in event.message and event.data["by"] == owner.user.email


def test_an_applied_credit_is_not_deleted(org_a, owner, sandbox) -> None:
    _sync(org_a, sandbox)
    uuid, record = _credit_note(org_a, sandbox)
    realm = sandbox.realm  # type: ignore[attr-defined]
    credit = next(c for c in sandbox.qbo.objects(realm, "VendorCredit") if c["Id"] == record.qbo_id)
    bill = next(b for b in sandbox.qbo.objects(realm, "Bill") if b["VendorRef"] == credit["VendorRef"])
    sandbox.qbo.apply_vendor_credit(realm, credit["Id"], bill["Id"])
    sandbox.procurify.remove_bill("northwind", uuid)
    _sync(org_a, sandbox)
    held = HeldRecord.objects.get(organisation=org_a, procurify_id=uuid)

    response = owner.client.post(f"/o/{org_a.public_id}/held/{held.public_id}/delete-in-qbo/", follow=True)

    assert "applied credits" in response.content.decode()
    assert record.qbo_id in _credit_ids(sandbox)
