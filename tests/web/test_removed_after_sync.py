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
from mappings.models import QBOAccount
from mappings.payment_accounts import save_payment_account
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


def test_a_bill_paid_in_procurify_shows_its_payment_waiting_then_recorded(org_a, owner, sandbox) -> None:
    """The sweep no longer flags paid bills: the payments step records their payments (issue 15)."""
    _sync(org_a, sandbox)
    uuid, record = _written_bill(org_a, sandbox, "OB-7781")
    sandbox.procurify.edit_bill("northwind", uuid, status="paid")
    payment = sandbox.procurify.add_payment("northwind", bill_uuids=[uuid], rail="ACH")

    _sync(org_a, sandbox)

    assert not HeldRecord.objects.filter(organisation=org_a, reason_code="paid_in_procurify")
    hold = HeldRecord.objects.get(organisation=org_a, object_type="payment", procurify_id=payment["uuid"])
    assert hold.reason_code == "payment_account_unmapped"
    page = owner.client.get(f"/o/{org_a.public_id}/records/bill/{uuid}/").content.decode()
    assert "Paid in Procurify — payment not yet recorded in QuickBooks" in page
    assert "waiting for a bank account to be chosen for ACH payments" in page

    bank = QBOAccount.objects.get(organisation=org_a, name="Operating Checking")
    save_payment_account(org_a, "ACH", bank.qbo_id)
    _sync(org_a, sandbox)

    link = ExternalRecord.objects.get(organisation=org_a, object_type="payment", procurify_id=payment["uuid"])
    page = owner.client.get(f"/o/{org_a.public_id}/records/bill/{uuid}/").content.decode()
    assert "payment not yet recorded" not in page and f"BillPayment <code>{link.qbo_id}</code>" in page
    bill = next(b for b in sandbox.qbo.objects(sandbox.realm, "Bill") if b["Id"] == record.qbo_id)  # type: ignore[attr-defined]
    assert bill["Balance"] == 0


class EditDuringTheSweep:
    """A person edits one bill just as the sweep lists every bill: its new modification time is after
    the run's start, so the list (bills modified up to the run's start) no longer carries it."""

    def __init__(self, sb: Sandbox, uuid: str) -> None:
        self.sb, self.uuid, self.edited = sb, uuid, False
        self.inner = sb.transport()

    def handle_request(self, request: Any) -> Any:
        sweep_list = request.url.path.endswith("/api/v3/ap/bills/") and request.url.params.get(
            "last_modified_datetime_0", ""
        ).startswith("2000-01-01")
        if sweep_list and not self.edited:
            self.sb.clock.advance(seconds=5)
            self.sb.procurify.edit_bill("northwind", self.uuid, note="Corrected by a person")
            self.edited = True
        return self.inner.handle_request(request)


def test_a_bill_edited_while_the_sweep_lists_bills_is_not_called_removed(org_a, sandbox) -> None:
    assert _sync(org_a, sandbox).status == SyncRun.Status.SUCCEEDED
    uuid, _record = _written_bill(org_a, sandbox, "OB-7781")
    editing = EditDuringTheSweep(sandbox, uuid)

    with use_transport(editing, clock=sandbox.clock.now):
        assert _sync(org_a, sandbox).status == SyncRun.Status.SUCCEEDED

    assert editing.edited, "the sweep listed the bills"
    assert not HeldRecord.objects.filter(organisation=org_a, procurify_id=uuid).exists()
