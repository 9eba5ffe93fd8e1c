"""The demo company: Northwind, a mid-sized manufacturing distributor with a dozen suppliers.

Deterministic: random.Random("distributor:<domain>") drives every choice, and dates are offsets
from the clock's now, so a frozen clock gives byte-identical data.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from . import seed_credits, seed_payments, seed_qbo
from .procurify_data import Site
from .qbo_store import Realm
from .seed import Tenant, bill_record, credentials, domain_name, realm_id

# (Procurify name, currency, QBO counterpart: name, "inactive", or None)
SUPPLIERS = [
    ("Acme Supplies Ltd", "USD", "ACME Supplies Limited"),  # the same legal form, spelled out
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
# Added after everything above (issue 10), so the older records keep their ids, uuids and numbers.
LATER_SUPPLIERS = [
    ("Rheinland Logistik GmbH", "EUR", None),  # foreign currency, not in QBO yet
    ("Maple Leaf Pallets Ltd.", "CAD", None),  # foreign currency, not in QBO yet; CAD rate moves
    ("Helvetia Tools GmbH", "EUR", "Helvetia Tools GmbH"),  # the same legal entity as QBO's vendor
    ("Helvetia Tools AG", "EUR", None),  # a different legal entity: must not match the GmbH
    ("Helvetia Tools Ltd", "USD", None),  # another one, in another currency
]
LONG_DOC_NUMBER = "INV-2026-000123-ABCDEFGHI"  # 25 chars: over QBO's 21, unlike the 28-char ACME one
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


def build(index: int, now: datetime, qbo_multicurrency: bool = True, attachments: bool = True) -> Tenant:
    """qbo_multicurrency=False seeds the same books in a QBO company without multicurrency;
    attachments=False leaves every bill without invoice files."""
    domain = domain_name("northwind", index)
    client_id, secret = credentials(domain)
    rng = random.Random(f"distributor:{domain}")
    site = Site(domain, client_id, secret, company_name="Northwind Industrial Supply", rng=rng)
    _procurify_reference(site, now)
    _purchase_orders(site, rng, now)
    _bills(site, rng, now)
    _later_cases(site, now)
    if attachments:
        _invoice_files(site, now)
    seed_payments.seed(site, now)  # payments and their bills (issue 15)
    seed_credits.add(site, now)  # issue 15: credit notes and discount lines, after everything else
    return Tenant(site, _qbo(realm_id(index), now, qbo_multicurrency))


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
    countries = {"Rheinland": "Germany", "Maple": "Canada", "Helvetia Tools AG": "Switzerland"}
    for position, (name, currency, _qbo_name) in enumerate(LATER_SUPPLIERS):
        country = next((c for key, c in countries.items() if name.startswith(key)), None)
        site.add_vendor(
            name,
            now - timedelta(days=150 - position),
            type=4,
            currency=site.currency_id(currency),
            email=[f"billing{position}@later-supplier.example"],
            country=country or ("Germany" if name.endswith("GmbH") else "United Kingdom"),
        )


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
        lines += _same_code_partner(site, lines)
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


def _qbo(rid: str, now: datetime, multicurrency: bool = True) -> Realm:
    close = (now - timedelta(days=120)).date()
    rates = {"CAD": "0.73", "EUR": "1.08"} if multicurrency else {}
    realm = seed_qbo.new_realm(
        rid,
        "Northwind Industrial Supply",
        rates,
        close,
        multicurrency=multicurrency,
        warn_duplicate_bill_number=True,
    )
    past = now - timedelta(days=365)
    seed_qbo.payables(realm, past, ["USD", *rates])
    accounts: list[tuple[str | None, str, str, bool]] = [
        ("1000", "Operating Checking", "Bank", True),
        ("4000", "Sales", "Income", True),
    ]
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
                CurrencyRef={"value": currency if multicurrency else realm.home_currency},
                Active=qbo_name != "inactive",
            )
    for extra in ("City of Columbus Utilities", "Comcast Business", "Staples Business Advantage"):
        seed_qbo.add(realm, "Vendor", past, DisplayName=extra)
    for customer in ("Summit Steel & Wire", "Riverside Machine Works"):
        seed_qbo.add(realm, "Customer", past, DisplayName=customer)
    for employee in ("Jordan Ellis", "Priya Raman"):
        seed_qbo.add(realm, "Employee", past, DisplayName=employee, GivenName=employee.split()[0])
    for _name, currency, qbo_name in LATER_SUPPLIERS:
        if qbo_name:
            code = currency if multicurrency else realm.home_currency
            seed_qbo.add(realm, "Vendor", past, DisplayName=qbo_name, CurrencyRef={"value": code})
    # Last, so every older object keeps its Id: the card bills are paid with (issue 15).
    seed_qbo.chart(realm, past, [("2100", "Amex Corporate Card", "Credit Card", True)])
    return realm


def _same_code_partner(site: Site, lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A second PO line on the first line's account code (no randomness, so the rest of the seed is
    unchanged): a bill line cannot be linked to its PO line by account code alone."""
    first = lines[0]
    if any(ln["code_id"] == first["code_id"] for ln in lines[1:]):
        return []
    code = site.account_codes[first["code_id"]]["code"]
    taken = {ln["name"] for ln in lines}
    name, price = next(
        ((d, p) for d, c, p in PRODUCTS[:5] if c == code and d not in taken),
        (f"{first['name']} (expedited)", str(first["price"])),
    )
    partner = {**first, "name": name, "quantity": first["quantity"] // 2 + 1, "price": Decimal(price)}
    return [partner]


# --- issue 10: what real books have and the engine must not assume away --------------------------


def _later_cases(site: Site, now: datetime) -> None:
    """Fixed bills and POs added after the original seed (its ids, uuids and numbers stay put)."""
    _foreign_supplier_bills(site, now)
    _legal_form_bills(site, now)
    _odd_total_bills(site, now)
    _ambiguous_po_bill(site, now)
    _cancelled_po(site, now)


# Invoice files (procurify.md §3/§7 `invoice_attachments`; QBO §14): PDFs and an image that upload, a file
# type QuickBooks refuses, and a scan larger than one upload may carry (generated, never held in memory).
INVOICE_FILES = (
    ("GLF-21007", "GLF-21007.pdf", "application/pdf", None),
    ("NOP-88120", "NOP-88120.pdf", "application/pdf", None),
    ("NOP-88120", "delivery-note.png", "image/png", None),
    ("INV-2026-000123-ABCDEFGHI", "INV-2026-000123.pdf", "application/pdf", None),
    ("OB-7850", "invoice.exe", "application/x-msdownload", None),
    ("OB-7850", "OB-7850-full-scan.pdf", "application/pdf", 150 * 1024 * 1024),
)


def _invoice_files(site: Site, now: datetime) -> None:
    from .procurify_files import add_attachment, pdf_bytes

    by_number = {b["invoice_number"]: b for b in site.bills.values()}
    for number, name, content_type, size in INVOICE_FILES:
        bill = by_number[number]
        created = bill["last_modified"]
        if size is not None:
            add_attachment(site, bill, name, content_type, size=size, created=created)
        elif name.endswith(".png"):
            data = b"\x89PNG\r\n\x1a\n" + pdf_bytes(name)[8:]
            add_attachment(site, bill, name, content_type, data=data, created=created)
        else:
            add_attachment(site, bill, name, content_type, data=pdf_bytes(name, pages=3), created=created)


def _approved(
    site: Site, now: datetime, days: int, vendor: str, number: str, lines: list, **extra: Any
) -> None:
    when = now - timedelta(days=days)
    site.add_bill(
        bill_record(
            site,
            when,
            vendor=vendor,
            invoice_number=number,
            lines=lines,
            invoice_date=(when - timedelta(days=1)).date(),
            **extra,
        )
    )


def _line(description: str, quantity: int, unit_cost: str, code: str, **extra: Any) -> dict[str, Any]:
    return {
        "description": description,
        "quantity": quantity,
        "unit_cost": unit_cost,
        "account_code": code,
        **extra,
    }


def _foreign_supplier_bills(site: Site, now: datetime) -> None:
    # Suppliers in EUR and CAD that QBO has no vendor for yet: created in their own currency.
    freight = "Sea freight Hamburg-Savannah"
    _approved(
        site, now, 21, "Rheinland Logistik GmbH", "RL-2026-0412", [_line(freight, 1, "1250.00", "5100")]
    )
    lines = [_line(freight, 1, "980.00", "5100"), _line("Stretch wrap 18in", 10, "21.40", "5200")]
    _approved(site, now, 9, "Rheinland Logistik GmbH", "RL-2026-0457", lines)
    pallets = "Wooden pallets 48x40"
    _approved(site, now, 24, "Maple Leaf Pallets Ltd.", "MLP-1001", [_line(pallets, 60, "14.50", "5200")])
    # CAD moved: older bills keep 0.73 in converted_total_cost while currency.rate shows 0.74.
    site.set_currency_rate("CAD", "0.74")
    lines = [_line(pallets, 40, "14.50", "5200"), _line("Pallet repair", 1, "120.00", "6200")]
    _approved(site, now, 3, "Maple Leaf Pallets Ltd.", "MLP-1002", lines)


def _legal_form_bills(site: Site, now: datetime) -> None:
    # Same trunk, different legal forms: only the GmbH is QBO's "Helvetia Tools GmbH".
    _approved(
        site, now, 12, "Helvetia Tools GmbH", "HT-DE-5521", [_line("Precision calipers", 3, "145.00", "6400")]
    )
    _approved(
        site, now, 11, "Helvetia Tools AG", "HT-CH-0088", [_line("Carbide drill set", 2, "310.00", "6400")]
    )
    _approved(site, now, 10, "Helvetia Tools Ltd", "HT-UK-3310", [_line("Torque wrench", 4, "89.50", "6400")])


def _odd_total_bills(site: Site, now: datetime) -> None:
    fittings = [_line("Conduit fittings", 25, "7.80", "6200")]
    _approved(site, now, 8, "Brightline Electrical Supply", LONG_DOC_NUMBER, fittings)
    lines = [
        _line("Copier paper (case)", 5, "42.99", "6100", tax_percentage="7.25"),
        _line("Desk organisers", 6, "18.00", "6100", null_total_with_tax=True),
    ]
    _approved(site, now, 7, "Northstar Office Products", "NOP-88120", lines)
    lines = [
        _line("Hex bolts M8 (box of 100)", 40, "12.50", "5000", shipping_amount="18.00"),
        _line("Stainless sheet 2mm", 2, "184.00", "5000", shipping_amount="42.00"),
    ]
    _approved(site, now, 6, "Great Lakes Fasteners", "GLF-21007", lines, shipping="25.00")


def _po_line(site: Site, name: str, quantity: int, price: str, code: str, **extra: Any) -> dict[str, Any]:
    row = {
        "name": name,
        "quantity": Decimal(quantity),
        "price": Decimal(price),
        "code_id": site.code_id(code),
    }
    return {**row, "dept_id": 2, **extra}


def _ambiguous_po_bill(site: Site, now: datetime) -> None:
    """Two lines of one PO on the same account code, billed in the opposite order: only `orderitem`
    says which bill line belongs to which PO line."""
    created = now - timedelta(days=15)
    po = site.add_po(
        {
            "version": 1,
            "state": 0,
            "fulfilment_status": "full",
            "created": created,
            "last_modified": created + timedelta(days=2),
            "vendor_id": _vendor_id(site, "O'Brien Industrial Supply"),
            "currency_id": site.currency_id("USD"),
            "payment_terms": "Net 30",
            "lines": [
                _po_line(site, "Corrugated cartons 24x18", 200, "1.85", "5200"),
                _po_line(site, "Stretch wrap 18in", 8, "21.40", "5200"),
                _po_line(site, "Inbound freight", 1, "340.00", "5100"),
            ],
        }
    )
    cartons, wrap = po["lines"][0], po["lines"][1]
    lines = [
        _line(ln["name"], int(ln["quantity"]), str(ln["price"]), "5200", po_id=po["id"], po_line_id=ln["id"])
        for ln in (wrap, cartons)
    ]
    _approved(site, now, 4, "O'Brien Industrial Supply", "OB-7850", [{**ln, "department": 2} for ln in lines])


def _cancelled_po(site: Site, now: datetime) -> None:
    created = now - timedelta(days=30)
    site.add_po(
        {
            "version": 2,
            "state": 1,  # Cancelled
            "fulfilment_status": "empty",
            "created": created,
            "last_modified": created + timedelta(days=1),
            "vendor_id": _vendor_id(site, "Brightline Electrical Supply"),
            "currency_id": site.currency_id("USD"),
            "payment_terms": "Net 30",
            "lines": [
                _po_line(site, "Panel breakers 20A", 10, "24.00", "6200"),
                _po_line(site, "LED exit signs", 6, "58.00", "6200", approved_quantity=Decimal(0)),
            ],
        }
    )
