"""Issue 15: payments made in Procurify become QuickBooks BillPayments, against the sandbox."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from connector.kinds import RecordKind
from connector.models import AuditEvent, ExternalRecord, HeldRecord, SyncRun
from mappings.models import PaymentAccountMapping, QBOAccount
from mappings.payment_accounts import NotAPayingAccount, save_payment_account
from sandbox import seed_payments as stories
from sandbox.procurify_render import bill_totals
from tests.engine.conftest import Harness

PAYMENT = RecordKind.PAYMENT


def _run(harness: Harness, org) -> SyncRun:
    run = harness.run(org)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    return run


def _account_id(org, name: str) -> str:
    return QBOAccount.objects.get(organisation=org, name=name).qbo_id


def _map(org, method: str, account: str) -> None:
    save_payment_account(org, method, _account_id(org, account))


def _payments(harness: Harness) -> list[dict]:
    return harness.sb.qbo.objects(harness.realm_id, "BillPayment")


def _qbo_bill(harness: Harness, number: str) -> dict:
    return harness.bill_by_doc(number)


def _procurify_payments(harness: Harness, number: str) -> list[dict]:
    group = harness.procurify_bill(number)["group"]
    return [p for p in harness.sb.procurify.payments("northwind") if group in p["bill_groups"]]


def _hold(org, payment_uuid: str) -> HeldRecord:
    return HeldRecord.objects.get(organisation=org, object_type=PAYMENT, procurify_id=payment_uuid)


def _total(harness: Harness, number: str) -> Decimal:
    return bill_totals(harness.procurify_bill(number))["total"]


def test_an_unmapped_method_is_held_with_a_sentence_then_recorded_once_when_mapped(harness, org_a):
    _run(harness, org_a)
    (paid,) = _procurify_payments(harness, stories.FULLY_PAID)
    hold = _hold(org_a, paid["uuid"])
    assert hold.reason_code == "payment_account_unmapped" and hold.state == HeldRecord.State.HELD
    assert _total(harness, stories.FULLY_PAID) == Decimal("345.00")
    assert hold.message.startswith(
        "Payment of 345.00 USD for bill PAY-FULL-1 by Paper check is waiting for a bank account to be "
        "chosen for Paper check payments."
    )
    assert not _payments(harness) and _qbo_bill(harness, stories.FULLY_PAID)["Balance"] > 0

    _map(org_a, "PAPER_CHECK", "Operating Checking")
    assert _hold(org_a, paid["uuid"]).state == HeldRecord.State.RELEASED
    _run(harness, org_a)
    (payment,) = _payments(harness)
    bill = _qbo_bill(harness, stories.FULLY_PAID)
    assert payment["PayType"] == "Check"
    assert payment["CheckPayment"]["BankAccountRef"]["value"] == _account_id(org_a, "Operating Checking")
    assert Decimal(str(payment["TotalAmt"])) == _total(harness, stories.FULLY_PAID)
    assert payment["TxnDate"] == paid["posted_date"]
    assert payment["Line"][0]["LinkedTxn"] == [{"TxnId": bill["Id"], "TxnType": "Bill"}]
    assert f"procurify:payment:{paid['uuid']}" in payment["PrivateNote"]
    assert bill["Balance"] == 0
    assert _hold(org_a, paid["uuid"]).state == HeldRecord.State.RESOLVED

    writes = harness.writes()
    _run(harness, org_a)
    assert harness.writes() == writes and len(_payments(harness)) == 1  # a rerun writes nothing


def test_a_partial_payment_applies_only_its_amount(harness, org_a):
    _run(harness, org_a)
    _map(org_a, "ACH", "Operating Checking")
    _run(harness, org_a)
    total = _total(harness, stories.PARTLY_PAID)
    paid, processing = sorted(_procurify_payments(harness, stories.PARTLY_PAID), key=lambda p: p["status"])
    assert (paid["status"], processing["status"]) == ("paid", "processing")
    bill = _qbo_bill(harness, stories.PARTLY_PAID)
    assert Decimal(str(bill["Balance"])) == total - Decimal(paid["amount"])  # to the cent

    harness.sb.clock.advance(minutes=1)  # changed after the last run started
    harness.sb.procurify.set_payment_status("northwind", processing["uuid"], "paid")
    _run(harness, org_a)
    assert _qbo_bill(harness, stories.PARTLY_PAID)["Balance"] == 0
    linked = [p for p in _payments(harness) if p["Line"][0]["LinkedTxn"][0]["TxnId"] == bill["Id"]]
    assert sorted(Decimal(str(p["TotalAmt"])) for p in linked) == sorted(
        [Decimal(paid["amount"]), Decimal(processing["amount"])]
    )


def test_a_reversed_payment_is_deleted_in_quickbooks_and_the_bill_is_open_again(harness, org_a):
    _run(harness, org_a)
    _map(org_a, "PAPER_CHECK", "Operating Checking")
    _run(harness, org_a)
    (paid,) = _procurify_payments(harness, stories.FULLY_PAID)
    record = ExternalRecord.objects.get(organisation=org_a, object_type=PAYMENT, procurify_id=paid["uuid"])
    assert _qbo_bill(harness, stories.FULLY_PAID)["Balance"] == 0

    harness.sb.clock.advance(minutes=1)  # changed after the last run started
    harness.sb.procurify.set_payment_status("northwind", paid["uuid"], "failed")
    _run(harness, org_a)
    assert record.qbo_id not in {p["Id"] for p in _payments(harness)}
    bill = _qbo_bill(harness, stories.FULLY_PAID)
    assert Decimal(str(bill["Balance"])) == _total(harness, stories.FULLY_PAID) and "LinkedTxn" not in bill
    assert not ExternalRecord.objects.filter(
        organisation=org_a, object_type=PAYMENT, procurify_id=paid["uuid"]
    )
    event = AuditEvent.objects.get(
        organisation=org_a, procurify_id=paid["uuid"], data__action="deleted_in_qbo"
    )
    assert event.data["qbo_id"] == record.qbo_id

    harness.sb.clock.advance(minutes=1)  # changed after the last run started
    harness.sb.procurify.set_payment_status("northwind", paid["uuid"], "paid")  # paid again: recorded afresh
    _run(harness, org_a)
    assert _qbo_bill(harness, stories.FULLY_PAID)["Balance"] == 0


def test_one_card_payment_for_two_bills_pays_both_from_the_card_account(harness, org_a):
    _run(harness, org_a)
    _map(org_a, "EXTERNAL", "Amex Corporate Card")
    _run(harness, org_a)
    a, b = (_qbo_bill(harness, n) for n in stories.TWO_BILLS)
    (payment,) = [p for p in _payments(harness) if p["PayType"] == "CreditCard"]
    assert payment["CreditCardPayment"]["CCAccountRef"]["value"] == _account_id(org_a, "Amex Corporate Card")
    assert {line["LinkedTxn"][0]["TxnId"]: line["Amount"] for line in payment["Line"]} == {
        a["Id"]: a["TotalAmt"],
        b["Id"]: b["TotalAmt"],
    }
    assert a["Balance"] == 0 and b["Balance"] == 0


def test_failed_and_foreign_currency_payments_are_not_recorded(harness, org_a):
    _run(harness, org_a)
    for method in ("ACH", "FEDWIRE", "PAPER_CHECK", "EXTERNAL"):
        _map(org_a, method, "Operating Checking")
    _run(harness, org_a)
    (failed,) = _procurify_payments(harness, stories.FAILED)
    (reversed_,) = _procurify_payments(harness, stories.REVERSED)
    recorded = set(
        ExternalRecord.objects.filter(organisation=org_a, object_type=PAYMENT).values_list(
            "procurify_id", flat=True
        )
    )
    assert failed["uuid"] not in recorded and reversed_["uuid"] not in recorded
    assert _qbo_bill(harness, stories.FAILED)["Balance"] == _qbo_bill(harness, stories.FAILED)["TotalAmt"]
    (fx,) = _procurify_payments(harness, stories.OTHER_CURRENCY)
    hold = _hold(org_a, fx["uuid"])
    assert (
        hold.reason_code == "payment_currency_mismatch"
        and "made in USD, but the bill is in EUR" in hold.message
    )


def test_a_payment_waits_for_its_bill(harness, org_a, sb):
    # A paid bill whose vendor is not mapped never reaches QuickBooks: its payment waits for it.
    _run(harness, org_a)
    _map(org_a, "ACH", "Operating Checking")
    _run(harness, org_a)
    waiting = HeldRecord.objects.filter(
        organisation=org_a, object_type=PAYMENT, reason_code="payment_waiting_for_bill"
    )
    assert waiting.exists()
    for hold in waiting:
        bills = hold.detail["bills"].split(",")
        assert not ExternalRecord.objects.filter(
            organisation=org_a, object_type="bill", procurify_id__in=bills
        )
        assert re.match(r"Payment of [\d,]+\.\d\d USD for bill ", hold.message), hold.message


def test_only_bank_and_card_accounts_can_pay(harness, org_a):
    _run(harness, org_a)
    with pytest.raises(NotAPayingAccount):
        save_payment_account(org_a, "ACH", QBOAccount.objects.get(organisation=org_a, acct_num="6100").qbo_id)
    assert not PaymentAccountMapping.objects.get(organisation=org_a, method="ACH").qbo_account_id


def test_a_crash_after_quickbooks_committed_the_payment_leaves_one_billpayment(harness, org_a):
    _run(harness, org_a)
    _map(org_a, "PAPER_CHECK", "Operating Checking")
    create = harness.qbo.create

    def create_then_die(entity, body, **kwargs):
        result = create(entity, body, **kwargs)
        if entity == "BillPayment":
            raise KeyboardInterrupt
        return result

    harness.qbo.create = create_then_die  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        harness.run(org_a)
    harness.qbo.create = create  # type: ignore[method-assign]
    SyncRun.objects.filter(organisation=org_a, status=SyncRun.Status.RUNNING).update(
        status=SyncRun.Status.ABANDONED
    )
    _run(harness, org_a)
    (paid,) = _procurify_payments(harness, stories.FULLY_PAID)
    mine = [p for p in _payments(harness) if paid["uuid"] in (p.get("PrivateNote") or "")]
    assert len(mine) == 1 and _qbo_bill(harness, stories.FULLY_PAID)["Balance"] == 0


def test_a_payment_reversed_after_a_crash_left_its_create_unconfirmed_is_still_deleted(harness, org_a):
    _run(harness, org_a)
    _map(org_a, "PAPER_CHECK", "Operating Checking")
    create = harness.qbo.create

    def create_then_die(entity, body, **kwargs):
        result = create(entity, body, **kwargs)
        if entity == "BillPayment":
            raise KeyboardInterrupt
        return result

    harness.qbo.create = create_then_die  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        harness.run(org_a)
    harness.qbo.create = create  # type: ignore[method-assign]
    SyncRun.objects.filter(organisation=org_a, status=SyncRun.Status.RUNNING).update(
        status=SyncRun.Status.ABANDONED
    )
    (paid,) = _procurify_payments(harness, stories.FULLY_PAID)
    link = ExternalRecord.objects.get(organisation=org_a, object_type=PAYMENT, procurify_id=paid["uuid"])
    assert link.state == ExternalRecord.State.CREATING and not link.qbo_id
    assert _qbo_bill(harness, stories.FULLY_PAID)["Balance"] == 0  # QuickBooks did commit it

    harness.sb.clock.advance(minutes=1)
    harness.sb.procurify.set_payment_status("northwind", paid["uuid"], "denied")
    _run(harness, org_a)
    assert not [p for p in _payments(harness) if paid["uuid"] in (p.get("PrivateNote") or "")]
    assert Decimal(str(_qbo_bill(harness, stories.FULLY_PAID)["Balance"])) == _total(
        harness, stories.FULLY_PAID
    )
