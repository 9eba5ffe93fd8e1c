"""Company info, preferences and the gateway answers (429, 5xx) of the QBO fake."""

from __future__ import annotations

from typing import Any

import httpx

from . import qbo_errors as err
from .qbo_errors import gateway_payload
from .qbo_store import Realm
from .qbo_tax import tax_prefs, tracking_prefs
from .web import html_response, json_response


def company_info(realm: Realm) -> dict[str, Any]:
    return {
        "Id": "1",
        "SyncToken": "0",
        "CompanyName": realm.company_name,
        "LegalName": realm.company_name,
        "Country": realm.country,
        "FiscalYearStartMonth": "January",
        "SupportedLanguages": "en",
        "domain": "QBO",
        "sparse": False,
    }


def preferences(realm: Realm) -> dict[str, Any]:
    accounting: dict[str, Any] = {"UseAccountNumbers": True, **tracking_prefs(realm)}
    if realm.book_close_date:
        accounting["BookCloseDate"] = realm.book_close_date.isoformat()
    return {
        "Id": "1",
        "SyncToken": "0",
        "AccountingInfoPrefs": accounting,
        "CurrencyPrefs": {
            "MultiCurrencyEnabled": realm.multicurrency_enabled,
            "HomeCurrency": {"value": realm.home_currency},
        },
        "TaxPrefs": tax_prefs(realm),
        "VendorAndPurchasesPrefs": {"TrackingByCustomer": False, "BillableExpenseTracking": False},
        # Intuit exposes some switches only as string name/value pairs (§14 duplicate bill numbers).
        "OtherPrefs": {"NameValue": other_prefs(realm)},
        "domain": "QBO",
        "sparse": False,
    }


def other_prefs(realm: Realm) -> list[dict[str, str]]:
    pairs = {
        "WarnDuplicateBillNumber": realm.warn_duplicate_bill_number,
        "WarnDuplicateCheckNumber": True,
        "DTXCopyMemo": False,
    }
    return [{"Name": name, "Value": "true" if value else "false"} for name, value in pairs.items()]


def throttle_response(now: Any, retry_after: int | None) -> httpx.Response:
    body = gateway_payload(
        429, "3001", "ThrottleExceeded", "The request limit was reached. Try again later", "SERVICE", now
    )
    headers = {"Retry-After": str(retry_after)} if retry_after else {}
    return json_response(429, body, headers)


def server_error(status: int, now: Any) -> httpx.Response:
    if status == 500:
        return json_response(500, err.system_error().payload(now))
    # Outages in front of QBO answer with a load balancer's HTML page (§5).
    return html_response(status, f"<html><body><h1>{status} Service Unavailable</h1></body></html>")
