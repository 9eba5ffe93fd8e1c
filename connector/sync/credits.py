"""Pure: a Procurify bill whose total is negative is a credit from the supplier → a QBO VendorCredit.

Procurify has no credit object: a credit note is a bill with a negative total, or negative lines
(docs/qbo-facts.md, "Credits"). QuickBooks refuses a Bill that totals below zero and
records the same thing as a VendorCredit with the signs turned round: the lines of a VendorCredit
add up to the (positive) amount the vendor owes back. Everything else follows the bill's rules
(vendor, currency, rate, A/P account, dates, lines to the cent), so the plan is the bill's plan,
turned into a credit.

A bill with negative lines but a total of zero or more stays a Bill: QuickBooks takes negative lines
as long as the whole does not go below zero.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from connector.kinds import BILL_LINKS, RecordKind
from connector.procurify.schemas import Bill
from connector.sync.transform import CENT, Held, Mappings, Plan, bill_label, bill_plan

CREDIT_PREFIX = "Vendor credit"
# A VendorCredit has no due date and no payment terms (docs/qbo-facts.md, "Credits").
NOT_ON_A_CREDIT = ("DueDate", "SalesTermRef")


def is_credit(bill: Bill) -> bool:
    total = bill.total_cost_with_tax
    return total is not None and Decimal(total).quantize(CENT) < 0


def link_type(bill: Bill) -> str:
    """The kind of QBO object this version of the bill is written as."""
    return RecordKind.VENDOR_CREDIT if is_credit(bill) else RecordKind.BILL


def record_type(link: str) -> str:
    """Holds, audit and counts stay on the Procurify record, which is a bill whatever its sign."""
    return RecordKind.BILL if link in BILL_LINKS else link


def label(bill: Bill) -> str:
    text = bill_label(bill)
    return f"{CREDIT_PREFIX}{text.removeprefix('Bill')}" if is_credit(bill) else text


def plan_for(bill: Bill, mappings: Mappings, *, previous_rate: Decimal | None = None) -> Plan:
    """The QBO Bill, or for a negative bill the QBO VendorCredit, or `Held`."""
    if not is_credit(bill):
        return bill_plan(bill, mappings, previous_rate=previous_rate)
    return credit_plan(bill, mappings, previous_rate=previous_rate)


def credit_plan(bill: Bill, mappings: Mappings, *, previous_rate: Decimal | None = None) -> Plan:
    name = label(bill)
    plan = bill_plan(bill, mappings, previous_rate=previous_rate, label=name)
    payload = {k: v for k, v in plan.payload.items() if k not in NOT_ON_A_CREDIT}
    payload["Line"] = [_credit_line(line) for line in plan.payload["Line"]]
    owed_back = Decimal(0) - Decimal(bill.total_cost_with_tax or 0).quantize(CENT)
    written = sum((line["Amount"] for line in payload["Line"]), Decimal(0))
    if written != owed_back:  # cannot happen while the lines are the bill's, negated; never sent if it does
        raise Held("bill_total_mismatch", bill=name, lines=-written, total=-owed_back)
    return Plan("VendorCredit", payload, name, plan.marker, plan.vendor_id, plan.doc_number)


def _credit_line(line: dict[str, Any]) -> dict[str, Any]:
    # The bill's line with its sign turned round. A PO link is left off: a credit does not bill a PO line.
    out = {k: v for k, v in line.items() if k != "LinkedTxn"}
    out["Amount"] = Decimal(0) - line["Amount"]
    return out
