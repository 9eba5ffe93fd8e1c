from __future__ import annotations

import copy
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import httpx
import pytest

from connector.errors import Permanent, ReauthRequired, Retryable
from connector.procurify.auth import AccessToken, MemoryTokenStore
from connector.procurify.client import ProcurifyClient
from connector.procurify.schemas import Bill, BillSummary, MalformedRecord, PurchaseOrder, Vendor
from connector.procurify.streams import PaginationLoop

SITE = "https://acme.procurify.com"


def token_reply(value: str = "tok-1", expires_in: int = 86400) -> httpx.Response:
    return httpx.Response(200, json={"access_token": value, "expires_in": expires_in, "token_type": "Bearer"})


def page(rows, *, next_url=None, count=None, top_level=False):
    pagination = {"count": count if count is not None else len(rows), "next": next_url, "previous": None}
    if top_level:
        return httpx.Response(200, json={"pagination": pagination, "data": rows})
    return httpx.Response(200, json={"metadata": {"pagination": pagination}, "data": rows})


def vendor(id_: int, name: str | None = None) -> dict:
    return {"id": id_, "name": name or f"Vendor {id_}", "active": True, "type": 3}


def bill_row(id_: int, total="1130.00") -> dict:
    return {
        "id": id_,
        "uuid": f"{id_:032x}",
        "status": 2,
        "last_modified_datetime": "2024-05-03T18:22:41.512000+00:00",
        "vendor": {"id": 42, "name": "Acme Supplies Ltd"},
        "currency": {"id": 3, "name": "USD", "rate": "1.000000"},
        "total_cost_with_tax": total,
        "items": [9001],
    }


BILL_DETAIL = {
    "metadata": {"summary": {"has_multiple_currency": False, "total_cost": 1130.0}},
    "data": {
        "id": 613,
        "uuid": "1f99cf4a8c8d4d4abf5a4d3a2c1e7b88",
        "version": 4,
        "status": 2,
        "type": 0,
        "active": True,
        "invoice_number": "INV-10442",
        "invoice_date": "2024-05-02T00:00:00+00:00",
        "due_date": "2024-06-01T00:00:00+00:00",
        "gl_post_date": None,
        "last_modified_datetime": "2024-05-03T18:22:41.512000+00:00",
        "payment_terms": "Net 30",
        "vendor": {"id": 42, "name": "Acme Supplies Ltd", "active": True, "external_id": "58", "type": 3},
        "currency": {"id": 3, "name": "USD", "rate": "1.000000", "base": True, "active": True},
        "subtotal_cost": 1000.0,
        "tax_amount": 130.0,
        "total_cost_with_tax": 1130.1,
        "items": [
            {
                "id": 9001,
                "description": "Toner cartridge",
                "quantity": "10.00",
                "unit_cost": 100.0,
                "total_cost": 1000.0,
                "po": {"id": 77, "number": "1207", "uuid": "9b2e0c5d4f3a4e0b8c7d6e5f4a3b2c1d"},
                "cost_allocations": [
                    {
                        "id": 5,
                        "amount": "1000.00",
                        "currency": {"id": 3, "name": "USD", "rate": "1.000000"},
                        "budget": {
                            "id": 12,
                            "account_code": {"id": 8, "code": "6100", "description": "Office Supplies"},
                            "department": {"id": 4, "name": "Operations", "branch": {"id": 1, "name": "HQ"}},
                        },
                    }
                ],
            }
        ],
        "costs": [{"id": 1, "name": "Freight", "amount": "12.50"}],
        "added_purchase_orders": [{"id": 77, "number": "1207", "currency": "USD", "total_amount": "1130.00"}],
    },
}


@pytest.fixture
def store(clock):
    return MemoryTokenStore(AccessToken("tok-0", clock.now + timedelta(hours=20)))


@pytest.fixture
def client(http, store, clock, sleeps):
    return ProcurifyClient(SITE, "cid", "secret", store, http=http, clock=clock, sleep=sleeps)


def test_it_sends_the_bearer_and_procurify_headers_on_every_call(fake, client):
    fake.add("GET", "/api/v3/vendors/", page([vendor(42)]))

    list(client.iter_vendors())

    headers = fake.requests[0].headers
    assert headers["Authorization"] == "Bearer tok-0"
    assert headers["X-Procurify-Client"] == "api"
    assert headers["Accept"] == "application/json"
    assert headers["User-Agent"] == "ml-connector/0.1"


