"""A Canadian organisation: Maplewood Building Supply, Vancouver with a Toronto branch.

QuickBooks Canada taxes every bill line (GST, HST, PST) and this company tracks classes per line and
locations; Procurify carries each line's tax name, percentage and whether the price includes it
(procurify.md §3). Awkward on purpose: several rates on one bill, a tax-inclusive bill, a bill whose
line-by-line tax rounding differs from QuickBooks' per-rate rounding, a tax QuickBooks has no code
for (QST), a bill spread over two locations, and a sales-only and an inactive tax code in QuickBooks.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from . import seed_qbo
from .procurify_data import Site
from .qbo_store import Realm
from .qbo_tax import add_name, add_tax_code, add_tax_rate
from .seed import Tenant, bill_record, credentials, domain_name, realm_id

REALM_OFFSET = 500  # realm ids apart from the distributor's
VENDORS = [
    "Coastal Office Supply Ltd.",  # BC: GST + PST
    "Lakeshore Industrial Inc.",  # ON: HST
    "Prairie Freight Co.",  # GST only
    "Northern Software Inc.",  # prices include HST
    "Fraser Valley Farms",  # zero-rated groceries
    "Laurentian Outils Inc.",  # Quebec: QST, which this company has no code for
]
CODES = [
    ("5000", "Building Materials", "Cost of Goods Sold"),
    ("5100", "Freight In", "Cost of Goods Sold"),
    ("6100", "Office Supplies", "Expense"),
    ("6200", "Repairs & Maintenance", "Expense"),
    ("6300", "Software", "Expense"),
    ("6400", "Staff Meals", "Expense"),
]
LOCATIONS = ["Vancouver HQ", "Toronto Branch"]
DEPARTMENTS = [("Operations", 0), ("Administration", 0), ("Warehouse", 1), ("Sales", 1)]
CLASSES = ["Operations", "Administration", "Warehouse", "Sales"]


def build(index: int, now: datetime, **_options: Any) -> Tenant:
    domain = domain_name("maplewood", index)
    client_id, secret = credentials(domain)
    site = Site(
        domain,
        client_id,
        secret,
        company_name="Maplewood Building Supply",
        rng=random.Random(f"canada:{domain}"),
    )
    _procurify(site, now)
    _bills(site, now)
    return Tenant(site, _qbo(realm_id(index, REALM_OFFSET), now))


def _procurify(site: Site, now: datetime) -> None:
    site.add_currency("CAD", "1.000000", base=True)
    locations = [site.add_location(name, headquarter=i == 0)["id"] for i, name in enumerate(LOCATIONS)]
    for name, loc in DEPARTMENTS:
        site.add_department(name, locations[loc])
    for code, description, _kind in CODES:
        site.add_account_code(code, description, 2)
    site.add_vendor("OTHER", now - timedelta(days=400), type=1)
    for position, name in enumerate(VENDORS):
        site.add_vendor(
            name,
            now - timedelta(days=300 - position),
            type=4,
            currency=site.currency_id("CAD"),
            email=[f"ap{position}@supplier.example"],
            country="Canada",
        )


def _line(
    description: str, quantity: int, unit_cost: str, code: str, dept: str, tax: str, pct: str, **extra: Any
) -> dict[str, Any]:
    return {
        "description": description,
        "quantity": quantity,
        "unit_cost": unit_cost,
        "account_code": code,
        "department": dept,
        "tax_name": tax,
        "tax_percentage": pct,
        **extra,
    }


def _bills(site: Site, now: datetime) -> None:
    def bill(days: int, vendor: str, number: str, lines: list[dict[str, Any]]) -> None:
        when = now - timedelta(days=days)
        site.add_bill(
            bill_record(
                site,
                when,
                vendor=vendor,
                invoice_number=number,
                lines=lines,
                currency="CAD",
                invoice_date=(when - timedelta(days=1)).date(),
            )
        )

    # Several rates on one bill, tax on top: GST 5% on one line, GST+PST BC 12% on two.
    bill(
        12,
        "Coastal Office Supply Ltd.",
        "COS-55120",
        [
            _line("Copier paper (case)", 10, "42.99", "6100", "Administration", "GST", "5.00"),
            _line("Desk chairs", 4, "189.50", "6100", "Administration", "GST/PST BC", "12.00"),
            _line("Shelving units", 2, "310.00", "6200", "Operations", "GST/PST BC", "12.00"),
        ],
    )
    # HST on top, two departments of the Toronto branch (classes differ per line, one location).
    bill(
        10,
        "Lakeshore Industrial Inc.",
        "LI-2026-0088",
        [
            _line("Pallet racking", 3, "1240.00", "5000", "Warehouse", "HST ON", "13.00"),
            _line("Display stands", 5, "86.40", "6200", "Sales", "HST ON", "13.00"),
        ],
    )
    # Prices include HST: 1,130.00 holds 130.00 of tax.
    bill(
        9,
        "Northern Software Inc.",
        "NS-INV-7001",
        [
            _line(
                "Estimating software (annual)",
                1,
                "1130.00",
                "6300",
                "Operations",
                "HST ON",
                "13.00",
                tax_inclusive=True,
            )
        ],
    )
    # Zero-rated: a tax code with a 0% rate is still a tax code.
    bill(
        8,
        "Fraser Valley Farms",
        "FVF-301",
        [_line("Fruit boxes", 6, "24.00", "6400", "Operations", "Zero-rated", "0")],
    )
    # Line-by-line GST rounds to 1.06 + 1.06, QuickBooks' per-rate GST on 42.60 to 2.13: a cent apart.
    bill(
        7,
        "Prairie Freight Co.",
        "PF-4410",
        [
            _line("Courier Vancouver-Calgary", 1, "21.30", "5100", "Operations", "GST", "5.00"),
            _line("Courier Vancouver-Kelowna", 1, "21.30", "5100", "Administration", "GST", "5.00"),
        ],
    )
    # QST: QuickBooks has no code for it in this company.
    bill(
        6,
        "Laurentian Outils Inc.",
        "LO-9912",
        [_line("Outils de coupe", 2, "150.00", "6200", "Operations", "QST", "9.975")],
    )
    # Departments of both locations on one bill: QuickBooks takes one location per bill.
    bill(
        5,
        "Prairie Freight Co.",
        "PF-4475",
        [
            _line("Freight to Vancouver", 1, "400.00", "5100", "Operations", "GST", "5.00"),
            _line("Freight to Toronto", 1, "600.00", "5100", "Warehouse", "GST", "5.00"),
        ],
    )


def _qbo(rid: str, now: datetime) -> Realm:
    realm = seed_qbo.new_realm(rid, "Maplewood Building Supply", {}, None, multicurrency=False)
    realm.home_currency = "CAD"
    realm.country = "CA"
    realm.class_tracking_per_line = True
    realm.track_departments = True
    past = now - timedelta(days=365)
    seed_qbo.payables(realm, past, ["CAD"])
    accounts: list[tuple[str | None, str, str, bool]] = [
        ("1000", "Chequing", "Bank", True),
        ("4000", "Sales", "Income", True),
    ]
    accounts += [(code, description, kind, True) for code, description, kind in CODES]
    seed_qbo.chart(realm, past, accounts)
    seed_qbo.standard_terms(realm, past)
    rates = {
        name: add_tax_rate(realm, past, f"{name} (Purchase)", pct)
        for name, pct in (("GST", "5"), ("HST ON", "13"), ("PST BC", "7"), ("ZR", "0"), ("EX", "0"))
    }
    add_tax_code(realm, past, "GST", [rates["GST"]])
    add_tax_code(realm, past, "HST ON", [rates["HST ON"]])
    add_tax_code(realm, past, "PST BC", [rates["PST BC"]])
    add_tax_code(realm, past, "GST/PST BC", [rates["GST"], rates["PST BC"]])
    add_tax_code(realm, past, "Zero-rated", [rates["ZR"]])
    add_tax_code(realm, past, "Exempt", [rates["EX"]])
    add_tax_code(realm, past, "PST BC Sales", [rates["PST BC"]], sales_only=True)  # cannot be used on bills
    old = add_tax_code(realm, past, "HST NS 2019", [add_tax_rate(realm, past, "HST NS (Purchase)", "15")])
    old["Active"] = False
    for name in CLASSES:
        add_name(realm, past, "Class", name)
    add_name(realm, past, "Class", "Retired Projects", active=False)
    for name in ("Vancouver", "Toronto"):
        add_name(realm, past, "Department", name)
    for name in VENDORS[:-1]:  # Laurentian is created by the sync
        seed_qbo.add(realm, "Vendor", past, DisplayName=name.rstrip("."))
    return realm
