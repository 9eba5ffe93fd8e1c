"""Company preferences and the rules they switch: multicurrency, per-currency A/P, duplicate bill
numbers (QBO reference §3 Bill, §5, §10, §14)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sandbox_support import FIXED_NOW, QBO, connect, expense_line, fault_code

from sandbox import Sandbox


def _vendor(qbo: QBO, name: str) -> dict:
    return qbo.one("Vendor", f"DisplayName = '{name}'")


def _account_id(qbo: QBO, where: str) -> str:
    return qbo.one("Account", where)["Id"]


def _bill(qbo: QBO, vendor: str = "Great Lakes Fasteners", **extra) -> dict:
    return {
        "VendorRef": {"value": _vendor(qbo, vendor)["Id"]},
        "Line": [expense_line(_account_id(qbo, "AcctNum = '6100'"), 40.0)],
        "TxnDate": "2026-02-20",
        **extra,
    }


def _detail(response: httpx.Response) -> str:
    return response.json()["Fault"]["Error"][0]["Detail"]


@pytest.fixture
def off_sb() -> Sandbox:
    return Sandbox.create(seed="distributor", now=FIXED_NOW, qbo_multicurrency=False)


@pytest.fixture
def off(off_sb: Sandbox) -> Iterator[QBO]:
    with off_sb.client() as c:
        yield connect(off_sb, c)


# --- Preferences -----------------------------------------------------------------------------------


def test_it_exposes_currency_prefs_and_the_duplicate_bill_number_warning(qbo: QBO) -> None:
    prefs = qbo.get("preferences").json()["Preferences"]
    assert prefs["CurrencyPrefs"] == {"MultiCurrencyEnabled": True, "HomeCurrency": {"value": "USD"}}
    pairs = prefs["OtherPrefs"]["NameValue"]
    assert {"Name": "WarnDuplicateBillNumber", "Value": "true"} in pairs
    assert all(isinstance(p["Value"], str) for p in pairs)
    assert prefs["AccountingInfoPrefs"]["BookCloseDate"] == "2025-11-02"


def test_it_seeds_a_company_without_multicurrency_on_request(off_sb: Sandbox, off: QBO) -> None:
    prefs = off.get("preferences").json()["Preferences"]
    assert prefs["CurrencyPrefs"]["MultiCurrencyEnabled"] is False
    payables = [
        a for a in off_sb.qbo.objects(off.realm_id, "Account") if a["AccountType"] == "Accounts Payable"
    ]
    assert [a["CurrencyRef"]["value"] for a in payables] == ["USD"]
    assert {v["CurrencyRef"]["value"] for v in off_sb.qbo.objects(off.realm_id, "Vendor")} == {"USD"}


def test_it_flips_preferences_through_the_control_api(sb: Sandbox, qbo: QBO, client: httpx.Client) -> None:
    url = f"/_sandbox/qbo/{qbo.realm_id}/preferences"
    answer = client.post(url, json={"WarnDuplicateBillNumber": False}).json()
    assert {"Name": "WarnDuplicateBillNumber", "Value": "false"} in answer["Preferences"]["OtherPrefs"][
        "NameValue"
    ]
    assert answer["BookCloseDate"] == "2025-11-02"  # not sent, so unchanged
    # Once on, multicurrency cannot be turned off (§10).
    assert client.post(url, json={"MultiCurrencyEnabled": False}).status_code == 400
    with pytest.raises(ValueError):
        sb.qbo.set_preferences(qbo.realm_id, multicurrency_enabled=False)


# --- multicurrency off -----------------------------------------------------------------------------


def test_it_refuses_foreign_currency_names_without_multicurrency(off: QBO) -> None:
    vendor = off.post("vendor", {"DisplayName": "Rheinland Logistik GmbH", "CurrencyRef": {"value": "EUR"}})
    assert vendor.status_code == 400 and fault_code(vendor) == "6000" and "ulticurrency" in _detail(vendor)
    account = {"Name": "A/P CAD", "AccountType": "Accounts Payable", "CurrencyRef": {"value": "CAD"}}
    assert fault_code(off.post("account", account)) == "6000"
    assert off.post("vendor", {"DisplayName": "Rheinland Logistik GmbH"}).json()["Vendor"]["CurrencyRef"] == {
        "value": "USD"
    }


def test_it_refuses_foreign_transactions_and_exchange_rates_without_multicurrency(off: QBO) -> None:
    response = off.post("bill", _bill(off, CurrencyRef={"value": "EUR"}))
    assert fault_code(response) == "6000" and "ulticurrency" in _detail(response)
    assert fault_code(off.post("bill", _bill(off, ExchangeRate=1.08))) == "6000"
    po = {"VendorRef": _bill(off)["VendorRef"], "Line": _bill(off)["Line"], "CurrencyRef": {"value": "CAD"}}
    assert fault_code(off.post("purchaseorder", po)) == "6000"
    assert off.post("bill", _bill(off, ExchangeRate=1)).status_code == 200
    assert off.post("bill", _bill(off, CurrencyRef={"value": "USD"})).status_code == 200


def test_it_allows_foreign_currencies_once_multicurrency_is_turned_on(off_sb: Sandbox, off: QBO) -> None:
    off_sb.qbo.set_preferences(off.realm_id, multicurrency_enabled=True)
    body = {"DisplayName": "Rheinland Logistik GmbH", "CurrencyRef": {"value": "EUR"}}
    assert off.post("vendor", body).status_code == 200


# --- multicurrency on ------------------------------------------------------------------------------


def test_it_fixes_a_vendors_currency_at_creation(qbo: QBO) -> None:
    body = {"DisplayName": "Rheinland Logistik GmbH", "CurrencyRef": {"value": "EUR"}}
    vendor = qbo.ok("vendor", body)["Vendor"]
    change = {"Id": vendor["Id"], "SyncToken": "0", "sparse": True, "CurrencyRef": {"value": "CAD"}}
    response = qbo.post("vendor", change)
    assert response.status_code == 400 and fault_code(response) == "6000"
    assert response.json()["Fault"]["Error"][0]["element"] == "CurrencyRef"
    same = qbo.ok("vendor", {**change, "CurrencyRef": {"value": "EUR"}})["Vendor"]
    full = {k: v for k, v in same.items() if k != "CurrencyRef"}  # a full update that omits it keeps it
    assert qbo.ok("vendor", full)["Vendor"]["CurrencyRef"] == {"value": "EUR"}


def test_it_fixes_an_accounts_currency_at_creation(qbo: QBO) -> None:
    ap = qbo.one("Account", "Name = 'Accounts Payable (A/P) - EUR'")
    response = qbo.post(
        "account",
        {"Id": ap["Id"], "SyncToken": ap["SyncToken"], "sparse": True, "CurrencyRef": {"value": "USD"}},
    )
    assert fault_code(response) == "6000"


def test_it_requires_the_explicit_ap_account_to_be_in_the_bills_currency(qbo: QBO) -> None:
    usd_ap = _account_id(qbo, "Name = 'Accounts Payable (A/P)'")
    eur_ap = _account_id(qbo, "Name = 'Accounts Payable (A/P) - EUR'")
    eur = "Müller Präzisionsteile GmbH"
    response = qbo.post("bill", _bill(qbo, eur, APAccountRef={"value": usd_ap}))
    assert response.status_code == 400 and fault_code(response) == "6000"
    assert response.json()["Fault"]["Error"][0]["element"] == "APAccountRef"
    assert fault_code(qbo.post("bill", _bill(qbo, APAccountRef={"value": eur_ap}))) == "6000"  # USD bill
    bill = qbo.ok("bill", _bill(qbo, eur, APAccountRef={"value": eur_ap}))["Bill"]
    assert bill["APAccountRef"]["value"] == eur_ap and bill["CurrencyRef"] == {"value": "EUR"}
    expense = _account_id(qbo, "AcctNum = '6100'")
    assert fault_code(qbo.post("bill", _bill(qbo, APAccountRef={"value": expense}))) == "6430"


def test_it_picks_the_ap_account_in_the_bills_currency_or_refuses(qbo: QBO) -> None:
    cad = qbo.ok("bill", _bill(qbo, "Cafe Quebec Metallurgie Inc"))["Bill"]
    assert cad["APAccountRef"]["name"] == "Accounts Payable (A/P) - CAD"
    qbo.ok("vendor", {"DisplayName": "Thames Tooling plc", "CurrencyRef": {"value": "GBP"}})
    response = qbo.post("bill", _bill(qbo, "Thames Tooling plc"))
    assert response.status_code == 400 and fault_code(response) == "2020"  # no silent USD A/P
    assert response.json()["Fault"]["Error"][0]["element"] == "APAccountRef"
    gbp = {
        "Name": "Accounts Payable (A/P) - GBP",
        "AccountType": "Accounts Payable",
        "CurrencyRef": {"value": "GBP"},
    }
    gbp_ap = qbo.ok("account", gbp)["Account"]
    bill = qbo.ok("bill", _bill(qbo, "Thames Tooling plc", ExchangeRate=1.27))["Bill"]
    assert bill["APAccountRef"]["value"] == gbp_ap["Id"] and bill["ExchangeRate"] == 1.27


def test_it_needs_a_positive_exchange_rate_and_otherwise_uses_its_own(qbo: QBO) -> None:
    eur = "Müller Präzisionsteile GmbH"
    for bad in (0, -1.08, "abc", True, "NaN"):
        response = qbo.post("bill", _bill(qbo, eur, ExchangeRate=bad))
        assert response.status_code == 400 and fault_code(response) == "2010", bad
        assert response.json()["Fault"]["Error"][0]["element"] == "ExchangeRate"
    assert qbo.ok("bill", _bill(qbo, eur, ExchangeRate="1.1"))["Bill"]["ExchangeRate"] == 1.1
    own = qbo.ok("bill", _bill(qbo, eur))["Bill"]
    assert own["ExchangeRate"] == 1.08 and own["HomeBalance"] == 43.2


def test_it_keeps_a_bill_in_its_vendors_currency(qbo: QBO) -> None:
    response = qbo.post("bill", _bill(qbo, "Müller Präzisionsteile GmbH", CurrencyRef={"value": "USD"}))
    assert fault_code(response) == "6000" and "vendor currency EUR" in _detail(response)


# --- duplicate bill numbers ------------------------------------------------------------------------


def test_it_refuses_a_duplicate_bill_number_only_while_the_company_warns(sb: Sandbox, qbo: QBO) -> None:
    qbo.ok("bill", _bill(qbo, DocNumber="DUP-1"))
    response = qbo.post("bill", _bill(qbo, DocNumber="DUP-1"))
    assert fault_code(response) == "6140"
    assert response.json()["Fault"]["Error"][0]["Message"] == "Duplicate Document Number Error"
    assert qbo.post("bill", _bill(qbo, DocNumber="DUP-1"), include="allowduplicatedocnum").status_code == 200
    sb.qbo.set_preferences(qbo.realm_id, warn_duplicate_bill_number=False)
    assert qbo.post("bill", _bill(qbo, DocNumber="DUP-1")).status_code == 200


def test_it_applies_the_duplicate_rule_and_include_to_batch_items(sb: Sandbox, qbo: QBO) -> None:
    qbo.ok("bill", _bill(qbo, DocNumber="DUP-2"))
    items = [{"bId": "1", "operation": "create", "Bill": _bill(qbo, DocNumber="DUP-2")}]
    refused = qbo.post("batch", {"BatchItemRequest": items}).json()["BatchItemResponse"][0]
    assert refused["Fault"]["Error"][0]["code"] == "6140"
    allowed = qbo.post("batch", {"BatchItemRequest": items}, include="allowduplicatedocnum").json()
    assert allowed["BatchItemResponse"][0]["Bill"]["DocNumber"] == "DUP-2"
    sb.qbo.set_preferences(qbo.realm_id, warn_duplicate_bill_number=False)
    accepted = qbo.post("batch", {"BatchItemRequest": items}).json()["BatchItemResponse"][0]
    assert accepted["Bill"]["DocNumber"] == "DUP-2"
