"""Which QuickBooks accounts a Procurify account code may map to: those a bill's expense line accepts.

QuickBooks refuses a Bill whose AccountBasedExpenseLineDetail points at an account of another type
(fault 6430 "Invalid account type used"; docs/qbo-facts.md "Accounts a bill line accepts"), and the
sandbox refuses it the same way (sandbox/qbo_entities.py EXPENSE_TYPES). Offering only these types
means a mapping can never be the reason a bill is refused.
"""

from __future__ import annotations

from django.db.models import QuerySet

from mappings.models import QBOAccount
from tenants.models import Organisation

BILL_LINE_TYPES = ("Expense", "Other Expense", "Cost of Goods Sold")


def fits_bill_line(account: QBOAccount) -> bool:
    return account.account_type in BILL_LINE_TYPES


def pickable(organisation: Organisation) -> QuerySet[QBOAccount]:
    return QBOAccount.objects.filter(
        organisation=organisation, active=True, account_type__in=BILL_LINE_TYPES
    ).order_by("acct_num", "name")


def label(account: QBOAccount) -> str:
    """'6100 Office supplies · Expense': the number and the type a controller checks before choosing."""
    name = f"{account.acct_num} {account.fully_qualified_name or account.name}".strip()
    return f"{name} · {account.account_type}"


def refusal(account: QBOAccount) -> str:
    return (
        f"QuickBooks account '{account}' is a {account.account_type or 'account of unknown type'}; "
        f"a bill line needs an {', '.join(BILL_LINE_TYPES[:-1])} or {BILL_LINE_TYPES[-1]} account. "
        "Nothing was saved."
    )
