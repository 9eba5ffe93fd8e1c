"""The demo company: Northwind, a mid-sized manufacturing distributor with a dozen suppliers.

Deterministic: random.Random("distributor:<domain>") drives every choice, and dates are offsets
from the clock's now, so a frozen clock gives byte-identical data.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal

from . import seed_qbo
from .procurify_data import Site
from .seed import Tenant, bill_record, credentials, domain_name, realm_id

# (Procurify name, currency, QBO counterpart: name, "inactive", or None)
SUPPLIERS = [
    ("Acme Supplies Ltd", "USD", "ACME Supplies, Inc."),  # near-duplicate, not the same string
    ("O'Brien Industrial Supply", "USD", "O'Brien Industrial Supply"),
    ("Great Lakes Fasteners", "USD", "Great Lakes Fasteners"),
    ("Pacific Packaging Co.", "USD", "Pacific Packaging Co"),  # matches once punctuation is normalised
    ("Müller Präzisionsteile GmbH", "EUR", "Müller Präzisionsteile GmbH"),
    ("Café Québec Métallurgie Inc.", "CAD", "Cafe Quebec Metallurgie Inc"),  # matches once accents fold
    ("Summit Steel & Wire", "USD", None),  # a QBO Customer already has this name -> 6240
    ("Delta Freight Logistics", "USD", "inactive"),  # QBO vendor made inactive -> 610
    ("Brightline Electrical Supply", "USD", None),
    ("Evergreen Janitorial Services", "USD", None),
    ("Keystone Hydraulics & Pneumatics Manufacturing Company of North America", "USD", None),  # > 50 chars
    ("Northstar Office Products", "USD", "Northstar Office Products"),
]
# (code, description, Procurify account_type, QBO AccountType or None for "no match", QBO active)
CODES = [
    ("5000", "Raw Materials", 2, "Cost of Goods Sold", True),
    ("5100", "Freight In", 2, "Cost of Goods Sold", True),
    ("5200", "Packaging Materials", 2, "Cost of Goods Sold", True),
    ("6100", "Office Supplies", 2, "Expense", True),
    ("6200", "Repairs & Maintenance", 2, "Expense", True),
    ("6300", "Utilities", 2, "Expense", True),
    ("6400", "Shop Supplies", 2, "Expense", True),
    ("6500", "Software Subscriptions", 2, "Expense", False),  # inactive in QBO -> 610
    ("6550", "Safety Equipment", 2, None, True),  # no QBO account with this number
    ("1500", "Shop Equipment", 0, "Fixed Asset", True),  # not an expense account in QBO -> 6430
]
RATES = {"USD": "1.000000", "CAD": "0.730000", "EUR": "1.080000"}
DEPARTMENTS = [("Operations", 0), ("Warehouse", 0), ("Maintenance", 0), ("Administration", 0), ("Sales", 1)]
PRODUCTS = [
    ("Hex bolts M8 (box of 100)", "5000", "12.50"),
    ("Stainless sheet 2mm", "5000", "184.00"),
    ("Corrugated cartons 24x18", "5200", "1.85"),
    ("Stretch wrap 18in", "5200", "21.40"),
    ("Inbound freight", "5100", "340.00"),
    ("Copier paper (case)", "6100", "42.99"),
    ("Hydraulic hose repair", "6200", "265.00"),
    ("Forklift service", "6200", "410.00"),
    ("Shop towels (bale)", "6400", "58.00"),
    ("Nitrile gloves (case)", "6550", "74.50"),
    ("Inventory software seat", "6500", "89.00"),
]


def build(index: int, now: datetime) -> Tenant:
    domain = domain_name("northwind", index)
    client_id, secret = credentials(domain)
    rng = random.Random(f"distributor:{domain}")
    site = Site(domain, client_id, secret, company_name="Northwind Industrial Supply", rng=rng)
    _procurify_reference(site, now)
    _purchase_orders(site, rng, now)
    _bills(site, rng, now)
    return Tenant(site, _qbo(realm_id(index), now))


def _procurify_reference(site: Site, now: datetime) -> None:
    for name, rate in RATES.items():
        site.add_currency(name, rate, base=name == "USD")
    locations = [
        site.add_location("Columbus HQ", headquarter=True)["id"],
        site.add_location("Toronto Warehouse")["id"],
    ]
    for name, loc in DEPARTMENTS:
        site.add_department(name, locations[loc])
    for code, description, kind, _qbo, _active in CODES:
        site.add_account_code(code, description, kind)
    site.add_account_code("6900", "Travel (retired)", 2, active=False)
    site.add_vendor("OTHER", now - timedelta(days=400), type=1)
    for position, (name, currency, _qbo_name) in enumerate(SUPPLIERS):
        site.add_vendor(
            name,
            now - timedelta(days=300 - position),
            type=3 if position % 3 == 0 else 4,
            currency=site.currency_id(currency),
            email=[f"ap{position}@supplier.example"],
            country={"CAD": "Canada", "EUR": "Germany"}.get(currency, "United States"),
        )
    site.add_vendor("Jordan Ellis", now - timedelta(days=200), type=5)  # an employee, reimbursed by bill


def _vendor_id(site: Site, name: str) -> int:
    return next(v["id"] for v in site.vendors.values() if v["name"] == name)


def _purchase_orders(site: Site, rng: random.Random, now: datetime) -> None:
    for n in range(8):
        name, currency, _ = SUPPLIERS[n % 6]
        created = now - timedelta(days=50 - n * 3, hours=rng.randint(0, 8))
        lines = []
        for description, code, price in rng.sample(PRODUCTS[:5], 2):
            lines.append(
                {
                    "name": description,
                    "quantity": Decimal(rng.randint(2, 40)),
                    "price": Decimal(price),
                    "code_id": site.code_id(code),
                    "dept_id": 2,
                }
            )
        site.add_po(
            {
                "version": 1,
                "state": 3 if n < 3 else 0,
                "fulfilment_status": "full" if n < 5 else "partial",
                "created": created,
                "last_modified": created + timedelta(days=2),
                "vendor_id": _vendor_id(site, name),
                "currency_id": site.currency_id(currency),
                "payment_terms": "Net 30",
                "lines": lines,
            }
        )


def _bills(site: Site, rng: random.Random, now: datetime) -> None:
    # Fixed bills first: each one exists for a demo or test story.
    site.add_bill(
        bill_record(
            site,
            now - timedelta(days=6),
            vendor="Great Lakes Fasteners",
            invoice_number="GLF-20931",
            lines=[
                {
                    "description": "Hex bolts M8 (box of 100)",
                    "quantity": 20,
                    "unit_cost": "12.50",
                    "account_code": "5000",
                },
                {
                    "description": "Safety glasses (box)",
                    "quantity": 4,
                    "unit_cost": "36.25",
                    "account_code": "6550",
                },
            ],
            note="Safety code 6550 has no QuickBooks account yet",
        )
    )
    site.add_bill(
        bill_record(
            site,
            now - timedelta(days=5),
            vendor="Acme Supplies Ltd",
            invoice_number="ACME-INV-2024-000017-REVISED",  # 28 chars; QBO DocNumber max is 21
            lines=[
                {
                    "description": "Copier paper (case)",
                    "quantity": 10,
                    "unit_cost": "42.99",
                    "account_code": "6100",
                }
            ],
        )
    )
    site.add_bill(
        bill_record(
            site,
            now - timedelta(days=4),
            vendor="O'Brien Industrial Supply",
            invoice_number="OB-7781",
            lines=[
                {
                    "description": "Forklift service",
                    "quantity": 1,
                    "unit_cost": "410.00",
                    "allocations": [
                        {"account_code": "6200", "department": "Warehouse", "amount": "246.00"},
                        {"account_code": "6200", "department": "Operations", "amount": "164.00"},
                    ],
                },
                {
                    "description": "Shop towels (bale)",
                    "quantity": 3,
                    "unit_cost": "58.00",
                    "allocations": [
                        {"account_code": "6400", "department": "Maintenance", "amount": "58.00"},
                        {"account_code": "6400", "department": "Warehouse", "amount": "58.00"},
                        {"account_code": "6400", "department": "Operations", "amount": "58.00"},
                    ],
                },
            ],
        )
    )
    _po_bills(site, rng, now)
    statuses = ["approved"] * 6 + ["draft"] * 2 + ["confirmed", "paid", "paid"]
    for n in range(28):
        name, currency, _ = SUPPLIERS[rng.randrange(len(SUPPLIERS))]
        lines = []
        for description, code, price in rng.sample(PRODUCTS[:9], rng.randint(1, 3)):
            lines.append(
                {
                    "description": description,
                    "quantity": rng.randint(1, 12),
                    "unit_cost": price,
                    "account_code": code,
                }
            )
        site.add_bill(
            bill_record(
                site,
                now - timedelta(days=40 - n, hours=rng.randint(0, 20)),
                vendor=name,
                invoice_number=f"{name[:3].upper().replace(' ', '')}-{rng.randint(1000, 99999)}",
                lines=lines,
                status=rng.choice(statuses),
                currency=currency,
                invoice_date=(now - timedelta(days=42 - n)).date(),
            )
        )


def _po_bills(site: Site, rng: random.Random, now: datetime) -> None:
    """Bills raised against the fully received POs, linked line by line."""
    for po in [p for p in site.pos.values() if p["fulfilment_status"] == "full"]:
        lines = [
            {
                "description": ln["name"],
                "quantity": ln["quantity"],
                "unit_cost": ln["price"],
                "account_code": site.account_codes[ln["code_id"]]["code"],
                "department": ln["dept_id"],
                "po_id": po["id"],
                "po_line_id": ln["id"],
            }
            for ln in po["lines"]
        ]
        currency = site.currencies[po["currency_id"]]["name"]
        site.add_bill(
            bill_record(
                site,
                po["last_modified"] + timedelta(days=3),
                vendor_id=po["vendor_id"],
                lines=lines,
                currency=currency,
                invoice_number=f"PO{po['number']}-{rng.randint(100, 999)}",
                status="approved",
                invoice_date=(po["last_modified"] + timedelta(days=1)).date(),
            )
        )


def _qbo(rid: str, now: datetime) -> object:
    close = (now - timedelta(days=120)).date()
    realm = seed_qbo.new_realm(rid, "Northwind Industrial Supply", {"CAD": "0.73", "EUR": "1.08"}, close)
    past = now - timedelta(days=365)
    seed_qbo.payables(realm, past, ["USD", "CAD", "EUR"])
    accounts = [("1000", "Operating Checking", "Bank", True), ("4000", "Sales", "Income", True)]
    accounts += [(code, desc, kind, active) for code, desc, _k, kind, active in CODES if kind]
    accounts.append((None, "Uncategorized Expense", "Expense", True))
    seed_qbo.chart(realm, past, accounts)
    seed_qbo.standard_terms(realm, past)
    for name, currency, qbo_name in SUPPLIERS:
        if qbo_name:
            display = name if qbo_name == "inactive" else qbo_name
            seed_qbo.add(
                realm,
                "Vendor",
                past,
                DisplayName=display,
                CurrencyRef={"value": currency},
                Active=qbo_name != "inactive",
            )
    for extra in ("City of Columbus Utilities", "Comcast Business", "Staples Business Advantage"):
        seed_qbo.add(realm, "Vendor", past, DisplayName=extra)
    for customer in ("Summit Steel & Wire", "Riverside Machine Works"):
        seed_qbo.add(realm, "Customer", past, DisplayName=customer)
    for employee in ("Jordan Ellis", "Priya Raman"):
        seed_qbo.add(realm, "Employee", past, DisplayName=employee, GivenName=employee.split()[0])
    return realm
