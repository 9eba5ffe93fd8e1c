"""Issue 15, credits: a negative Procurify bill is a QuickBooks VendorCredit, written exactly once; a
discount line stays on its bill; a bill that changes sign is replaced, never kept twice."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from connector.models import AuditEvent, ExternalRecord, HeldRecord, SyncRun
from sandbox import seed_credits
from tests.engine.conftest import Harness


def _uuid(harness: Harness, number: str) -> str:
    return harness.procurify_bill(number)["uuid"]


def _with_marker(harness: Harness, entity: str, number: str) -> list[dict]:
    marker = f"procurify:bill:{_uuid(harness, number)} "
    rows = harness.sb.qbo.objects(harness.realm_id, entity)
    return [row for row in rows if f"{row.get('PrivateNote') or ''} ".startswith(marker)]


def _credit(harness: Harness, number: str) -> dict:
    credits = _with_marker(harness, "VendorCredit", number)
    assert len(credits) == 1, credits
    return credits[0]


def _amounts(obj: dict) -> list[Decimal]:
    return [Decimal(str(line["Amount"])) for line in obj["Line"]]


def _links(org, harness: Harness, number: str) -> set[str]:
    rows = ExternalRecord.objects.filter(organisation=org, procurify_id=_uuid(harness, number))
    return {f"{r.object_type}:{r.qbo_entity}:{r.qbo_id}" for r in rows}


def _synced(harness: Harness, org) -> SyncRun:
    run = harness.run(org)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    return run


def test_a_negative_bill_becomes_one_vendor_credit_to_the_cent_and_no_bill(harness, org_a):
    _synced(harness, org_a)

    credit = _credit(harness, seed_credits.RETURN_CREDIT)
    assert _with_marker(harness, "Bill", seed_credits.RETURN_CREDIT) == []
    # -125.00 returned and 15.00 kept as a restocking fee: the vendor owes 110.00 back.
    assert _amounts(credit) == [Decimal("125.00"), Decimal("-15.00")]
    assert Decimal(str(credit["TotalAmt"])) == Decimal("110.00") == Decimal(str(credit["Balance"]))
    assert credit["DocNumber"] == seed_credits.RETURN_CREDIT
    assert "DueDate" not in credit and "SalesTermRef" not in credit
    vendor = next(
        v
        for v in harness.sb.qbo.objects(harness.realm_id, "Vendor")
        if v["Id"] == credit["VendorRef"]["value"]
    )
    assert vendor["DisplayName"] == "Great Lakes Fasteners"
    record = ExternalRecord.objects.get(
        organisation=org_a, procurify_id=_uuid(harness, seed_credits.RETURN_CREDIT)
    )
    assert (record.object_type, record.qbo_entity, record.qbo_id) == (
        "vendor_credit",
        "VendorCredit",
        credit["Id"],
    )
    assert record.label.startswith("Vendor credit GLF-CN-0091")


def test_a_foreign_currency_credit_keeps_its_currency_rate_and_payables(harness, org_a):
    _synced(harness, org_a)

    credit = _credit(harness, seed_credits.EURO_CREDIT)
    payables = next(
        a
        for a in harness.sb.qbo.objects(harness.realm_id, "Account")
        if a["Id"] == credit["APAccountRef"]["value"]
    )
    assert credit["CurrencyRef"]["value"] == "EUR" == payables["CurrencyRef"]["value"]
    assert Decimal(str(credit["TotalAmt"])) == Decimal("368.00")
    assert Decimal(str(credit["ExchangeRate"])) == Decimal("1.08")
    # Procurify converted -368.00 EUR to -397.44 USD: the same amount, owed the other way.
    home = Decimal(str(credit["TotalAmt"])) * Decimal(str(credit["ExchangeRate"]))
    assert home.quantize(Decimal("0.01")) == Decimal("397.44")


def test_a_discount_line_stays_a_negative_line_on_its_bill(harness, org_a):
    _synced(harness, org_a)

    [bill] = _with_marker(harness, "Bill", seed_credits.DISCOUNTED_BILL)
    assert _amounts(bill) == [Decimal("410.00"), Decimal("-20.50")]
    assert Decimal(str(bill["TotalAmt"])) == Decimal("389.50")
    assert _with_marker(harness, "VendorCredit", seed_credits.DISCOUNTED_BILL) == []


def test_a_second_run_writes_nothing(harness, org_a):
    _synced(harness, org_a)
    writes = harness.writes()

    run = _synced(harness, org_a)

    assert harness.writes() == writes
    assert run.counts["created"] == run.counts["updated"] == 0


def test_a_credit_edited_positive_is_replaced_by_one_bill(harness, org_a):
    number = seed_credits.CREDIT_LATER_POSITIVE
    _synced(harness, org_a)
    old = _credit(harness, number)
    harness.sb.procurify.edit_bill(
        "northwind", _uuid(harness, number), lines=seed_credits.CREDIT_REISSUED_LINES
    )

    _synced(harness, org_a)

    assert _with_marker(harness, "VendorCredit", number) == []
    [bill] = _with_marker(harness, "Bill", number)
    assert Decimal(str(bill["TotalAmt"])) == Decimal("85.60")
    assert _links(org_a, harness, number) == {f"bill:Bill:{bill['Id']}"}
    deleted = AuditEvent.objects.get(organisation=org_a, data__action="deleted_in_qbo")
    assert deleted.data["qbo_id"] == old["Id"] and deleted.procurify_id == _uuid(harness, number)
    writes = harness.writes()
    _synced(harness, org_a)
    assert harness.writes() == writes


def test_a_bill_edited_negative_is_replaced_by_one_vendor_credit(harness, org_a):
    number = seed_credits.BILL_LATER_NEGATIVE
    _synced(harness, org_a)
    [old] = _with_marker(harness, "Bill", number)
    harness.sb.procurify.edit_bill(
        "northwind", _uuid(harness, number), lines=seed_credits.BILL_REVERSED_LINES
    )

    _synced(harness, org_a)

    assert _with_marker(harness, "Bill", number) == []
    credit = _credit(harness, number)
    assert Decimal(str(credit["TotalAmt"])) == Decimal("128.97")
    assert _links(org_a, harness, number) == {f"vendor_credit:VendorCredit:{credit['Id']}"}
    assert old["Id"] not in {b["Id"] for b in harness.bills()}


def test_a_paid_bill_that_turns_negative_is_held_and_left_alone(harness, org_a):
    number = seed_credits.BILL_LATER_NEGATIVE
    _synced(harness, org_a)
    [bill] = _with_marker(harness, "Bill", number)
    harness.sb.qbo.mark_bill_paid(harness.realm_id, bill["Id"])
    harness.sb.procurify.edit_bill(
        "northwind", _uuid(harness, number), lines=seed_credits.BILL_REVERSED_LINES
    )

    _synced(harness, org_a)

    held = HeldRecord.objects.get(organisation=org_a, procurify_id=_uuid(harness, number))
    assert held.reason_code == "credit_sign_flip_locked"
    assert "changed sign" in held.message and f"bill {bill['Id']}" in held.message
    assert [b["Id"] for b in _with_marker(harness, "Bill", number)] == [bill["Id"]]
    assert _with_marker(harness, "VendorCredit", number) == []


def test_an_applied_credit_that_turns_positive_is_held_and_left_alone(harness, org_a):
    number = seed_credits.CREDIT_LATER_POSITIVE
    _synced(harness, org_a)
    credit = _credit(harness, number)
    vendor_bill = next(b for b in harness.bills() if b["VendorRef"] == credit["VendorRef"])
    harness.sb.qbo.apply_vendor_credit(harness.realm_id, credit["Id"], vendor_bill["Id"])
    harness.sb.procurify.edit_bill(
        "northwind", _uuid(harness, number), lines=seed_credits.CREDIT_REISSUED_LINES
    )

    _synced(harness, org_a)

    held = HeldRecord.objects.get(organisation=org_a, procurify_id=_uuid(harness, number))
    assert held.reason_code == "credit_sign_flip_locked"
    assert _credit(harness, number)["Id"] == credit["Id"]
    assert _with_marker(harness, "Bill", number) == []


@contextmanager
def _dies_after_qbo_commits_a_credit(harness: Harness) -> Iterator[list[str]]:
    """The worker dies right after QuickBooks committed a VendorCredit (alone or in a batch), before
    anything of the answer is stored."""
    create, batch = harness.qbo.create, harness.qbo.batch
    fired: list[str] = []

    def create_then_die(entity: str, body: Any, **kwargs: Any) -> Any:
        result = create(entity, body, **kwargs)
        if entity == "VendorCredit":
            fired.append("create")
            raise KeyboardInterrupt
        return result

    def batch_then_die(items: Any, **kwargs: Any) -> Any:
        result = batch(items, **kwargs)
        if any("VendorCredit" in item for item in items):
            fired.append("batch")
            raise KeyboardInterrupt
        return result

    harness.qbo.create, harness.qbo.batch = create_then_die, batch_then_die  # type: ignore[method-assign]
    try:
        yield fired
    finally:
        harness.qbo.create, harness.qbo.batch = create, batch  # type: ignore[method-assign]


@pytest.mark.parametrize("batched", [True, False], ids=["batch", "single"])
def test_a_credit_committed_before_the_worker_died_is_adopted_not_written_again(
    harness, org_a, monkeypatch, batched
):
    from connector.sync import batch as batch_module
    from connector.sync.runs import reap_abandoned

    # Every write one at a time, or in batches however few wait (the credits are seeded last, so
    # they may fall in a short end-of-stream chunk).
    monkeypatch.setattr(batch_module, "MIN_BATCH", 1 if batched else 10**6)
    with _dies_after_qbo_commits_a_credit(harness) as fired, pytest.raises(KeyboardInterrupt):
        harness.run(org_a)
    assert fired == ["batch" if batched else "create"]
    reap_abandoned(harness.sb.clock.now() + timedelta(hours=1))

    _synced(harness, org_a)

    for number in (seed_credits.RETURN_CREDIT, seed_credits.EURO_CREDIT, seed_credits.CREDIT_LATER_POSITIVE):
        credit = _credit(harness, number)  # exactly one
        assert _links(org_a, harness, number) == {f"vendor_credit:VendorCredit:{credit['Id']}"}
    writes = harness.writes()
    _synced(harness, org_a)
    assert harness.writes() == writes


def test_a_worker_killed_between_the_delete_and_the_new_write_leaves_one_object(harness, org_a):
    from connector.sync.runs import reap_abandoned

    number = seed_credits.CREDIT_LATER_POSITIVE
    _synced(harness, org_a)
    harness.sb.procurify.edit_bill(
        "northwind", _uuid(harness, number), lines=seed_credits.CREDIT_REISSUED_LINES
    )
    delete = harness.qbo.delete

    def delete_then_die(*args: Any, **kwargs: Any) -> Any:
        delete(*args, **kwargs)
        raise KeyboardInterrupt

    harness.qbo.delete = delete_then_die  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        harness.run(org_a)
    harness.qbo.delete = delete  # type: ignore[method-assign]
    reap_abandoned(harness.sb.clock.now() + timedelta(hours=1))
    assert _with_marker(harness, "VendorCredit", number) == []

    _synced(harness, org_a)

    [bill] = _with_marker(harness, "Bill", number)
    assert Decimal(str(bill["TotalAmt"])) == Decimal("85.60")
    assert _links(org_a, harness, number) == {f"bill:Bill:{bill['Id']}"}


def test_a_credit_whose_create_was_never_confirmed_is_found_and_removed_when_it_turns_positive(
    harness, org_a, monkeypatch
):
    from connector.sync import batch as batch_module
    from connector.sync.runs import reap_abandoned

    monkeypatch.setattr(batch_module, "MIN_BATCH", 10**6)
    with _dies_after_qbo_commits_a_credit(harness), pytest.raises(KeyboardInterrupt):
        harness.run(org_a)  # dies after the first credit it writes: the return credit
    reap_abandoned(harness.sb.clock.now() + timedelta(hours=1))
    uuid = _uuid(harness, seed_credits.RETURN_CREDIT)
    unconfirmed = ExternalRecord.objects.get(organisation=org_a, procurify_id=uuid)
    assert (
        unconfirmed.qbo_id == ""
        and len(_with_marker(harness, "VendorCredit", seed_credits.RETURN_CREDIT)) == 1
    )
    harness.sb.procurify.edit_bill(
        "northwind",
        uuid,
        lines=[
            {
                "description": "Hex bolts M8 (box of 100)",
                "quantity": 2,
                "unit_cost": "12.50",
                "account_code": "5000",
            }
        ],
    )

    _synced(harness, org_a)

    assert _with_marker(harness, "VendorCredit", seed_credits.RETURN_CREDIT) == []
    [bill] = _with_marker(harness, "Bill", seed_credits.RETURN_CREDIT)
    assert Decimal(str(bill["TotalAmt"])) == Decimal("25.00")
    assert _links(org_a, harness, seed_credits.RETURN_CREDIT) == {f"bill:Bill:{bill['Id']}"}
