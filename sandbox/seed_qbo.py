"""Build a QBO company through the same validation the API applies, so seeds cannot be impossible."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from .qbo_entities import Ctx, prepare
from .qbo_store import Realm


def add(realm: Realm, entity: str, now: datetime, **fields: Any) -> dict[str, Any]:
    active = fields.pop("Active", True)
    ctx = Ctx(realm, now.date())
    obj = realm.insert(entity, prepare(entity, dict(fields), ctx), now) if entity in _VALIDATED else None
    if obj is None:  # Customer and Employee: only their names matter here
        obj = realm.insert(entity, {"Active": True, **fields}, now)
    obj["Active"] = active
    return obj


_VALIDATED = ("Vendor", "Account", "Term", "Bill", "PurchaseOrder")


def chart(realm: Realm, now: datetime, accounts: list[tuple[str | None, str, str, bool]]) -> dict[str, str]:
    """(AcctNum, Name, AccountType, active) rows -> {AcctNum or Name: Id}."""
    ids = {}
    for number, name, kind, active in accounts:
        fields: dict[str, Any] = {"Name": name, "AccountType": kind, "Active": active}
        if number:
            fields["AcctNum"] = number
        ids[number or name] = add(realm, "Account", now, **fields)["Id"]
    return ids


def payables(realm: Realm, now: datetime, currencies: list[str]) -> None:
    for code in currencies:
        name = "Accounts Payable (A/P)" if code == realm.home_currency else f"Accounts Payable (A/P) - {code}"
        add(realm, "Account", now, Name=name, AccountType="Accounts Payable", CurrencyRef={"value": code})


def standard_terms(realm: Realm, now: datetime) -> None:
    for name, days, active in (("Net 30", 30, True), ("Net 15", 15, True), ("Due on receipt", 0, True)):
        add(realm, "Term", now, Name=name, DueDays=days, Active=active)
    add(realm, "Term", now, Name="Net 60", DueDays=60, Active=False)


def new_realm(
    realm_id: str,
    name: str,
    rates: dict[str, str],
    close: date | None,
    *,
    multicurrency: bool | None = None,
    warn_duplicate_bill_number: bool = True,
) -> Realm:
    """multicurrency defaults to "the company has foreign rates", as before the flag existed."""
    return Realm(
        realm_id=realm_id,
        company_name=name,
        exchange_rates=rates,
        book_close_date=close,
        multicurrency_enabled=bool(rates) if multicurrency is None else multicurrency,
        warn_duplicate_bill_number=warn_duplicate_bill_number,
    )
