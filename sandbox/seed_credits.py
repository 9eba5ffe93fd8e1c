"""Credits on the distributor's books (issue 15): Procurify has no credit object, so a supplier's credit
note is a bill with a negative total, and a discount is a negative line (procurify.md §7).

Added after every other distributor record, so the older records keep their ids, uuids and numbers.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from .procurify_data import Site
from .seed import bill_record

# Returned goods: -10 boxes of bolts, less a restocking fee the supplier keeps (a positive line).
RETURN_CREDIT = "GLF-CN-0091"  # totals -110.00 USD
# The same in a foreign currency: two stainless sheets sent back to a German supplier.
EURO_CREDIT = "MP-GS-2026-014"  # totals -368.00 EUR
# A positive bill carrying a discount line.
DISCOUNTED_BILL = "OB-7902"  # 410.00 - 20.50 = 389.50 USD
# A credit note the supplier later reissued as an invoice: the tests and the demo edit it with
# CREDIT_REISSUED_LINES (Procurify edit_bill), turning it positive between two syncs.
CREDIT_LATER_POSITIVE = "PPC-CN-0077"  # -42.80 USD, then +85.60 USD
CREDIT_REISSUED_LINES = [
    {"description": "Corrugated cartons 24x18", "quantity": 40, "unit_cost": "2.14", "account_code": "5200"}
]
# A bill the supplier later turned into a credit note (its goods all came back).
BILL_LATER_NEGATIVE = "NOP-88311"  # 128.97 USD, then -128.97 USD
BILL_REVERSED_LINES = [
    {"description": "Copier paper returned", "quantity": -3, "unit_cost": "42.99", "account_code": "6100"}
]


def add(site: Site, now: datetime) -> None:
    _bill(
        site,
        now,
        5,
        "Great Lakes Fasteners",
        RETURN_CREDIT,
        [
            _line("Hex bolts M8 (box of 100) returned", -10, "12.50", "5000"),
            _line("Restocking fee", 1, "15.00", "6200"),
        ],
        note="Credit note for returned goods",
    )
    _bill(
        site,
        now,
        4,
        "Müller Präzisionsteile GmbH",
        EURO_CREDIT,
        [_line("Stainless sheet 2mm returned", -2, "184.00", "5000")],
        currency="EUR",
        note="Gutschrift: returned goods",
    )
    _bill(
        site,
        now,
        3,
        "O'Brien Industrial Supply",
        DISCOUNTED_BILL,
        [_line("Forklift service", 1, "410.00", "6200"), _line("Prompt-pay discount", 1, "-20.50", "6200")],
    )
    _bill(
        site,
        now,
        3,
        "Pacific Packaging Co.",
        CREDIT_LATER_POSITIVE,
        [_line("Corrugated cartons 24x18 (damaged)", -20, "2.14", "5200")],
        note="Credit note for damaged cartons",
    )
    _bill(
        site,
        now,
        2,
        "Northstar Office Products",
        BILL_LATER_NEGATIVE,
        [_line("Copier paper (case)", 3, "42.99", "6100")],
    )


def _bill(site: Site, now: datetime, days: int, vendor: str, number: str, lines: list, **extra: Any) -> None:
    when = now - timedelta(days=days)
    record = bill_record(
        site, when, vendor=vendor, invoice_number=number, lines=lines, invoice_date=when.date(), **extra
    )
    site.add_bill(record)


def _line(description: str, quantity: int, unit_cost: str, code: str) -> dict[str, Any]:
    return {"description": description, "quantity": quantity, "unit_cost": unit_cost, "account_code": code}
