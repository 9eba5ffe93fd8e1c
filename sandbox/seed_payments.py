"""Payments for the distributor (procurify.md §3, §7): the cases a payment sync must not get wrong.

Added after every other record of the seed and without the site's rng (bill uuids from uuid5), so
older records keep their ids, uuids and numbers.
"""

from __future__ import annotations

import uuid as uuidlib
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from .procurify_data import BILL_STATUS, Site
from .procurify_payments import add_payment
from .procurify_render import bill_totals
from .seed import bill_record

_NAMESPACE = uuidlib.UUID("0b7d4b1e-8f5a-4f43-a3c2-6b1f0f6a8d21")
# invoice number -> the story it tells (tests look bills up by number)
FULLY_PAID = "PAY-FULL-1"  # paid by paper check
PARTLY_PAID = "PAY-PART-1"  # two payments: one paid by ACH, one still processing
FAILED = "PAY-FAIL-1"  # the only payment failed: nothing to record
REVERSED = "PAY-REV-1"  # paid, then reversed (status back to failed, posted date kept)
TWO_BILLS = ("PAY-TWO-A", "PAY-TWO-B")  # one card payment made outside Procurify covers both
OTHER_CURRENCY = "PAY-FX-1"  # a EUR bill paid by a USD wire: the payment's currency differs
PART_PAID_SHARE = Decimal("0.40")


def seed(site: Site, now: datetime) -> None:
    full = _bill(
        site, now, 5, "Northstar Office Products", FULLY_PAID, "paid", ("Toner cartridges", 4, "86.25")
    )
    add_payment(site, now - timedelta(days=2), bill_uuids=[full["uuid"]], rail="PAPER_CHECK")

    part = _bill(
        site, now, 6, "Great Lakes Fasteners", PARTLY_PAID, "approved", ("Hex bolts M8", 30, "12.50")
    )
    total = bill_totals(part)["total"]
    first = (total * PART_PAID_SHARE).quantize(Decimal("0.01"))
    add_payment(site, now - timedelta(days=3), bill_uuids=[part["uuid"]], amount=first, rail="ACH")
    add_payment(
        site, now - timedelta(days=1), bill_uuids=[part["uuid"]], amount=total - first, status="processing"
    )

    failed = _bill(
        site, now, 7, "Pacific Packaging Co.", FAILED, "approved", ("Stretch wrap 18in", 12, "21.40")
    )
    add_payment(site, now - timedelta(days=2), bill_uuids=[failed["uuid"]], status="failed", posted=None)

    reversed_ = _bill(
        site, now, 8, "O'Brien Industrial Supply", REVERSED, "approved", ("Hose repair", 1, "265.00")
    )
    add_payment(
        site,
        now - timedelta(days=4),
        bill_uuids=[reversed_["uuid"]],
        status="failed",
        posted=(now - timedelta(days=4)).date(),  # it had posted before it came back
    )

    pair = [
        _bill(site, now, 9, "Pacific Packaging Co.", number, "paid", ("Corrugated cartons 24x18", n, "1.85"))
        for number, n in zip(TWO_BILLS, (100, 60), strict=True)
    ]
    add_payment(
        site,
        now - timedelta(days=2),
        bill_uuids=[b["uuid"] for b in pair],
        rail=None,
        source_type="external",
        source_name="Amex Corporate Card",
    )

    fx = _bill(site, now, 10, "Helvetia Tools GmbH", OTHER_CURRENCY, "paid", ("Gauge blocks", 2, "240.00"))
    add_payment(
        site,
        now - timedelta(days=2),
        bill_uuids=[fx["uuid"]],
        amount=bill_totals(fx)["total"] * Decimal("1.08"),
        rail="FEDWIRE",
        currency="USD",
    )
    _random_paid_bills(site, now)


def _random_paid_bills(site: Site, now: datetime) -> None:
    """Every other bill Procurify shows as paid was paid by ACH on its paid date."""
    for bill in sorted(site.bills.values(), key=lambda b: b["id"]):
        if bill["status"] != BILL_STATUS["paid"] or bill.get("group") is not None:
            continue
        paid_on = bill.get("paid_on") or bill["last_modified"].date()
        when = min(now, datetime.combine(paid_on, bill["last_modified"].timetz()))
        add_payment(site, when, bill_uuids=[bill["uuid"]], rail="ACH", posted=min(paid_on, now.date()))


def _bill(
    site: Site, now: datetime, days: int, vendor: str, number: str, status: str, line: tuple[str, int, str]
) -> dict[str, Any]:
    when = now - timedelta(days=days)
    description, quantity, unit_cost = line
    code = "6100" if vendor.startswith("Northstar") else "6200" if "Brien" in vendor else "5200"
    if vendor.startswith(("Great Lakes", "Helvetia")):
        code = "5000" if vendor.startswith("Great") else "6400"
    record = bill_record(
        site,
        when,
        vendor=vendor,
        invoice_number=number,
        lines=[
            {"description": description, "quantity": quantity, "unit_cost": unit_cost, "account_code": code}
        ],
        status=status,
        invoice_date=(when - timedelta(days=1)).date(),
    )
    record["uuid"] = uuidlib.uuid5(_NAMESPACE, f"{site.domain}:{number}").hex
    return site.add_bill(record)
