"""Benchmark-sized companies (thousands of bills) and an empty one; cheap to generate."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from . import seed_qbo
from .procurify_data import CENT, Site
from .qbo_store import Realm
from .seed import Tenant, credentials, domain_name, realm_id

FIRST = [
    "Acme",
    "Summit",
    "Great Lakes",
    "Pacific",
    "Delta",
    "Keystone",
    "Evergreen",
    "O'Brien",
    "Müller",
    "Café Québec",
    "Northstar",
    "Brightline",
    "Riverbend",
    "Ironwood",
    "Bluewater",
    "Granite",
    "Harbor",
    "Prairie",
    "Cascade",
    "Redwood",
    "Sterling",
    "Lakeshore",
    "D'Angelo",
    "Øresund",
    "Señor Tornillo",
]
SECOND = [
    "Supplies",
    "Fasteners",
    "Packaging",
    "Steel",
    "Freight",
    "Hydraulics",
    "Electrical",
    "Tooling",
    "Plastics",
    "Chemicals",
    "Logistics",
    "Fabrication",
    "Components",
    "Industrial",
]
SUFFIX = ["Ltd", "Inc.", "Co.", "LLC", "GmbH", "Corp", "& Sons", ""]
CODES = [(f"{5000 + 10 * n}", f"Materials {n}", "Cost of Goods Sold") for n in range(10)]
CODES += [(f"{6000 + 10 * n}", f"Expense {n}", "Expense") for n in range(40)]
RATES = {"USD": "1.000000", "CAD": "0.730000", "EUR": "1.080000"}


def build(
    index: int, now: datetime, n_bills: int = 10_000, n_vendors: int = 500, n_pos: int = 1_000
) -> Tenant:
    domain = domain_name("large", index)
    client_id, secret = credentials(domain)
    rng = random.Random(f"large:{domain}")
    site = Site(domain, client_id, secret, company_name=f"Large Co {index + 1}", rng=rng)
    _reference(site, now)
    names = _vendor_names(rng, n_vendors)
    currencies = [site.currency_id(c) for c in ("USD", "USD", "USD", "USD", "CAD", "EUR")]
    for position, name in enumerate(names):
        site.add_vendor(name, now - timedelta(days=400 - position % 300), currency=rng.choice(currencies))
    vendor_ids = list(site.vendors)[1:]
    code_ids = [site.code_id(code) for code, _d, _k in CODES]
    dept_ids = list(site.departments)
    for _ in range(n_pos):
        _po(site, rng, now, vendor_ids, code_ids, dept_ids)
    for n in range(n_bills):
        _bill(site, rng, now - timedelta(seconds=(n_bills - n) * 600), vendor_ids, code_ids, dept_ids)
    vendor_currency = [site.currencies[site.vendors[v]["currency"]]["name"] for v in vendor_ids]
    return Tenant(site, _qbo(index, now, list(zip(names, vendor_currency, strict=True)), rng))


def _reference(site: Site, now: datetime) -> None:
    for name, rate in RATES.items():
        site.add_currency(name, rate, base=name == "USD")
    hq = site.add_location("Head Office", headquarter=True)["id"]
    for name in ("Operations", "Warehouse", "Maintenance", "Administration"):
        site.add_department(name, hq)
    for code, description, _kind in CODES:
        site.add_account_code(code, description)
    site.add_account_code("6999", "Unmapped expense")  # never in QBO
    site.add_vendor("OTHER", now - timedelta(days=500), type=1)


def _vendor_names(rng: random.Random, count: int) -> list[str]:
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < count:
        name = f"{rng.choice(FIRST)} {rng.choice(SECOND)} {rng.choice(SUFFIX)}".strip()
        if name in seen:
            name = f"{name} {len(names)}"
        seen.add(name)
        names.append(name)
    return names


def _money(rng: random.Random, low: int, high: int) -> Decimal:
    return (Decimal(rng.randint(low * 100, high * 100)) / 100).quantize(CENT)


def _po(
    site: Site, rng: random.Random, now: datetime, vendors: list[int], codes: list[int], depts: list[int]
) -> None:
    vendor = rng.choice(vendors)
    created = now - timedelta(minutes=rng.randint(60, 60 * 24 * 120))
    lines = [
        {
            "name": f"Part {rng.randint(100, 999)}",
            "quantity": Decimal(rng.randint(1, 50)),
            "price": _money(rng, 1, 400),
            "code_id": rng.choice(codes),
            "dept_id": rng.choice(depts),
        }
        for _ in range(rng.randint(1, 4))
    ]
    site.add_po(
        {
            "version": 1,
            "state": rng.choice((0, 0, 3, 1)),
            "fulfilment_status": rng.choice(("empty", "partial", "full")),
            "created": created,
            "last_modified": created + timedelta(hours=rng.randint(1, 200)),
            "vendor_id": vendor,
            "currency_id": site.vendors[vendor]["currency"],
            "payment_terms": "Net 30",
            "lines": lines,
        }
    )


def _bill(
    site: Site, rng: random.Random, modified: datetime, vendors: list[int], codes: list[int], depts: list[int]
) -> None:
    vendor = rng.choice(vendors)
    items: list[dict[str, Any]] = []
    for _ in range(rng.choice((1, 1, 2, 3))):
        quantity, unit = Decimal(rng.randint(1, 20)), _money(rng, 2, 500)
        total = quantity * unit
        allocs = [{"amount": total, "code_id": rng.choice(codes), "dept_id": rng.choice(depts)}]
        if rng.random() < 0.2:  # split across two departments
            first = (total * Decimal("0.6")).quantize(CENT)
            allocs = [
                dict(allocs[0], amount=first),
                {"amount": total - first, "code_id": allocs[0]["code_id"], "dept_id": rng.choice(depts)},
            ]
        items.append(
            {
                "description": f"Part {rng.randint(100, 999)}",
                "quantity": quantity,
                "unit_cost": unit,
                "tax_percentage": Decimal(0),
                "po_id": None,
                "allocs": allocs,
            }
        )
    status = rng.choice((2, 2, 2, 2, 0, 1, 4))
    invoice = modified.date() - timedelta(days=rng.randint(0, 5))
    site.add_bill(
        {
            "version": 1,
            "status": status,
            "type": 1,
            "active": True,
            "invoice_number": f"INV-{rng.randint(10**5, 10**9)}"
            if rng.random() > 0.002
            else "INVOICE-" + "9" * 20,
            "invoice_date": invoice,
            "due_date": invoice + timedelta(days=30),
            "submitted": modified - timedelta(hours=1),
            "last_modified": modified,
            "payment_terms": "Net 30",
            "note": "",
            "vendor_id": vendor,
            "currency_id": site.vendors[vendor]["currency"],
            "items": items,
            "paid_on": invoice + timedelta(days=25) if status == 4 else None,
            "user": 1,
        }
    )


def _qbo(index: int, now: datetime, names: list[tuple[str, str]], rng: random.Random) -> Realm:
    realm = seed_qbo.new_realm(
        realm_id(index, offset=100), f"Large Co {index + 1}", {"CAD": "0.73", "EUR": "1.08"}, None
    )
    past = now - timedelta(days=500)
    seed_qbo.payables(realm, past, ["USD", "CAD", "EUR"])
    seed_qbo.chart(realm, past, [(code, f"{desc} ({code})", kind, True) for code, desc, kind in CODES])
    seed_qbo.standard_terms(realm, past)
    for name, currency in names[: len(names) // 2]:  # half the suppliers already exist in QBO
        active = rng.random() > 0.05
        seed_qbo.add(realm, "Vendor", past, DisplayName=name, CurrencyRef={"value": currency}, Active=active)
    return realm


def build_empty(index: int, now: datetime) -> Tenant:
    domain = domain_name("empty", index)
    client_id, secret = credentials(domain)
    site = Site(domain, client_id, secret, rng=random.Random(f"empty:{domain}"))
    site.add_currency("USD", "1.000000", base=True)
    site.add_department("Operations", site.add_location("Head Office", headquarter=True)["id"])
    site.add_account_code("6100", "Office Supplies")
    site.add_vendor("OTHER", now, type=1)
    realm = seed_qbo.new_realm(realm_id(index, offset=200), f"Empty Co {index + 1}", {}, None)
    seed_qbo.payables(realm, now - timedelta(days=30), ["USD"])
    seed_qbo.chart(realm, now - timedelta(days=30), [("6100", "Office Supplies", "Expense", True)])
    seed_qbo.standard_terms(realm, now - timedelta(days=30))
    return Tenant(site, realm)
