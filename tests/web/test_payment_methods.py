"""The Payment methods tab: a person chooses the Bank or Credit Card account each method pays from."""

from __future__ import annotations

from connector.models import AuditEvent, HeldRecord
from mappings.models import PaymentAccountMapping, QBOAccount


def _accounts(org) -> dict[str, QBOAccount]:
    rows = [
        ("1", "Operating Checking", "Bank"),
        ("2", "Amex Corporate Card", "Credit Card"),
        ("3", "Office Supplies", "Expense"),
    ]
    return {
        name: QBOAccount.objects.create(organisation=org, qbo_id=qid, name=name, account_type=kind)
        for qid, name, kind in rows
    }


def _waiting(org, method: str) -> HeldRecord:
    return HeldRecord.objects.create(
        organisation=org,
        object_type="payment",
        procurify_id="a" * 32,
        reason_code="payment_account_unmapped",
        message="Payment of $10.00 USD for bill X by ACH is waiting for a bank account to be chosen.",
        waiting_on_type="payment_account",
        waiting_on_key=method,
    )


def test_the_picker_offers_only_bank_and_card_accounts(owner, org_a) -> None:
    _accounts(org_a)
    PaymentAccountMapping.objects.create(organisation=org_a, method="ACH")
    _waiting(org_a, "ACH")
    page = owner.client.get(f"/o/{org_a.public_id}/mappings/payment-methods/").content.decode()
    assert "Operating Checking (Bank" in page and "Amex Corporate Card (Credit Card" in page
    assert "Office Supplies" not in page
    assert '<span class="badge warn">1</span>' in page


def test_saving_a_method_releases_its_payments_and_is_recorded(owner, org_a) -> None:
    accounts = _accounts(org_a)
    row = PaymentAccountMapping.objects.create(organisation=org_a, method="ACH")
    hold = _waiting(org_a, "ACH")
    url = f"/o/{org_a.public_id}/mappings/payment-methods/{row.public_id}/"
    owner.client.post(url, {"qbo_id": accounts["Office Supplies"].qbo_id})  # not a paying account
    row.refresh_from_db()
    hold.refresh_from_db()
    assert row.qbo_account_id == "" and hold.state == HeldRecord.State.HELD

    owner.client.post(url, {"qbo_id": accounts["Operating Checking"].qbo_id})
    row.refresh_from_db()
    hold.refresh_from_db()
    assert row.qbo_account_id == "1" and row.qbo_account_name == "Operating Checking"
    assert hold.state == HeldRecord.State.RELEASED
    assert AuditEvent.objects.filter(organisation=org_a, data__action="payment_method_mapped").count() == 1


def test_a_viewer_sees_the_choices_but_cannot_save(viewer, org_a) -> None:
    accounts = _accounts(org_a)
    row = PaymentAccountMapping.objects.create(organisation=org_a, method="ACH")
    url = f"/o/{org_a.public_id}/mappings/payment-methods/{row.public_id}/"
    assert viewer.client.post(url, {"qbo_id": accounts["Operating Checking"].qbo_id}).status_code == 403
    page = viewer.client.get(f"/o/{org_a.public_id}/mappings/payment-methods/").content.decode()
    assert "Not chosen" in page and "<select" not in page
