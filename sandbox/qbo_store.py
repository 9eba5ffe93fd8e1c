"""One QBO company (realm): its objects, preferences, requestid replay cache and request counts."""

from __future__ import annotations

import copy
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from .qbo_errors import qbo_time

NAME_LIST = ("Vendor", "Customer", "Employee", "Account", "Term", "Class", "Department", "TaxCode", "TaxRate")
PEOPLE = ("Vendor", "Customer", "Employee")  # one shared DisplayName namespace (§3 Vendor)
ENTITIES = (*NAME_LIST, "Bill", "PurchaseOrder", "BillPayment", "VendorCredit", "Attachable")
URL_NAMES = {e.lower(): e for e in ENTITIES}


@dataclass
class Realm:
    realm_id: str
    company_name: str
    home_currency: str = "USD"
    exchange_rates: dict[str, str] = field(default_factory=dict)  # home units per 1 foreign unit
    book_close_date: date | None = None
    # Company settings (§10, §14): off by default in QBO; once on, multicurrency cannot be turned off.
    multicurrency_enabled: bool = False
    warn_duplicate_bill_number: bool = True  # "Warn if duplicate bill number is used" -> 6140
    # Non-US editions tax every line (§14); classes and locations are switched on per company (§14).
    country: str = "US"
    class_tracking_per_txn: bool = False
    class_tracking_per_line: bool = False
    track_departments: bool = False
    objects: dict[str, dict[str, dict[str, Any]]] = field(default_factory=lambda: {e: {} for e in ENTITIES})
    # Deleted objects as CDC shows them (reference §8): Id, status "Deleted", MetaData.
    deleted: dict[str, dict[str, dict[str, Any]]] = field(default_factory=lambda: {e: {} for e in ENTITIES})
    replies: dict[str, tuple[int, bytes]] = field(default_factory=dict)  # requestid -> response
    # Uploaded files by Attachable Id: size, sha256 and (small files only) the bytes (qbo_upload.py).
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    stats: Counter[str] = field(default_factory=Counter)
    next_id: int = 1

    def new_id(self) -> str:
        value = str(self.next_id)
        self.next_id += 1
        return value

    def get(self, entity: str, obj_id: Any) -> dict[str, Any] | None:
        return self.objects[entity].get(str(obj_id))

    def insert(self, entity: str, obj: dict[str, Any], now: datetime) -> dict[str, Any]:
        """Store a new object with QBO's bookkeeping fields; used by the API and by the seed."""
        obj = copy.deepcopy(obj)
        obj["Id"] = self.new_id()
        obj["SyncToken"] = "0"
        obj["domain"] = "QBO"
        obj["sparse"] = False
        stamp = qbo_time(now, millis=False)
        obj["MetaData"] = {"CreateTime": stamp, "LastUpdatedTime": stamp}
        self.objects[entity][obj["Id"]] = obj
        return obj

    def touch(self, obj: dict[str, Any], now: datetime) -> None:
        obj["SyncToken"] = str(int(obj.get("SyncToken", "0")) + 1)
        obj["MetaData"] = {**obj.get("MetaData", {}), "LastUpdatedTime": qbo_time(now, millis=False)}

    def rate(self, currency: str) -> str:
        return "1" if currency == self.home_currency else self.exchange_rates.get(currency, "1")

    def count(self, kind: str, endpoint: str) -> None:
        self.stats[kind] += 1
        self.stats[f"{kind}:{endpoint}"] += 1

    def stats_dict(self) -> dict[str, Any]:
        by_endpoint: dict[str, int] = {}
        for key, value in self.stats.items():
            if ":" in key:
                by_endpoint[key] = value
        return {
            "reads": self.stats["read"],
            "writes": self.stats["write"],
            "uploads": self.stats["upload"],
            "metered": self.stats["metered"],
            "throttled": self.stats["throttled"],
            "errors_injected": self.stats["injected"],
            "by_endpoint": dict(sorted(by_endpoint.items())),
        }
