"""'What would the next sync do?': the real pipeline with nothing written anywhere (issue 14, preview).

Proofs: the preview's list equals, item by item, what the following real run sends QuickBooks and
holds; a preview makes no write (the sandbox's request log shows no POST to QuickBooks, its own
counters no write) and leaves no row behind in our database."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest
from recon_support import DOMAIN, RequestLog, procurify_bill, sync

from connector.clients import CLIENTS
from connector.models import AuditEvent, DocumentSummary, ExternalRecord, HeldRecord, SyncCursor, SyncRun
from connector.sync.preview import CREATE, HOLD, UPDATE, PreviewBusy, describe_write, preview_next_sync
from mappings.models import BooksProfile, QBOVendor, VendorMapping
from sandbox import Sandbox
from tenants.models import Connection, Organisation

# Token refreshes are committed on their own connection (a rotated QBO refresh token must survive the
# preview's rollback), so the rows they read must really be committed.
QBO_REFUSALS = {"qbo_validation", "period_closed", "duplicate_docnumber", "duplicate_vendor_name"}
pytestmark = pytest.mark.django_db(transaction=True)


def _state(org: Organisation) -> dict[str, object]:
    """Everything a run may leave behind in our database."""
    mine = {"organisation": org}
    return {
        "links": sorted(
            ExternalRecord.objects.filter(**mine).values_list(
                "procurify_id", "qbo_id", "sync_token", "payload_hash"
            )
        ),
        "holds": sorted(HeldRecord.objects.filter(**mine).values_list("procurify_id", "state", "attempts")),
        "audit": AuditEvent.objects.filter(**mine).count(),
        "cursors": sorted(SyncCursor.objects.filter(**mine).values_list("stream", "value", "version")),
        "runs": SyncRun.objects.filter(**mine).count(),
        "summaries": sorted(DocumentSummary.objects.filter(**mine).values_list("procurify_id", "version")),
        "mappings": sorted(
            VendorMapping.objects.filter(**mine).values_list("procurify_vendor_id", "qbo_vendor_id")
        ),
    }


def _some_changes(sb: Sandbox) -> None:
    """A working day in Procurify after the first sync: a new bill, a corrected one, one that must wait."""
    sb.procurify.add_bill(
        DOMAIN,
        vendor="Great Lakes Fasteners",
        invoice_number="GLF-30001",
        lines=[{"description": "Hex bolts", "amount": "412.37", "account_code": "6100"}],
    )
    corrected = procurify_bill(sb, "OB-7781")
    sb.procurify.edit_bill(
        DOMAIN,
        corrected["uuid"],
        lines=[{"description": "Corrected total", "amount": "1999.99", "account_code": "6100"}],
    )
    sb.procurify.add_bill(
        DOMAIN,
        vendor="O'Brien Industrial Supply",
        invoice_number="OB-9001",
        lines=[
            {"description": "Nitrile gloves", "amount": "74.50", "account_code": "6550"}
        ],  # no QBO account
    )


def _vendor_key(org: Organisation, name: str) -> str:
    return str(VendorMapping.objects.get(organisation=org, procurify_name=name).procurify_vendor_id)


def _key(item) -> tuple:
    return (
        item.kind,
        item.procurify_id.replace("-", ""),
        item.document,
        item.vendor,
        item.amount,
        item.currency,
        item.action,
    )


def test_the_preview_lists_what_the_next_run_then_does_item_by_item(
    org_a, wired, sb: Sandbox, log: RequestLog
) -> None:
    assert sync(org_a, sb).status == SyncRun.Status.SUCCEEDED
    _some_changes(sb)

    preview = preview_next_sync(org_a, CLIENTS, clock=sb.clock.now)
    assert preview.error == ""

    before = len(log.requests)
    run = sync(org_a, sb)
    assert run.status == SyncRun.Status.SUCCEEDED

    names = dict(QBOVendor.objects.filter(organisation=org_a).values_list("qbo_id", "display_name"))
    home = BooksProfile.objects.get(organisation=org_a).qbo_home_currency
    sent = [describe_write(w, names, home) for w in log.writes_as_sent(before)]
    held = AuditEvent.objects.filter(organisation=org_a, run=run, kind=AuditEvent.Kind.HOLD).order_by("id")

    previewed_writes = [i for i in preview.items if i.action != HOLD]
    assert sorted(map(_key, previewed_writes)) == sorted(map(_key, sent))
    assert [(i.kind, i.procurify_id, i.reason_code, i.reason) for i in preview.items if i.action == HOLD] == [
        (e.object_type, e.procurify_id, e.data["reason_code"], e.message) for e in held
    ]
    # The changes made above are among them, with Procurify's amounts to the cent.
    by_document = {(i.document, i.action): i for i in preview.items}
    assert by_document[("GLF-30001", CREATE)].amount == Decimal("412.37")
    assert by_document[("GLF-30001", CREATE)].vendor == "Great Lakes Fasteners"
    assert by_document[("GLF-30001", CREATE)].currency == "USD"
    assert by_document[("OB-7781", UPDATE)].amount == Decimal("1999.99")
    held_new = by_document[("OB-9001", HOLD)]
    assert held_new.amount == Decimal("74.50") and held_new.currency == "USD"
    assert held_new.reason_code == "account_unmapped" and held_new.reason
    totals = {(t["action"], t["currency"]): t for t in preview.totals()}
    usd_creates = [
        i.amount for i in previewed_writes if i.action == CREATE and i.currency == "USD" and i.amount
    ]
    assert totals[("Would create", "USD")]["amount"] == sum(usd_creates, Decimal(0))


def test_a_first_preview_makes_no_write_anywhere(org_a, wired, sb: Sandbox, log: RequestLog) -> None:
    before_state, before_log = _state(org_a), len(log.requests)
    stats_before = sb.qbo.stats(wired)
    qbo_before = {e: sb.qbo.objects(wired, e) for e in ("Bill", "PurchaseOrder", "Vendor")}

    preview = preview_next_sync(org_a, CLIENTS, clock=sb.clock.now)

    creates = [i for i in preview.items if i.action == CREATE]
    assert len([i for i in creates if i.kind == "bill"]) >= 20, "the whole first sync was previewed"
    assert any(i.action == HOLD for i in preview.items)
    assert log.qbo_writes(before_log) == [], "a write left for QuickBooks"
    assert len(log.requests) > before_log and preview.qbo_reads > 0  # it did read both systems
    stats_after = sb.qbo.stats(wired)
    assert stats_after["writes"] == stats_before["writes"]
    assert {e: sb.qbo.objects(wired, e) for e in qbo_before} == qbo_before
    assert _state(org_a) == before_state, "the preview left rows behind"
    assert Connection.objects.get(organisation=org_a, provider="qbo").refresh_token  # still connected

    # The connection survived the rollback, and the first real sync sends exactly what was previewed;
    # QuickBooks' own refusals (only its answer knows them) become holds with its reason.
    before_run = len(log.requests)
    run = sync(org_a, sb)
    assert run.status == SyncRun.Status.SUCCEEDED
    names = dict(QBOVendor.objects.filter(organisation=org_a).values_list("qbo_id", "display_name"))
    home = BooksProfile.objects.get(organisation=org_a).qbo_home_currency
    sent = [describe_write(w, names, home) for w in log.writes_as_sent(before_run)]
    previewed = Counter(map(_key, [i for i in preview.items if i.action != HOLD]))
    assert Counter(map(_key, sent)) - previewed == Counter(), (
        "the run sent something the preview did not list"
    )
    # What the preview listed and the run did not send: only what QuickBooks itself refused (a vendor name
    # a customer already uses, 6240) and the bills that waited on it.
    holds = AuditEvent.objects.filter(organisation=org_a, run=run, kind=AuditEvent.Kind.HOLD)
    refused = {(e.object_type, e.procurify_id) for e in holds if e.data["reason_code"] in QBO_REFUSALS}
    refused_vendors = {
        i.document
        for i in preview.items
        if i.kind == "vendor" and ("vendor", _vendor_key(org_a, i.document)) in refused
    }
    unsent = [item for key, n in (previewed - Counter(map(_key, sent))).items() for item in [key] * n]
    assert unsent, "the distributor seed has a vendor name QuickBooks refuses"
    held_ids = {e.procurify_id.replace("-", "") for e in holds}
    for kind, procurify_id, _doc, vendor, *_ in unsent:
        assert procurify_id in held_ids and (vendor in refused_vendors or (kind, procurify_id) in refused)


def test_no_preview_while_a_sync_is_running(org_a, wired, sb: Sandbox) -> None:
    from connector.sync import runs

    runs.enqueue_run(org_a, SyncRun.Trigger.MANUAL)
    with pytest.raises(PreviewBusy):
        preview_next_sync(org_a, CLIENTS, clock=sb.clock.now)


def test_a_token_refreshed_during_the_preview_survives_its_rollback(org_a, wired, sb: Sandbox) -> None:
    before = Connection.objects.get(organisation=org_a, provider="qbo").refresh_token
    sb.qbo.expire_tokens(wired)  # QuickBooks answers our stored access token with 401

    preview = preview_next_sync(org_a, CLIENTS, clock=sb.clock.now)

    assert preview.error == "" and preview.items
    after = Connection.objects.get(organisation=org_a, provider="qbo")
    assert after.refresh_token != before, "the rotated refresh token was rolled back with the preview"
    assert not after.needs_reauth
    assert sync(org_a, sb).status == SyncRun.Status.SUCCEEDED  # and it is the one QuickBooks now accepts
