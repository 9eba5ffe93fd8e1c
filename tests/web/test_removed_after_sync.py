"""Issue 11 item 6: a bill removed, denied or sent back in Procurify after it reached QuickBooks is held
for a person, who deletes it in QuickBooks with one audited click or keeps it; nothing is automatic."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sandbox_wiring import connect, point_settings_at

from connector.clients import procurify_client_for, qbo_client_for, use_transport
from connector.models import AuditEvent, ExternalRecord, HeldRecord, SyncRun
from connector.sync import runs
from connector.sync.engine import run_pipeline
from sandbox import Sandbox
from tenants.models import Organisation


@pytest.fixture
def sandbox(settings: Any, org_a: Organisation, owner: Any) -> Iterator[Sandbox]:
    sb = Sandbox.create(seed="distributor")
    point_settings_at(sb)
    with use_transport(sb.transport(), clock=sb.clock.now):
        realm = connect(org_a, owner.user, sb)
        sb.realm = realm  # type: ignore[attr-defined]
        yield sb


def _sync(org: Organisation, sb: Sandbox) -> SyncRun:
    queued = runs.enqueue_run(org, SyncRun.Trigger.MANUAL)
    assert queued is not None
    return run_pipeline(
        queued.pk, procurify=procurify_client_for(org), qbo=qbo_client_for(org), clock=sb.clock.now
    )


def _written_bill(org: Organisation, sb: Sandbox, number: str) -> tuple[str, ExternalRecord]:
    site = sb.procurify.site("northwind")
    uuid = next(u for u, b in site.bills.items() if b.get("invoice_number") == number)
    return uuid, ExternalRecord.objects.get(organisation=org, object_type="bill", procurify_id=uuid)


def _qbo_bill_ids(sb: Sandbox) -> set[str]:
    return {b["Id"] for b in sb.qbo.objects(sb.realm, "Bill")}  # type: ignore[attr-defined]


def test_it_holds_a_bill_deleted_in_procurify_and_leaves_quickbooks_alone(org_a, sandbox) -> None:
    assert _sync(org_a, sandbox).status == SyncRun.Status.SUCCEEDED
    uuid, record = _written_bill(org_a, sandbox, "OB-7781")
    sandbox.procurify.remove_bill("northwind", uuid)

    assert _sync(org_a, sandbox).status == SyncRun.Status.SUCCEEDED

    held = HeldRecord.objects.get(organisation=org_a, procurify_id=uuid)
    assert held.reason_code == "bill_removed_in_procurify"
    assert "still an open payable" in held.message and "Delete it in QuickBooks or keep it" in held.message
    assert record.qbo_id in _qbo_bill_ids(sandbox)


def test_it_holds_a_bill_sent_back_to_draft_after_it_reached_quickbooks(org_a, sandbox) -> None:
    _sync(org_a, sandbox)
    uuid, _ = _written_bill(org_a, sandbox, "OB-7781")
    sandbox.procurify.edit_bill("northwind", uuid, status=0)

    _sync(org_a, sandbox)

    assert (
        HeldRecord.objects.get(organisation=org_a, procurify_id=uuid).reason_code
        == "bill_unapproved_after_sync"
    )


def _removed_and_held(org: Organisation, sb: Sandbox) -> tuple[ExternalRecord, HeldRecord]:
    """OB-7781 reached QuickBooks, then was deleted in Procurify and the sweep held it."""
    _sync(org, sb)
    uuid, record = _written_bill(org, sb, "OB-7781")
    sb.procurify.remove_bill("northwind", uuid)
    _sync(org, sb)
    return record, HeldRecord.objects.get(organisation=org, procurify_id=uuid)


def test_it_deletes_the_bill_in_quickbooks_on_one_click_and_records_who(org_a, owner, sandbox) -> None:
    record, held = _removed_and_held(org_a, sandbox)

    response = owner.client.post(f"/o/{org_a.public_id}/held/{held.public_id}/delete-in-qbo/", follow=True)

    assert "was deleted in QuickBooks" in response.content.decode()
    assert record.qbo_id not in _qbo_bill_ids(sandbox)
    held.refresh_from_db()
    assert held.state == HeldRecord.State.RESOLVED
    event = AuditEvent.objects.get(organisation=org_a, data__action="deleted_in_qbo")
    assert event.procurify_id == held.procurify_id
    assert event.data["by"] == owner.user.email


def test_a_viewer_cannot_delete_in_quickbooks(org_a, viewer, sandbox) -> None:
    record, held = _removed_and_held(org_a, sandbox)

    response = viewer.client.post(f"/o/{org_a.public_id}/held/{held.public_id}/delete-in-qbo/")

    assert response.status_code == 403
    assert record.qbo_id in _qbo_bill_ids(sandbox)


def test_keeping_the_bill_stops_the_sweep_from_asking_again(org_a, owner, sandbox) -> None:
    record, held = _removed_and_held(org_a, sandbox)

    owner.client.post(f"/o/{org_a.public_id}/held/{held.public_id}/ignore/", {"comment": "paid by cheque"})
    _sync(org_a, sandbox)

    held.refresh_from_db()
    assert held.state == HeldRecord.State.RESOLVED
    assert record.qbo_id in _qbo_bill_ids(sandbox)


def test_a_bill_paid_in_procurify_is_flagged_once_until_someone_records_the_payment(
    org_a, owner, sandbox
) -> None:
    _sync(org_a, sandbox)
    uuid, record = _written_bill(org_a, sandbox, "OB-7781")
    sandbox.procurify.edit_bill("northwind", uuid, status="paid")

    _sync(org_a, sandbox)

    flag = HeldRecord.objects.get(organisation=org_a, object_type="payment", procurify_id=uuid)
    assert flag.reason_code == "paid_in_procurify"
    assert "not paid twice" in flag.message
    page = owner.client.get(f"/o/{org_a.public_id}/held/").content.decode()
    assert "Recorded in QuickBooks…" in page
    owner.client.post(f"/o/{org_a.public_id}/held/{flag.public_id}/ignore/", {"comment": "paid on 3 Dec"})
    _sync(org_a, sandbox)
    flag.refresh_from_db()
    assert flag.state == HeldRecord.State.RESOLVED and flag.attempts == 1
    # The bill itself stays written once in QuickBooks.
    assert record.qbo_id in _qbo_bill_ids(sandbox)
