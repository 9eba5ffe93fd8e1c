"""The record step's decisions, pure (connector/sync/decisions.py): no database, no HTTP."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from connector.procurify.schemas import Bill, PurchaseOrder
from connector.procurify.streams import parse_record
from connector.sync import credits
from connector.sync.decisions import (
    HELD,
    Hold,
    Link,
    Skip,
    Write,
    decide_bill,
    decide_purchase_order,
    decide_removed_bill,
    syncable,
)
from connector.sync.transform import PO_CANCELLED, Books, Held, Mappings, Plan, Ref
from connector.sync.writers import payload_hash
from tests.security.security_support import CODE_MAPPED, VENDOR_MAPPED, bill_detail

MAPPINGS = Mappings(
    vendors={VENDOR_MAPPED: Ref("56", "Acme Supplies Ltd", currency="USD")},
    accounts={CODE_MAPPED: Ref("80", "Raw Materials")},
    books=Books(home_currency="USD", multicurrency=True, procurify_base="USD", payables={"USD": "33"}),
)
WRITTEN = Link(written={"bill": {"exchange_rate": "1.25"}}, kinds=frozenset({"bill"}), label="Bill INV-1")
PLAN = Plan("Bill", {"DocNumber": "INV-10442", "Line": []}, "Bill INV-10442", "procurify:bill:x", "56", "1")


def _bill(**overrides: Any) -> Bill:
    return parse_record(Bill, bill_detail(**overrides), "uuid")


def _po(state: int) -> PurchaseOrder:
    return PurchaseOrder.model_validate(
        {"uuid": "9c1f0000000000000000000000000001", "number": "PO-7", "state": state}
    )


def _plans(seen: list[Any]):
    def plan_for(bill: Bill, mappings: Mappings, *, previous_rate: Decimal | None = None) -> Plan:
        seen.append(previous_rate)
        return PLAN

    return plan_for


def _never(*args: Any, **kwargs: Any) -> Plan:
    raise AssertionError("no plan is built for a record that is not written")


def test_an_approved_bill_with_no_link_is_created_with_the_real_plan() -> None:
    bill = _bill()

    decision = decide_bill(bill, Link(), MAPPINGS, credits.plan_for)

    assert isinstance(decision, Write)
    assert decision.kind == "bill" and decision.create and not decision.retire and not decision.refused
    assert decision.plan.payload["VendorRef"] == {"value": "56"}


def test_a_written_bill_is_updated_with_the_rate_quickbooks_holds() -> None:
    rates: list[Any] = []

    decision = decide_bill(_bill(), WRITTEN, MAPPINGS, _plans(rates))

    assert decision == Write("bill", PLAN, create=False)
    assert rates == [Decimal("1.25")]


def test_a_bill_that_changed_sign_retires_its_copy_of_the_other_kind() -> None:
    link = Link(written={"vendor_credit": {}}, kinds=frozenset({"vendor_credit"}))

    decision = decide_bill(_bill(), link, MAPPINGS, _plans([]))

    assert isinstance(decision, Write) and decision.retire and decision.create


def test_a_payload_quickbooks_refused_recently_is_not_sent_again() -> None:
    link = Link(refused_hashes=frozenset({payload_hash(PLAN.payload)}))

    decision = decide_bill(_bill(), link, MAPPINGS, _plans([]))

    assert isinstance(decision, Write) and decision.refused
    assert not decide_bill(_bill(), Link(refused_hashes=frozenset({"other"})), MAPPINGS, _plans([])).refused


def test_a_bill_the_transform_cannot_build_is_held_with_what_it_waits_on() -> None:
    bill = _bill(vendor={"id": 999, "name": "Nobody Ltd", "active": True})

    decision = decide_bill(bill, Link(), MAPPINGS, credits.plan_for)

    assert isinstance(decision, Hold)
    assert decision.reason_code == "vendor_unmapped" and decision.waits_on == ("vendor_mapping", "999")
    held = decision.held()
    assert isinstance(held, Held) and "Nobody Ltd" in held.message


def test_a_draft_bill_is_skipped_and_keeps_its_hold() -> None:
    decision = decide_bill(_bill(status=0), Link(), MAPPINGS, _never)

    assert decision == Skip("Status 0 is not approved yet; not synced.")
    assert not decision.resolve and not syncable(_bill(status=0))


def test_a_bill_sent_back_after_it_was_written_is_held() -> None:
    decision = decide_bill(_bill(status=0), WRITTEN, MAPPINGS, _never)

    assert decision == Hold("bill_unapproved_after_sync", {"bill": "Bill INV-10442 from Acme Supplies Ltd"})


def test_a_void_bill_never_written_is_skipped_and_its_hold_resolved() -> None:
    decision = decide_bill(_bill(status=3), Link(), MAPPINGS, _never)

    assert isinstance(decision, Skip) and decision.resolve and decision.outcome == "skipped"
    assert not syncable(_bill(status=3)) and not syncable(_bill(active=False))


def test_a_void_or_inactive_bill_already_in_quickbooks_waits_for_a_person() -> None:
    for bill in (_bill(status=5), _bill(active=False)):
        decision = decide_bill(bill, WRITTEN, MAPPINGS, _never)
        assert decision == Hold("bill_voided_in_procurify", {"bill": "Bill INV-10442 from Acme Supplies Ltd"})


def test_a_removed_bill_is_skipped_unless_quickbooks_has_it() -> None:
    assert decide_removed_bill(Link()).resolve
    assert decide_removed_bill(WRITTEN) == Hold("bill_removed_in_procurify", {"bill": "Bill INV-1"})


def test_a_cancelled_purchase_order_is_written_only_when_quickbooks_has_it() -> None:
    def po_plan(po: PurchaseOrder, mappings: Mappings) -> Plan:
        return PLAN

    skipped = decide_purchase_order(_po(PO_CANCELLED), Link(), MAPPINGS, _never, "purchase_order")
    closed = decide_purchase_order(
        _po(PO_CANCELLED), Link(written={"purchase_order": {}}), MAPPINGS, po_plan, "purchase_order"
    )
    fresh = decide_purchase_order(_po(0), Link(), MAPPINGS, po_plan, "purchase_order")

    assert isinstance(skipped, Skip) and skipped.resolve
    assert closed == Write("purchase_order", PLAN, create=False)
    assert fresh == Write("purchase_order", PLAN, create=True)


def test_a_purchase_order_the_transform_refuses_is_held() -> None:
    def refuse(po: PurchaseOrder, mappings: Mappings) -> Plan:
        raise Held("qbo_validation", detail="the purchase order has no lines.")

    decision = decide_purchase_order(_po(0), Link(), MAPPINGS, refuse, "purchase_order")

    assert decision == Hold("qbo_validation", {"detail": "the purchase order has no lines."})
    assert HELD == "held"
