"""Seed data: deterministic, realistic, and carrying the stories the demo needs (issue §4)."""

from __future__ import annotations

import json
import time
import unicodedata

from sandbox_support import FIXED_NOW

from sandbox import Sandbox


def _normalise(name: str) -> str:
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().casefold()
    words = "".join(c if c.isalnum() or c.isspace() else " " for c in folded).split()
    return " ".join(w for w in words if w not in {"ltd", "inc", "co", "llc", "gmbh", "corp"})


def _dump(sb: Sandbox) -> str:
    site = sb.procurify.site("northwind")
    bills = sb.procurify.bills("northwind")
    qbo = [sb.qbo.objects(sb.realm_ids[0], e) for e in ("Vendor", "Account")]
    return json.dumps([bills, site.pos, site.currencies, qbo], sort_keys=True, default=str)


def test_it_generates_identical_data_for_the_same_seed_and_clock() -> None:
    assert _dump(Sandbox.create(now=FIXED_NOW)) == _dump(Sandbox.create(now=FIXED_NOW))


def test_it_generates_identical_data_without_multicurrency_too() -> None:
    def make() -> Sandbox:
        return Sandbox.create(now=FIXED_NOW, qbo_multicurrency=False)

    assert _dump(make()) == _dump(make())


def test_it_seeds_a_distributor_with_a_dozen_suppliers_and_five_later_ones(sb: Sandbox) -> None:
    site = sb.procurify.site("northwind")
    suppliers = [v for v in site.vendors.values() if v["type"] in (3, 4)]
    assert len(suppliers) == 17
    names = {v["name"] for v in suppliers}
    assert any("'" in n for n in names) and any(n != n.encode("ascii", "ignore").decode() for n in names)
    assert any(len(n) > 50 for n in names)


def test_it_has_an_approved_bill_whose_account_code_has_no_qbo_account(sb: Sandbox) -> None:
    qbo_numbers = {a.get("AcctNum") for a in sb.qbo.objects(sb.realm_ids[0], "Account")}
    held = [
        b
        for b in sb.procurify.bills("northwind")
        if b["status"] == 2
        and any(
            a["budget"]["account_code"]["code"] not in qbo_numbers
            for item in b["items"]
            for a in item["cost_allocations"]
        )
    ]
    assert held
    codes = {a["code"] for a in sb.procurify.site("northwind").account_codes.values()}
    assert codes & qbo_numbers and codes - qbo_numbers  # some match, some don't


def test_it_has_qbo_vendors_that_match_by_normalised_name_and_some_that_do_not(sb: Sandbox) -> None:
    procurify = {_normalise(v["name"]) for v in sb.procurify.site("northwind").vendors.values()}
    qbo = sb.qbo.objects(sb.realm_ids[0], "Vendor")
    matching = [v for v in qbo if _normalise(v["DisplayName"]) in procurify]
    exact = {v["name"] for v in sb.procurify.site("northwind").vendors.values()}
    assert len(matching) >= 4 and len(matching) < len(qbo)
    assert any(v["DisplayName"] not in exact for v in matching)  # only after normalising
    assert any(not v["Active"] for v in qbo)
    assert any(not a["Active"] for a in sb.qbo.objects(sb.realm_ids[0], "Account"))


def test_it_covers_statuses_currencies_splits_long_invoices_and_po_links(sb: Sandbox) -> None:
    bills = sb.procurify.bills("northwind")
    assert {0, 2, 4} <= {b["status"] for b in bills}
    foreign = [b for b in bills if b["currency"]["name"] != "USD"]
    assert {b["currency"]["name"] for b in foreign} == {"CAD", "EUR"}
    assert all(b["currency"]["rate"] != "1.000000" for b in foreign)
    assert any(len(b["items"]) > 1 for b in bills)
    assert any(len(i["cost_allocations"]) > 1 for b in bills for i in b["items"])
    assert any(len(b["invoice_number"]) > 21 for b in bills)
    assert any(i["po"] for b in bills for i in b["items"])


def test_it_generates_ten_thousand_bills_in_seconds() -> None:
    started = time.perf_counter()
    sb = Sandbox.create(seed="large", n_bills=10_000, n_vendors=500, n_pos=1_000)
    elapsed = time.perf_counter() - started
    site = sb.procurify.site("large")
    assert len(site.bills) == 10_000 and len(site.pos) == 1_000 and len(site.vendors) == 501
    assert elapsed < 5


def test_it_creates_one_site_and_realm_per_tenant() -> None:
    sb = Sandbox.create(seed="large", tenants=3, n_bills=20, n_vendors=10, n_pos=5)
    assert sb.domains == ["large", "large2", "large3"]
    assert len(set(sb.realm_ids)) == 3
    assert sb.credentials["procurify"]["large2"]["client_id"] == "large2-demo-client"
