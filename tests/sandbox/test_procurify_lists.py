"""Procurify lists, filters and details (reference §2, §3, §6)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sandbox_support import FIXED_NOW, Procurify

from sandbox import Sandbox


def _all_pages(procurify: Procurify, path: str, **params) -> list[dict]:
    rows, response = [], procurify.get(path, **params)
    while True:
        body = response.json()
        rows += body["data"]
        nxt = body["metadata"]["pagination"]["next"]
        if nxt is None:
            return rows
        assert nxt.startswith("http://sandbox.test/procurify/northwind/")
        response = procurify.client.get(nxt, headers={"Authorization": f"Bearer {procurify.token}"})


def test_it_wraps_lists_in_the_pagination_envelope(procurify: Procurify) -> None:
    body = procurify.get("/api/v3/ap/bills/", page_size=5).json()
    pagination = body["metadata"]["pagination"]
    assert set(pagination) == {"count", "next", "previous", "page_size", "num_pages", "current_page"}
    assert pagination["page_size"] == 5 and pagination["current_page"] == 1 and pagination["previous"] is None
    assert len(body["data"]) == 5
    assert "page=2" in pagination["next"] and "page_size=5" in pagination["next"]


def test_it_follows_next_links_to_every_row_once(sb: Sandbox, procurify: Procurify) -> None:
    rows = _all_pages(procurify, "/api/v3/ap/bills/", page_size=7)
    assert len(rows) == len(sb.procurify.site("northwind").bills)
    assert len({r["uuid"] for r in rows}) == len(rows)


def test_it_defaults_page_size_to_10_and_caps_it_at_100(procurify: Procurify) -> None:
    assert procurify.get("/api/v3/ap/bills/").json()["metadata"]["pagination"]["page_size"] == 10
    assert (
        procurify.get("/api/v3/ap/bills/", page_size=5000).json()["metadata"]["pagination"]["page_size"]
        == 100
    )


def test_it_answers_404_invalid_page_past_the_end(procurify: Procurify) -> None:
    response = procurify.get("/api/v3/ap/bills/", page=99)
    assert response.status_code == 404
    assert response.json() == {"detail": "Invalid page."}


def test_it_ignores_unknown_query_parameters(procurify: Procurify) -> None:
    plain = procurify.get("/api/v3/ap/bills/", page_size=100).json()["data"]
    noisy = procurify.get("/api/v3/ap/bills/", page_size=100, status="2", frobnicate="yes").json()["data"]
    assert noisy == plain
    assert {b["status"] for b in noisy} != {2}  # no server-side status filter (§2)


def test_it_filters_bills_by_last_modified_range_inclusively(sb: Sandbox, procurify: Procurify) -> None:
    bills = sorted(sb.procurify.site("northwind").bills.values(), key=lambda b: b["last_modified"])
    low, high = bills[3]["last_modified"], bills[8]["last_modified"]
    rows = _all_pages(
        procurify,
        "/api/v3/ap/bills/",
        last_modified_datetime_0=low.isoformat(),
        last_modified_datetime_1=high.isoformat(),
        page_size=100,
    )
    assert {r["uuid"] for r in rows} == {b["uuid"] for b in bills[3:9]}


def test_it_rejects_a_malformed_datetime_filter(procurify: Procurify) -> None:
    response = procurify.get("/api/v3/ap/bills/", last_modified_datetime_0="yesterday")
    assert response.status_code == 400
    assert "last_modified_datetime_0" in response.json()


def test_it_orders_bills_by_last_modified_descending(procurify: Procurify) -> None:
    rows = procurify.get("/api/v3/ap/bills/", order_by="-last_modified_datetime", page_size=100).json()[
        "data"
    ]
    stamps = [r["last_modified_datetime"] for r in rows]
    assert stamps == sorted(stamps, reverse=True)


def test_it_shows_an_edited_bill_in_the_next_incremental_window(sb: Sandbox, procurify: Procurify) -> None:
    watermark = sb.clock.now()
    bill = procurify.get("/api/v3/ap/bills/", page_size=1).json()["data"][0]
    sb.clock.advance(seconds=60)
    sb.procurify.edit_bill("northwind", bill["uuid"], note="corrected", invoice_number="GLF-20931-A")
    rows = procurify.get("/api/v3/ap/bills/", last_modified_datetime_0=watermark.isoformat()).json()["data"]
    assert [r["uuid"] for r in rows] == [bill["uuid"]]
    assert rows[0]["version"] == bill["version"] + 1
    assert rows[0]["invoice_number"] == "GLF-20931-A"
    assert rows[0]["last_modified_datetime"] > bill["last_modified_datetime"]


def test_it_returns_bill_detail_with_split_cost_allocations(procurify: Procurify) -> None:
    rows = procurify.get("/api/v3/ap/bills/", page_size=100).json()["data"]
    obrien = next(r for r in rows if r["invoice_number"] == "OB-7781")
    detail = procurify.get(f"/api/v2/ap/bills/{obrien['uuid']}/").json()["data"]
    splits = [len(item["cost_allocations"]) for item in detail["items"]]
    assert splits == [2, 3]
    for item in detail["items"]:
        amounts = sum(Decimal(a["amount"]) for a in item["cost_allocations"])
        assert amounts == Decimal(str(item["total_cost"]))
        assert isinstance(item["cost_allocations"][0]["amount"], str)  # decimals as strings
        assert item["cost_allocations"][0]["budget"]["account_code"]["code"] in ("6200", "6400")
    assert isinstance(detail["total_cost_with_tax"], float)


def test_it_answers_404_for_an_unknown_bill_uuid(procurify: Procurify) -> None:
    assert procurify.get("/api/v2/ap/bills/0123456789abcdef0123456789abcdef/").status_code == 404


def test_it_refuses_to_create_or_delete_bills(procurify: Procurify) -> None:
    headers = {"Authorization": f"Bearer {procurify.token}"}
    response = procurify.client.post(f"{procurify.base}/api/v3/ap/bills/", json={}, headers=headers)
    assert response.status_code == 405


def test_it_redirects_paths_without_a_trailing_slash(procurify: Procurify) -> None:
    response = procurify.get("/api/v3/vendors")
    assert response.status_code == 301
    assert response.headers["Location"].endswith("/api/v3/vendors/")


def test_it_removes_and_voids_bills_through_the_change_api(sb: Sandbox, procurify: Procurify) -> None:
    first, second = procurify.get("/api/v3/ap/bills/", page_size=2).json()["data"]
    sb.procurify.remove_bill("northwind", first["uuid"])
    assert procurify.get(f"/api/v2/ap/bills/{first['uuid']}/").status_code == 404
    voided = sb.procurify.void_bill("northwind", second["uuid"])
    assert voided["status"] == 5 and voided["active"] is False


def test_it_lists_added_vendors_and_bills(sb: Sandbox, procurify: Procurify) -> None:
    vendor = sb.procurify.add_vendor("northwind", "Zed's Widgets")
    sb.procurify.add_bill("northwind", vendor_id=vendor["id"], invoice_number="Z-1", status="approved")
    names = [v["name"] for v in procurify.get("/api/v3/vendors/", page_size=100).json()["data"]]
    assert "Zed's Widgets" in names
    bills = procurify.get("/api/v3/ap/bills/", vendor=str(vendor["id"])).json()["data"]
    assert [b["invoice_number"] for b in bills] == ["Z-1"]


def test_it_filters_vendors_and_account_codes(procurify: Procurify) -> None:
    vendors = procurify.get("/api/v3/vendors/", exclude_other="true", page_size=100).json()["data"]
    assert all(v["id"] != 1 for v in vendors)
    assert procurify.get("/api/v3/vendors/preferred/", page_size=100).json()["data"]
    codes = procurify.get("/api/v3/account-codes/", active="true", page_size=100).json()["data"]
    assert codes and all(c["active"] for c in codes)
    assert "6900" not in {c["code"] for c in codes}


def test_it_lists_departments_locations_and_currencies(procurify: Procurify) -> None:
    departments = procurify.get("/api/v3/departments/").json()["data"]
    assert all("branch" in d for d in departments)
    assert procurify.get("/api/v2/locations/").json()["data"]
    currencies = procurify.get("/api/v2/currencies/").json()["data"]
    assert {c["name"] for c in currencies} == {"USD", "CAD", "EUR"}


def test_it_lists_purchase_orders_by_role_status_and_modified_date(sb: Sandbox, procurify: Procurify) -> None:
    body = procurify.get("/api/v2/purchase_orders/purchased/all/").json()
    assert body["metadata"]["counts"]["purchased"]["all"] == len(body["data"]) == 10
    closed = procurify.get("/api/v2/purchase_orders/purchased/closed/").json()["data"]
    assert closed and all(p["state"] == 3 for p in closed)
    since = (FIXED_NOW - timedelta(days=35)).date().isoformat()
    recent = procurify.get("/api/v2/purchase_orders/purchased/all/", modified_date_0=since).json()["data"]
    assert recent and all(p["last_modified"][:10] >= since for p in recent)
    assert procurify.get("/api/v2/purchase_orders/bogus/all/").status_code == 404


def test_it_returns_po_detail_by_number_or_uuid(procurify: Procurify) -> None:
    row = procurify.get("/api/v2/purchase_orders/purchased/all/").json()["data"][0]
    by_number = procurify.get(f"/api/v2/purchase_orders/{row['procurify_PO']}/").json()["data"]
    by_uuid = procurify.get(f"/api/v2/purchase_orders/{row['uuid']}/").json()["data"]
    assert by_number == by_uuid
    assert by_number["order_items"][0]["accountCode"]
    assert isinstance(by_number["total"], str)


def test_it_injects_429_and_5xx_on_request(sb: Sandbox, procurify: Procurify) -> None:
    sb.faults.update(retry_after=7)
    sb.faults.throttle_next(1, target="procurify")
    sb.faults.fail_next(1, status=502, target="procurify")
    throttled = procurify.get("/api/v3/vendors/")
    assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "7"
    assert procurify.get("/api/v3/vendors/").status_code == 502
    assert procurify.get("/api/v3/vendors/").status_code == 200


def test_it_counts_requests_per_endpoint(sb: Sandbox, procurify: Procurify) -> None:
    procurify.get("/api/v3/ap/bills/")
    procurify.get("/api/v3/ap/bills/", page=2)
    stats = sb.procurify.stats("northwind")
    assert stats["by_endpoint"]["GET ap/bills"] == 2
    assert stats["tokens_issued"] == 1
