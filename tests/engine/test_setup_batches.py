"""New vendors and purchase orders go through QBO /batch like bills (issue 16), still exactly once:
each created vendor is mapped, each PO keeps its line Ids for the bills that link to it, and a worker
killed after a PO batch's POST leaves nothing the next run writes twice. Batches are made small here."""

from __future__ import annotations

import threading
from collections import Counter

import pytest

from connector.models import AuditEvent, ExternalRecord, SyncRun
from connector.sync import batch, runs
from mappings.models import Source, VendorMapping


@pytest.fixture(autouse=True)
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batch, "BATCH_SIZE", 3)
    monkeypatch.setattr(batch, "MIN_BATCH", 2)


def _stat(harness, key: str) -> int:
    return int(harness.sb.qbo.stats(harness.realm_id)["by_endpoint"].get(key, 0))


def _po_markers(harness) -> Counter[str]:
    objects = harness.sb.qbo.objects(harness.realm_id, "PurchaseOrder")
    return Counter((po.get("PrivateNote") or "").split(" ")[0] for po in objects)


def test_new_vendors_are_created_in_batches_and_mapped(harness, org_a) -> None:
    run = harness.run(org_a, steps=("token_check", "reference", "vendors"))

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    created = VendorMapping.objects.filter(organisation=org_a, source=Source.CREATED)
    assert created.count() >= 2 and _stat(harness, "write:batch") >= 1
    vendors = {v["Id"]: v["DisplayName"] for v in harness.sb.qbo.objects(harness.realm_id, "Vendor")}
    for mapping in created:  # mapped to the vendor QuickBooks holds, which exists once
        assert vendors[mapping.qbo_vendor_id] == mapping.qbo_vendor_name
        assert list(vendors.values()).count(mapping.qbo_vendor_name) == 1
    links = ExternalRecord.objects.filter(organisation=org_a, object_type="vendor", state="synced")
    assert any(":b" in r.request_id for r in links)  # the per-item request id of a batch


def test_purchase_orders_are_written_in_batches_exactly_once_with_their_line_ids(harness, org_a) -> None:
    run = harness.run(org_a, steps=("token_check", "reference", "vendors", "purchase_orders"))

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    synced = ExternalRecord.objects.filter(organisation=org_a, object_type="purchase_order", state="synced")
    assert synced.exists()
    markers = _po_markers(harness)
    assert max(markers.values()) == 1 and len(markers) == synced.count()
    assert any(":b" in r.request_id for r in synced)
    assert all(r.extra.get("line_ids_by_order_item") for r in synced)

    bills = harness.run(org_a, steps=("bills",))  # bill lines still link to the batched POs' lines
    assert bills.status == SyncRun.Status.SUCCEEDED, bills.error
    po_ids = {r.qbo_id for r in synced}
    linked = {
        link["TxnId"]
        for bill in harness.bills()
        for line in bill.get("Line", [])
        for link in line.get("LinkedTxn", [])
        if link.get("TxnType") == "PurchaseOrder"
    }
    assert linked and linked <= po_ids


def test_purchase_order_details_are_read_ahead_and_handled_in_list_order(harness, org_a) -> None:
    setup = harness.run(org_a, steps=("token_check", "reference", "vendors"))
    assert setup.status == SyncRun.Status.SUCCEEDED, setup.error
    listed: list[str] = []
    read_on: dict[str, str] = {}
    page, detail = harness.procurify.purchase_orders_page, harness.procurify.get_purchase_order

    def listing(*args, **kwargs):
        result = page(*args, **kwargs)
        listed.extend(row.uuid for row in result.rows)
        return result

    def reading(uuid):
        read_on[uuid] = threading.current_thread().name
        return detail(uuid)

    harness.procurify.purchase_orders_page = listing  # type: ignore[method-assign]
    harness.procurify.get_purchase_order = reading  # type: ignore[method-assign]
    run = harness.run(org_a, steps=("purchase_orders",))

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert len(listed) >= 3 and set(read_on) == set(listed)
    main = threading.current_thread().name
    assert all(name != main and name.startswith("detail-read") for name in read_on.values())
    handled = AuditEvent.objects.filter(
        organisation=org_a, run=run, object_type="purchase_order", message__startswith="Read Procurify"
    ).values_list("procurify_id", flat=True)
    assert list(handled) == list(dict.fromkeys(listed))  # the audit follows the list, not the threads


def test_a_worker_killed_after_a_purchase_order_batch_post_is_adopted_not_rewritten(harness, org_a) -> None:
    setup = harness.run(org_a, steps=("token_check", "reference", "vendors"))
    assert setup.status == SyncRun.Status.SUCCEEDED, setup.error
    original = harness.qbo.batch

    def post_then_die(items, **kwargs):
        original(items, **kwargs)
        raise KeyboardInterrupt  # QBO committed the POs; we die before storing a single Id

    harness.qbo.batch = post_then_die  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        harness.run(org_a, steps=("purchase_orders",))
    harness.qbo.batch = original  # type: ignore[method-assign]
    stuck = ExternalRecord.objects.filter(organisation=org_a, object_type="purchase_order", state="creating")
    assert stuck.count() == batch.BATCH_SIZE == sum(_po_markers(harness).values())

    harness.sb.clock.advance(hours=1)
    assert runs.reap_abandoned(harness.sb.clock.now()) == 1
    run = harness.run(org_a, steps=("purchase_orders",))

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert max(_po_markers(harness).values()) == 1
    synced = ExternalRecord.objects.filter(organisation=org_a, object_type="purchase_order", state="synced")
    assert {r.qbo_id for r in synced} == {
        po["Id"] for po in harness.sb.qbo.objects(harness.realm_id, "PurchaseOrder")
    }
