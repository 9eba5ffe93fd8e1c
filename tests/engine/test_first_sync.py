from __future__ import annotations

from collections import Counter

import pytest

from connector.models import AuditEvent, ExternalRecord, HeldRecord, SyncCursor, SyncRun


def _synced_bills(org):
    return ExternalRecord.objects.filter(organisation=org, object_type="bill", state="synced")


def test_it_creates_one_qbo_bill_per_approved_bill_when_run_first(harness, org_a):
    run = harness.run(org_a)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    bills = harness.bills()
    markers = Counter((b.get("PrivateNote") or "").split(" ")[0] for b in bills)
    assert all(n == 1 for n in markers.values())
    assert set(markers) == {f"procurify:bill:{r.procurify_id}" for r in _synced_bills(org_a)}
    credits = harness.sb.qbo.objects(harness.realm_id, "VendorCredit")  # negative bills (issue 15)
    assert run.counts["by_type"]["bill"]["created"] == len(bills) + len(credits) > 10


def test_it_uses_mapped_vendor_and_accounts_when_building_the_bill(harness, org_a):
    harness.run(org_a)

    bill = harness.bill_by_doc("OB-7781")
    vendors = {v["Id"]: v["DisplayName"] for v in harness.sb.qbo.objects(harness.realm_id, "Vendor")}
    accounts = {a["Id"]: a.get("AcctNum") for a in harness.sb.qbo.objects(harness.realm_id, "Account")}
    assert vendors[bill["VendorRef"]["value"]] == "O'Brien Industrial Supply"
    # One line per cost allocation: 2 for the forklift service, 3 for the towels.
    assert [accounts[ln["AccountBasedExpenseLineDetail"]["AccountRef"]["value"]] for ln in bill["Line"]] == [
        "6200", "6200", "6400", "6400", "6400",
    ]  # fmt: skip
    assert bill["PrivateNote"].startswith("procurify:bill:")


def test_it_holds_the_bill_with_an_unmapped_account_with_a_readable_reason(harness, org_a):
    harness.run(org_a)

    held = HeldRecord.objects.get(organisation=org_a, label__contains="GLF-20931")
    assert held.reason_code == "account_unmapped"
    assert (
        held.message
        == "Account code '6550' is not mapped to a QuickBooks account. Map it on the Accounts tab."
    )
    assert (held.waiting_on_type, held.state) == ("account_mapping", "held")
    assert not [b for b in harness.bills() if b.get("DocNumber") == "GLF-20931"]


@pytest.mark.parametrize("number", ["ACME-INV-2024-000017-REVISED", "INV-2026-000123-ABCDEFGHI"])
def test_it_writes_an_invoice_number_longer_than_21_characters_cut_with_the_whole_in_the_note(
    harness, org_a, number
):
    harness.run(org_a)

    assert not HeldRecord.objects.filter(organisation=org_a, label__contains=number).exists()
    [bill] = [b for b in harness.bills() if number in (b.get("PrivateNote") or "")]
    assert bill["DocNumber"] == number[:21]
    assert f"Invoice number: {number}" in bill["PrivateNote"]


def test_it_holds_a_vendor_whose_name_clashes_with_a_customer(harness, org_a):
    harness.run(org_a)

    held = HeldRecord.objects.get(
        organisation=org_a, object_type="vendor", label="Vendor Summit Steel & Wire"
    )
    assert held.reason_code == "duplicate_vendor_name"
    summit_bill = HeldRecord.objects.get(organisation=org_a, object_type="bill", label__contains="Summit")
    assert summit_bill.reason_code == "vendor_unmapped"


def test_it_records_an_audit_trail_with_the_run_when_syncing(harness, org_a):
    run = harness.run(org_a)

    # A bill written on its own (batched bills are looked up together, one query per batch).
    single = AuditEvent.objects.filter(organisation=org_a, object_type="bill", message="Create Bill")
    record = (
        _synced_bills(org_a).filter(procurify_id__in=single.values("procurify_id")).order_by("pk").first()
    )
    kinds = list(
        AuditEvent.objects.filter(
            organisation=org_a, object_type="bill", procurify_id=record.procurify_id
        ).values_list("kind", flat=True)
    )
    # Read the bill, build the payload, look for it in QuickBooks (no local link yet), send, answer.
    assert kinds[:5] == ["read", "mapping", "read", "request", "response"]
    assert AuditEvent.objects.filter(run=run).count() > 50
    tokens = AuditEvent.objects.filter(organisation=org_a, data__icontains="access_token")
    assert not tokens.exists()


def test_it_never_moves_the_cursor_past_the_run_start(harness, org_a):
    run = harness.run(org_a)

    cursor = SyncCursor.objects.get(organisation=org_a, stream="bills")
    assert cursor.value is not None and cursor.value <= run.started_at
    assert cursor.version == 1
