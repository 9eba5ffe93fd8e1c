"""One Procurify site's records, kept compact and rendered to the spec's shapes on demand.

Bills are stored as small dicts with Decimal money and ids; nested objects (vendor, currency,
account code, department) are built only when a page is rendered, so 10k bills seed in seconds.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .procurify_index import BillIndex  # it imports this module

CENT = Decimal("0.01")
RATE = Decimal("0.000001")  # currency rates are 6-dp strings
BILL_STATUS = {
    "draft": 0,
    "confirmed": 1,
    "approved": 2,
    "denied": 3,
    "paid": 4,
    "withdrawn": 5,
    "payment_confirmed": 6,
    "payment_approved": 7,
    "payment_limbo": 8,
}
PO_STATE = {"purchased": 0, "cancelled": 1, "closed": 3, "paid": 4, "reopened": 5}


def stamp(when: datetime | None) -> str | None:
    """Procurify's timestamp shape: 2026-12-31T23:59:59.999000+00:00."""
    return when.isoformat(timespec="microseconds") if when else None


def day(when: date | None) -> str | None:
    return f"{when.isoformat()}T00:00:00+00:00" if when else None


def money(value: Decimal) -> str:
    return str(value.quantize(CENT))


@dataclass
class Site:
    domain: str
    client_id: str
    client_secret: str
    company_name: str = ""
    email: str = ""
    rng: random.Random = field(default_factory=random.Random)
    currencies: dict[int, dict[str, Any]] = field(default_factory=dict)
    vendors: dict[int, dict[str, Any]] = field(default_factory=dict)
    account_codes: dict[int, dict[str, Any]] = field(default_factory=dict)
    locations: dict[int, dict[str, Any]] = field(default_factory=dict)
    departments: dict[int, dict[str, Any]] = field(default_factory=dict)
    bills: dict[str, dict[str, Any]] = field(default_factory=dict)  # uuid hex -> record
    pos: dict[int, dict[str, Any]] = field(default_factory=dict)
    payments: dict[int, dict[str, Any]] = field(default_factory=dict)  # sandbox/procurify_payments.py
    tokens: dict[str, datetime] = field(default_factory=dict)
    stats: Counter[str] = field(default_factory=Counter)
    # Bumped whenever a bill is added, removed or re-stamped: the bills list's index (procurify_index.py).
    generation: int = 0
    _bill_index: BillIndex | None = field(default=None, init=False, repr=False, compare=False)
    _ids: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self.email = self.email or f"integration@{self.domain}.example"
        self.company_name = self.company_name or self.domain.title()

    def new_id(self, kind: str, start: int = 1) -> int:
        self._ids[kind] = max(self._ids[kind] + 1, start)
        return self._ids[kind]

    def new_uuid(self) -> str:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4).hex

    # --- builders (seed and control API) ------------------------------------------------------
    def add_currency(self, name: str, rate: str, base: bool = False, description: str = "") -> dict[str, Any]:
        cid = self.new_id("currency")
        row = {"id": cid, "name": name, "description": description or name, "rate": rate, "base": base}
        self.currencies[cid] = {**row, "active": True}
        return self.currencies[cid]

    def currency_id(self, name: str) -> int:
        return next(c["id"] for c in self.currencies.values() if c["name"] == name)

    def set_currency_rate(self, name: str, rate: str) -> dict[str, Any]:
        """Change a currency's rate from now on: every bill shows the new `currency.rate`, but each bill
        keeps the rate it was created at for its `converted_total_cost` (procurify.md §3)."""
        row = next((c for c in self.currencies.values() if c["name"] == name), None)
        if row is None:
            raise KeyError(f"currency {name}")
        row["rate"] = str(Decimal(str(rate)).quantize(RATE))
        return row

    def add_location(self, name: str, headquarter: bool = False) -> dict[str, Any]:
        lid = self.new_id("location")
        base = next((c["id"] for c in self.currencies.values() if c["base"]), None)
        row = {"id": lid, "name": name, "external_id": None, "active": True, "headquarter": headquarter}
        self.locations[lid] = {**row, "currency": base}
        return self.locations[lid]

    def add_department(self, name: str, location_id: int) -> dict[str, Any]:
        did = self.new_id("department")
        self.departments[did] = {
            "id": did,
            "name": name,
            "external_id": None,
            "active": True,
            "branch_id": location_id,
            "punchout_email": None,
        }
        return self.departments[did]

    def add_account_code(
        self, code: str, description: str, account_type: int = 2, active: bool = True
    ) -> dict:
        aid = self.new_id("account_code")
        self.account_codes[aid] = {
            "id": aid,
            "code": code,
            "description": description,
            "account_type": account_type,
            "active": active,
            "parent": None,
            "code_length": len(code),
            "applied_accounts_count": len(self.departments),
        }
        return self.account_codes[aid]

    def code_id(self, code: str) -> int:
        return next(a["id"] for a in self.account_codes.values() if a["code"] == code)

    def add_vendor(self, name: str, now: datetime, **fields: Any) -> dict[str, Any]:
        vid = self.new_id("vendor")
        vendor: dict[str, Any] = {
            "id": vid,
            "name": name,
            "active": True,
            "type": 4,
            "external_id": None,
            "dateModified": stamp(now),
            "addressLineOne": None,
            "addressLineTwo": None,
            "city": None,
            "state_province": None,
            "postalCode": None,
            "country": None,
            "phoneOne": None,
            "phoneTwo": None,
            "fax": None,
            "email": [],
            "contact": None,
            "url": None,
            "comments": None,
            "currency": next((c["id"] for c in self.currencies.values() if c["base"]), None),
            "payment_term_ref": None,
            "is_1099_eligible": False,
        }
        vendor.update(fields)
        self.vendors[vid] = vendor
        return vendor

    def add_bill(self, record: dict[str, Any]) -> dict[str, Any]:
        """Store a bill record (see seed.bill_record for its keys) and give it ids."""
        record.setdefault("id", self.new_id("bill", 600))
        record.setdefault("uuid", self.new_uuid())
        record.setdefault("rate", self.currencies[record["currency_id"]]["rate"])  # the rate of its day
        for item in record["items"]:
            item.setdefault("id", self.new_id("bill_item", 9000))
            for alloc in item["allocs"]:
                alloc.setdefault("id", self.new_id("allocation"))
        for cost in record.get("costs", []):
            cost.setdefault("id", self.new_id("bill_cost"))
        self.bills[record["uuid"]] = record
        self.generation += 1
        return record

    def add_po(self, record: dict[str, Any]) -> dict[str, Any]:
        record.setdefault("id", self.new_id("po", 1200))
        record.setdefault("uuid", self.new_uuid())
        record.setdefault("number", str(record["id"]))
        record.setdefault("rate", self.currencies[record["currency_id"]]["rate"])
        for line in record["lines"]:
            line.setdefault("id", self.new_id("order_item", 5000))
        self.pos[record["id"]] = record
        return record

    def bump(self, record: dict[str, Any], now: datetime, key: str = "last_modified") -> None:
        record["version"] = record.get("version", 1) + 1
        # A bill is never modified "before" its previous modification, even if the clock was set back.
        record[key] = max(now, record[key] + timedelta(microseconds=1))
        self.generation += 1
