"""Which QuickBooks account each Procurify payment method pays from (issue 15).

Only Bank and Credit Card accounts can pay a bill (a BillPayment pays by Check from a Bank account or
by CreditCard from a Credit Card account; docs/qbo-facts.md "Bill payments"). Saving a choice releases
the payments waiting for it.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from connector.sync.holds import release_waiting
from mappings.models import PaymentAccountMapping, QBOAccount
from tenants.models import Organisation

PAYING_TYPES = ("Bank", "Credit Card")
WAITING_ON = "payment_account"  # HeldRecord.waiting_on_type; the key is the method
METHOD_LABELS = {
    "ACH": "ACH",
    "FEDWIRE": "Wire (Fedwire)",
    "PAPER_CHECK": "Paper check",
    "LOCAL": "Local bank transfer",
    "EXTERNAL": "Paid outside Procurify (card, cash, …)",
    "DIRECT_DEBIT": "Direct debit",
    "FINANCIAL_ACCOUNT": "Procurify financial account",
}


class NotAPayingAccount(ValueError):
    """The chosen account cannot pay bills (not Bank or Credit Card, inactive, or unknown)."""


def method_label(method: str) -> str:
    return METHOD_LABELS.get(method, method.replace("_", " ").title())


def paying_accounts(organisation: Organisation) -> list[QBOAccount]:
    return list(
        QBOAccount.objects.filter(
            organisation=organisation, account_type__in=PAYING_TYPES, active=True
        ).order_by("account_type", "name")
    )


def seen_method(organisation: Organisation, method: str) -> PaymentAccountMapping:
    """The row of a method a payment used, created unmapped the first time (so it shows on the page)."""
    row, _ = PaymentAccountMapping.objects.get_or_create(organisation=organisation, method=method)
    return row


def save_payment_account(
    organisation: Organisation, method: str, qbo_account_id: str, *, user: Any = None
) -> PaymentAccountMapping:
    account = QBOAccount.objects.filter(organisation=organisation, qbo_id=qbo_account_id, active=True).first()
    if account is None or account.account_type not in PAYING_TYPES:
        raise NotAPayingAccount("Choose an active Bank or Credit Card account: only those can pay a bill.")
    with transaction.atomic():
        row, _ = PaymentAccountMapping.objects.select_for_update().get_or_create(
            organisation=organisation, method=method
        )
        row.qbo_account_id = account.qbo_id
        row.qbo_account_name = account.fully_qualified_name or account.name
        row.decided_at, row.decided_by = timezone.now(), user
        row.save()
        release_waiting(organisation, WAITING_ON, method)
    return row