def test_it_fetches_and_saves_a_token_when_the_store_is_empty(fake, http, clock, sleeps):
    store = MemoryTokenStore()
    fake.add("POST", "/oauth/token", token_reply("tok-1"))
    fake.add("GET", "/api/v3/vendors/", page([]), page([]))
    client = ProcurifyClient(SITE, "cid", "secret", store, http=http, clock=clock, sleep=sleeps)

    list(client.iter_vendors())
    list(client.iter_vendors())

    assert len(fake.to("/oauth/token")) == 1
    assert store.token is not None and store.token.value == "tok-1"
    assert fake.to("/api/v3/vendors/")[1].headers["Authorization"] == "Bearer tok-1"


def test_it_renews_the_token_ahead_of_expiry_when_inside_the_margin(fake, client, store, clock):
    clock.advance(hours=19, minutes=56)  # 4 minutes left, margin is 5
    fake.add("POST", "/oauth/token", token_reply("tok-1"))
    fake.add("GET", "/api/v3/vendors/", page([]))

    list(client.iter_vendors())

    assert fake.requests[0].url.path == "/oauth/token"
    assert fake.requests[1].headers["Authorization"] == "Bearer tok-1"
    assert store.saves == 1


def test_it_renews_once_and_retries_when_the_api_answers_401(fake, client, store):
    fake.add("GET", "/api/v3/vendors/", httpx.Response(401, json={"detail": "expired"}), page([vendor(7)]))
    fake.add("POST", "/oauth/token", token_reply("tok-1"))

    vendors = list(client.iter_vendors())

    assert [v.id for v in vendors] == [7]
    calls = fake.to("/api/v3/vendors/")
    assert [c.headers["Authorization"] for c in calls] == ["Bearer tok-0", "Bearer tok-1"]
    assert store.token.value == "tok-1"


def test_it_raises_reauth_required_when_a_fresh_token_is_refused_too(fake, client):
    fake.add("GET", "/api/v3/vendors/", httpx.Response(401), httpx.Response(401))
    fake.add("POST", "/oauth/token", token_reply("tok-1"))

    with pytest.raises(ReauthRequired, match="refused a freshly issued token"):
        list(client.iter_vendors())


def test_it_retries_503s_with_backoff_until_success(fake, client, sleeps):
    fake.add("GET", "/api/v3/vendors/", httpx.Response(503), httpx.Response(503), page([vendor(1)]))

    assert len(list(client.iter_vendors())) == 1
    assert len(sleeps) == 2
    assert all(0 <= s <= 2 for s in sleeps)


def test_it_honours_retry_after_seconds_on_429(fake, client, sleeps):
    fake.add("GET", "/api/v3/vendors/", httpx.Response(429, headers={"Retry-After": "7"}), page([]))

    list(client.iter_vendors())

    assert 7 <= sleeps[0] <= 7.7


def test_it_honours_retry_after_as_an_http_date(fake, client, sleeps, clock):
    clock.now = datetime(2026, 3, 2, 12, 0, 0, tzinfo=UTC)
    fake.add(
        "GET",
        "/api/v3/vendors/",
        httpx.Response(503, headers={"Retry-After": "Mon, 02 Mar 2026 12:00:20 GMT"}),
        page([]),
    )

    list(client.iter_vendors())

    assert 20 <= sleeps[0] <= 22


def test_it_gives_up_with_retryable_after_max_attempts(fake, client, sleeps):
    fake.add("GET", "/api/v3/vendors/", *[httpx.Response(502) for _ in range(4)])

    with pytest.raises(Retryable, match="HTTP 502"):
        list(client.iter_vendors())

    assert len(sleeps) == 3


def test_it_retries_a_read_timeout(fake, client, sleeps):
    fake.add("GET", "/api/v3/vendors/", httpx.ReadTimeout("slow"), page([vendor(3)]))

    assert [v.id for v in client.iter_vendors()] == [3]


def test_it_raises_permanent_with_a_sentence_on_403(fake, client):
    fake.add("GET", "/api/v3/account-codes/", httpx.Response(403, json={"detail": "nope"}))

    with pytest.raises(Permanent, match="needs a role"):
        list(client.iter_account_codes())


def test_it_follows_next_links_across_pages(fake, client):
    fake.add(
        "GET",
        "/api/v3/vendors/",
        page([vendor(1), vendor(2)], next_url=f"{SITE}/api/v3/vendors/?page=2&page_size=100", count=3),
        page([vendor(3)], count=3),
    )

    vendors = list(client.iter_vendors())

    assert [v.id for v in vendors] == [1, 2, 3]
    assert all(isinstance(v, Vendor) for v in vendors)
    first, second = fake.requests
    assert first.url.params["page_size"] == "100"
    assert second.url.params["page"] == "2"


def test_it_reads_top_level_pagination_when_metadata_has_none(fake, client):
    fake.add(
        "GET",
        "/api/v3/departments/",
        page([{"id": 4, "name": "Ops"}], next_url=f"{SITE}/api/v3/departments/?page=2", top_level=True),
        page([{"id": 5, "name": "Sales"}], top_level=True),
    )

    assert [d.name for d in client.iter_departments()] == ["Ops", "Sales"]


def test_it_stops_with_an_error_when_next_links_loop(fake, client):
    loop = f"{SITE}/api/v3/vendors/?page=2"
    fake.add("GET", "/api/v3/vendors/", page([vendor(1)], next_url=loop), page([vendor(2)], next_url=loop))

    with pytest.raises(PaginationLoop, match="same next-page link twice"):
        list(client.iter_vendors())


def test_it_stops_with_an_error_after_max_pages(fake, http, store, clock, sleeps):
    client = ProcurifyClient(SITE, "c", "s", store, http=http, clock=clock, sleep=sleeps, max_pages=2)
    fake.add(
        "GET",
        "/api/v3/vendors/",
        page([vendor(1)], next_url=f"{SITE}/api/v3/vendors/?page=2"),
        page([vendor(2)], next_url=f"{SITE}/api/v3/vendors/?page=3"),
    )

    with pytest.raises(PaginationLoop, match="after 2"):
        list(client.iter_vendors())


def test_it_refuses_a_next_link_to_another_host(fake, client):
    fake.add(
        "GET", "/api/v3/vendors/", page([vendor(1)], next_url="https://evil.example/api/v3/vendors/?page=2")
    )

    with pytest.raises(Permanent, match="another host"):
        list(client.iter_vendors())
    assert len(fake.requests) == 1


def test_it_yields_a_malformed_record_and_keeps_going_when_one_amount_is_bad(fake, client, clock):
    bad = bill_row(2, total="twelve dollars")
    fake.add("GET", "/api/v3/ap/bills/", page([bill_row(1), bad, bill_row(3)]))

    rows = list(client.iter_bills(clock.now - timedelta(days=1), clock.now))

    assert [type(r) for r in rows] == [BillSummary, MalformedRecord, BillSummary]
    assert rows[1].record_id == "2"
    assert "total_cost_with_tax" in rows[1].error
    assert rows[1].raw is not None
    held = rows[1].held("bill")
    assert held.reason_code == "malformed_record"
    assert "bill 2" in held.message


def test_it_yields_a_malformed_record_when_fields_are_missing(fake, client):
    fake.add("GET", "/api/v3/vendors/", page([{"id": 9}, "not an object", vendor(10)]))

    rows = list(client.iter_vendors())

    assert isinstance(rows[0], MalformedRecord) and "name" in rows[0].error
    assert isinstance(rows[1], MalformedRecord) and rows[1].record_id is None
    assert isinstance(rows[2], Vendor)


def test_it_raises_permanent_when_a_page_is_not_json(fake, client):
    fake.add("GET", "/api/v3/vendors/", httpx.Response(200, text="<html>maintenance</html>"))

    with pytest.raises(Permanent, match="not JSON"):
        list(client.iter_vendors())


def test_it_raises_permanent_when_a_page_has_no_data(fake, client):
    fake.add("GET", "/api/v3/vendors/", httpx.Response(200, json={"metadata": {}}))

    with pytest.raises(Permanent, match="without a 'data' list"):
        list(client.iter_vendors())


def test_it_filters_bills_by_last_modified_range_sorted(fake, client):
    fake.add("GET", "/api/v3/ap/bills/", page([bill_row(1)]))
    start = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)
    end = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)

    list(client.iter_bills(start, end))

    params = fake.requests[0].url.params
    assert params["last_modified_datetime_0"] == "2026-03-01T00:00:00+00:00"
    assert params["last_modified_datetime_1"] == "2026-03-02T00:00:00+00:00"
    assert params["order_by"] == "last_modified_datetime"
    assert params["page_size"] == "100"


def test_it_refuses_naive_datetimes_for_the_bill_window(client):
    with pytest.raises(ValueError, match="timezone-aware"):
        client.iter_bills(datetime(2026, 3, 1), datetime(2026, 3, 2))


def test_it_parses_a_bill_detail_with_decimal_money(fake, client):
    fake.add(
        "GET", "/api/v2/ap/bills/1f99cf4a8c8d4d4abf5a4d3a2c1e7b88/", httpx.Response(200, json=BILL_DETAIL)
    )

    bill = client.get_bill("1f99cf4a8c8d4d4abf5a4d3a2c1e7b88")

    assert isinstance(bill, Bill)
    assert bill.total_cost_with_tax == Decimal("1130.1")  # JSON number read without float rounding
    allocation = bill.items[0].cost_allocations[0]
    assert allocation.amount == Decimal("1000.00")
    assert allocation.budget.account_code.code == "6100"
    assert allocation.budget.department.branch.name == "HQ"
    assert bill.currency.rate == Decimal("1.000000")
    assert bill.costs[0].amount == Decimal("12.50")
    assert bill.added_purchase_orders[0].number == "1207"


def test_it_returns_a_malformed_record_for_a_broken_bill_detail(fake, client):
    broken = copy.deepcopy(BILL_DETAIL)
    broken["data"]["items"][0]["cost_allocations"][0]["amount"] = "NaN"
    fake.add("GET", "/api/v2/ap/bills/abc123/", httpx.Response(200, json=broken))

    result = client.get_bill("abc123")

    assert isinstance(result, MalformedRecord)
    assert result.record_id == "1f99cf4a8c8d4d4abf5a4d3a2c1e7b88"
    assert "items.0.cost_allocations.0.amount" in result.error


def test_it_refuses_ids_that_would_change_the_path(client):
    with pytest.raises(ValueError):
        client.get_bill("../../users/me")


def test_it_filters_purchase_orders_by_modified_date(fake, client):
    po = {"uuid": "9b2e", "number": "1207", "procurify_PO": 1207, "total": "1130.00", "state": 0}
    fake.add("GET", "/api/v2/purchase_orders/purchased/all/", page([po]))

    (row,) = list(client.iter_purchase_orders(date(2026, 3, 1), date(2026, 3, 2)))

    params = fake.requests[0].url.params
    assert (params["modified_date_0"], params["modified_date_1"]) == ("2026-03-01", "2026-03-02")
    assert isinstance(row, PurchaseOrder) and row.procurify_po == 1207 and row.total == Decimal("1130.00")


def test_it_reads_a_purchase_order_with_its_lines(fake, client):
    detail = {
        "data": {
            "uuid": "9b2e",
            "number": "1207",
            "order_items": [{"id": 1, "PO_line_num": 1, "name": "Toner", "quantity": "2", "price": "5.25"}],
        }
    }
    fake.add("GET", "/api/v2/purchase_orders/1207/", httpx.Response(200, json=detail))

    po = client.get_purchase_order(1207)

    assert po.order_items[0].price == Decimal("5.25")
    assert po.order_items[0].po_line_num == 1


def test_it_pings_with_a_token_and_one_vendor_page(fake, client, store):
    fake.add("GET", "/api/v3/vendors/", page([vendor(1)], count=57))

    result = client.ping()

    assert result.vendor_count == 57
    assert result.token_expires_at == store.token.expires_at
    assert fake.requests[0].url.params["page_size"] == "1"


def test_it_works_under_a_plain_http_loopback_site_with_a_path_prefix(fake, http, clock, sleeps):
    site = "http://127.0.0.1:8765/procurify/acme/"
    store = MemoryTokenStore()
    fake.add("POST", "/procurify/acme/oauth/token", token_reply())
    fake.add(
        "GET",
        "/procurify/acme/api/v3/vendors/",
        page([vendor(1)], next_url="http://127.0.0.1:8765/procurify/acme/api/v3/vendors/?page=2"),
        page([vendor(2)]),
    )
    client = ProcurifyClient(site, "cid", "secret", store, http=http, clock=clock, sleep=sleeps)

    assert [v.id for v in client.iter_vendors()] == [1, 2]
    assert str(fake.requests[1].url).startswith("http://127.0.0.1:8765/procurify/acme/api/v3/vendors/?")


def test_it_lets_the_caller_choose_a_smaller_page_size(fake, http, store, clock, sleeps):
    client = ProcurifyClient(SITE, "c", "s", store, http=http, clock=clock, sleep=sleeps, page_size=25)
    fake.add("GET", "/api/v3/account-codes/", page([{"id": 8, "code": "6100"}]))

    (code,) = list(client.iter_account_codes())

    assert fake.requests[0].url.params["page_size"] == "25"
    assert code.code == "6100"
