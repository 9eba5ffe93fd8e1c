from __future__ import annotations

import json
from decimal import Decimal

import httpx
import pytest

from connector.errors import Permanent, QBOFault, ReauthRequired, Retryable
from connector.qbo.client import BatchItemResult, QBOClient
from connector.qbo.schemas import Bill, CompanyInfo, Vendor

BASE = "/v3/company/4620816365"
BILL = {"Id": "146", "SyncToken": "0", "TotalAmt": 125.5, "VendorRef": {"value": "56"}, "CustomFieldX": [1]}


class Tokens:
    """token_provider fake: records force_refresh flags, hands out a new token on force."""

    def __init__(self) -> None:
        self.calls: list[bool] = []
        self.n = 0

    def __call__(self, force_refresh: bool) -> str:
        self.calls.append(force_refresh)
        if force_refresh:
            self.n += 1
        return f"access-{self.n}"


def fault(code: str, message: str, detail: str = "", status: int = 400, **headers: str) -> httpx.Response:
    body = {
        "Fault": {"Error": [{"Message": message, "Detail": detail, "code": code}], "type": "ValidationFault"}
    }
    return httpx.Response(status, json=body, headers=headers)


XML_THROTTLE = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<IntuitResponse xmlns="http://schema.intuit.com/finance/v3" time="2025-06-01T10:15:02.123-07:00">
  <Fault type="SERVICE"><Error code="3001"><Message>message=ThrottleExceeded; errorCode=003001</Message>
  <Detail>The request limit was reached. Try again later</Detail></Error></Fault></IntuitResponse>"""

XML_VALIDATION = """<IntuitResponse xmlns="http://schema.intuit.com/finance/v3">
  <Fault type="ValidationFault"><Error code="6240" element="DisplayName">
  <Message>Duplicate Name Exists Error</Message>
  <Detail>The name supplied already exists. : Id=58</Detail></Error></Fault></IntuitResponse>"""


@pytest.fixture
def tokens() -> Tokens:
    return Tokens()


@pytest.fixture
def qbo(http, tokens, sleeps, clock) -> QBOClient:
    return QBOClient("https://qbo.test/", "4620816365", tokens, http=http, sleep=sleeps, clock=clock)


def test_it_pins_minorversion_and_sends_bearer_on_reads(fake, qbo):
    fake.add("GET", f"{BASE}/bill/146", httpx.Response(200, json={"Bill": BILL, "time": "t"}))

    bill = qbo.read("Bill", "146")

    request = fake.requests[0]
    assert request.url.params["minorversion"] == "75"
    assert "requestid" not in request.url.params
    assert request.headers["Authorization"] == "Bearer access-0"
    assert request.headers["Accept"] == "application/json"
    assert isinstance(bill, Bill) and bill.TotalAmt == Decimal("125.5")


def test_it_sends_a_fresh_uuid_requestid_on_every_write(fake, qbo):
    fake.add("POST", f"{BASE}/vendor", *[httpx.Response(200, json={"Vendor": {"Id": "1"}}) for _ in range(2)])

    qbo.create("Vendor", {"DisplayName": "A"})
    qbo.create("Vendor", {"DisplayName": "B"})

    ids = [r.url.params["requestid"] for r in fake.requests]
    assert len(set(ids)) == 2 and all(len(i) == 32 for i in ids)


def test_it_reuses_the_same_requestid_when_retrying_503s(fake, qbo, sleeps):
    fake.add(
        "POST",
        f"{BASE}/bill",
        httpx.Response(503, text="<html>down</html>"),
        httpx.Response(503),
        httpx.Response(200, json={"Bill": BILL}),
    )

    bill = qbo.create("Bill", {"VendorRef": {"value": "56"}, "Line": []}, request_id="outbox-17")

    assert bill.Id == "146"
    assert [r.url.params["requestid"] for r in fake.requests] == ["outbox-17"] * 3
    assert len(sleeps) == 2


def test_it_retries_a_write_timeout_with_the_same_requestid(fake, qbo):
    fake.add("POST", f"{BASE}/bill", httpx.ReadTimeout("slow"), httpx.Response(200, json={"Bill": BILL}))

    qbo.create("Bill", {"VendorRef": {"value": "56"}})

    first, second = fake.requests
    assert first.url.params["requestid"] == second.url.params["requestid"]


def test_it_refreshes_once_and_retries_with_the_same_requestid_after_401(fake, qbo, tokens):
    expired = {
        "fault": {"error": [{"message": "message=AuthenticationFailed; errorCode=003200", "code": "3200"}]}
    }
    fake.add(
        "POST", f"{BASE}/bill", httpx.Response(401, json=expired), httpx.Response(200, json={"Bill": BILL})
    )

    qbo.create("Bill", {"VendorRef": {"value": "56"}})

    assert tokens.calls == [False, True]
    first, second = fake.requests
    assert first.url.params["requestid"] == second.url.params["requestid"]
    assert second.headers["Authorization"] == "Bearer access-1"


def test_it_raises_reauth_required_when_401_survives_a_refresh(fake, qbo, tokens):
    fake.add("GET", f"{BASE}/bill/1", httpx.Response(401), httpx.Response(401))

    with pytest.raises(ReauthRequired, match="Reconnect QuickBooks"):
        qbo.read("Bill", "1")
    assert tokens.calls == [False, True]


def test_it_raises_reauth_required_on_403_application_authorization_failed(fake, qbo):
    fake.add("GET", f"{BASE}/bill/1", fault("3100", "ApplicationAuthorizationFailed", status=403))

    with pytest.raises(ReauthRequired):
        qbo.read("Bill", "1")


def test_it_waits_sixty_seconds_on_429_without_retry_after(fake, qbo, sleeps):
    fake.add("GET", f"{BASE}/bill/1", httpx.Response(429), httpx.Response(200, json={"Bill": BILL}))

    qbo.read("Bill", "1")

    assert 60 <= sleeps[0] <= 66


def test_it_honours_retry_after_on_429(fake, qbo, sleeps):
    fake.add(
        "GET",
        f"{BASE}/bill/1",
        httpx.Response(429, headers={"Retry-After": "3"}),
        httpx.Response(200, json={"Bill": BILL}),
    )

    qbo.read("Bill", "1")

    assert 3 <= sleeps[0] <= 3.3


def test_it_treats_an_xml_throttle_fault_as_retryable(fake, qbo, sleeps):
    xml = httpx.Response(403, text=XML_THROTTLE, headers={"Content-Type": "application/xml"})
    fake.add("GET", f"{BASE}/bill/1", xml, httpx.Response(200, json={"Bill": BILL}))

    qbo.read("Bill", "1")

    assert len(sleeps) == 1 and sleeps[0] >= 60


def test_it_raises_retryable_after_exhausting_attempts_on_system_faults(fake, qbo, sleeps):
    fake.add("GET", f"{BASE}/bill/1", *[fault("10000", "An application error has occurred", status=500)] * 4)

    with pytest.raises(Retryable):
        qbo.read("Bill", "1")
    assert len(sleeps) == 3


def test_it_parses_an_xml_validation_fault_into_a_qbo_fault(fake, qbo):
    fake.add("POST", f"{BASE}/vendor", httpx.Response(400, text=XML_VALIDATION))

    with pytest.raises(QBOFault) as info:
        qbo.create("Vendor", {"DisplayName": "Acme"})

    error = info.value.errors[0]
    assert (error.code, error.element) == ("6240", "DisplayName")
    assert "Id=58" in error.detail
    assert info.value.is_duplicate_name()
    assert info.value.fault_type == "ValidationFault"


def test_it_never_expands_entities_in_an_xml_body(fake, qbo):
    evil = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'
    fake.add("GET", f"{BASE}/bill/1", httpx.Response(400, text=evil))

    with pytest.raises(QBOFault) as info:
        qbo.read("Bill", "1")
    assert info.value.errors == []


def test_it_raises_a_stale_object_fault_without_retrying(fake, qbo, sleeps):
    fake.add("POST", f"{BASE}/bill", fault("5010", "Stale Object Error", "You and Jo were working on this"))

    with pytest.raises(QBOFault) as info:
        qbo.update("Bill", {"Id": "146", "SyncToken": "0", "DueDate": "2025-08-01"})

    assert info.value.is_stale_object()
    assert not info.value.is_period_closed()
    assert sleeps == []


def test_it_raises_a_fault_carried_inside_an_http_200(fake, qbo):
    fake.add("GET", f"{BASE}/companyinfo/4620816365", fault("6190", "Invalid Company Status", status=200))

    with pytest.raises(QBOFault, match="6190"):
        qbo.company_info()


def test_it_raises_permanent_when_a_200_body_is_not_json(fake, qbo):
    fake.add("GET", f"{BASE}/bill/1", httpx.Response(200, text="oops"))

    with pytest.raises(Permanent, match="not JSON"):
        qbo.read("Bill", "1")


def test_it_sends_a_sparse_update_flag_in_the_body(fake, qbo):
    fake.add("POST", f"{BASE}/bill", httpx.Response(200, json={"Bill": {**BILL, "SyncToken": "1"}}))

    updated = qbo.update("Bill", {"Id": "146", "SyncToken": "0", "DueDate": "2025-08-01"}, request_id="r1")

    sent = json.loads(fake.requests[0].content)
    assert sent == {"Id": "146", "SyncToken": "0", "DueDate": "2025-08-01", "sparse": True}
    assert updated.SyncToken == "1"


def test_it_round_trips_unknown_fields_on_a_full_update(fake, qbo):
    fake.add(
        "GET", f"{BASE}/bill/146", httpx.Response(200, json={"Bill": {**BILL, "Line": [_line("125.50")]}})
    )
    fake.add("POST", f"{BASE}/bill", httpx.Response(200, json={"Bill": BILL}))
    bill = qbo.read("Bill", "146")

    qbo.update("Bill", bill, sparse=False)

    sent = json.loads(fake.requests[1].content)
    assert sent["CustomFieldX"] == [1]
    assert sent["sparse"] is False
    assert sent["Line"][0]["Amount"] == 125.5  # a JSON number, not a string
    assert sent["TotalAmt"] == 125.5


def test_it_refuses_an_update_without_sync_token(qbo):
    with pytest.raises(ValueError, match="SyncToken"):
        qbo.update("Bill", {"Id": "146"})


def test_it_deletes_with_the_delete_operation(fake, qbo):
    fake.add("POST", f"{BASE}/bill", httpx.Response(200, json={"Bill": {"Id": "146", "status": "Deleted"}}))

    result = qbo.delete("Bill", "146", "3")

    request = fake.requests[0]
    assert request.url.params["operation"] == "delete"
    assert json.loads(request.content) == {"Id": "146", "SyncToken": "3"}
    assert result.status == "Deleted"


def test_it_sends_queries_escaped_and_url_encoded(fake, qbo):
    fake.add("GET", f"{BASE}/query", httpx.Response(200, json={"QueryResponse": {}}))

    assert qbo.query("SELECT * FROM Vendor WHERE DisplayName = 'O\\'Brien'") == {}
    assert fake.requests[0].url.params["query"] == "SELECT * FROM Vendor WHERE DisplayName = 'O\\'Brien'"
    assert b"%5C" in fake.requests[0].url.query  # backslash encoded once


def test_it_pages_query_all_until_a_short_page(fake, qbo):
    def rows(start, n):
        return [{"Id": str(i), "DisplayName": f"V{i}"} for i in range(start, start + n)]

    fake.add(
        "GET",
        f"{BASE}/query",
        httpx.Response(200, json={"QueryResponse": {"Vendor": rows(1, 2)}}),
        httpx.Response(200, json={"QueryResponse": {"Vendor": rows(3, 2)}}),
        httpx.Response(200, json={"QueryResponse": {"Vendor": rows(5, 1)}}),
    )

    vendors = list(qbo.query_all("Vendor", "Active IN (true, false)", page_size=2))

    assert [v.Id for v in vendors] == ["1", "2", "3", "4", "5"]
    assert all(isinstance(v, Vendor) for v in vendors)
    statements = [r.url.params["query"] for r in fake.requests]
    assert statements[1] == "SELECT * FROM Vendor WHERE Active IN (true, false) STARTPOSITION 3 MAXRESULTS 2"


def test_it_stops_query_all_when_a_page_repeats(fake, qbo):
    same = httpx.Response(200, json={"QueryResponse": {"Vendor": [{"Id": "1"}, {"Id": "2"}]}})
    fake.add("GET", f"{BASE}/query", same, same)

    with pytest.raises(Permanent, match="same page"):
        list(qbo.query_all("Vendor", page_size=2))


def test_it_returns_per_item_results_and_faults_from_a_batch(fake, qbo):
    response = {
        "BatchItemResponse": [
            {
                "bId": "b2",
                "Fault": {
                    "type": "ValidationFault",
                    "Error": [{"code": "5010", "Message": "Stale Object Error"}],
                },
            },
            {"bId": "b1", "Vendor": {"Id": "9", "DisplayName": "Acme"}},
            {"bId": "b3", "QueryResponse": {"Term": []}},
        ]
    }
    fake.add("POST", f"{BASE}/batch", httpx.Response(200, json=response))

    results = qbo.batch(
        [
            {"operation": "create", "Vendor": {"DisplayName": "Acme"}},
            {"operation": "update", "Bill": {"Id": "146", "SyncToken": "1", "sparse": True}},
            {"Query": "SELECT * FROM Term"},
        ]
    )

    first, second, third = results
    assert isinstance(first, BatchItemResult) and first.data.Id == "9"
    assert isinstance(second, QBOFault) and second.is_stale_object()
    assert isinstance(third, BatchItemResult) and third.entity == "QueryResponse"
    sent = json.loads(fake.requests[0].content)
    assert [i["bId"] for i in sent["BatchItemRequest"]] == ["b1", "b2", "b3"]
    assert len(fake.requests[0].url.params["requestid"]) <= 36


def test_it_refuses_batches_over_thirty_items(qbo):
    with pytest.raises(ValueError, match="at most 30"):
        qbo.batch([{"Query": "SELECT * FROM Term"}] * 31)


def test_it_reads_company_info(fake, qbo):
    fake.add(
        "GET",
        f"{BASE}/companyinfo/4620816365",
        httpx.Response(200, json={"CompanyInfo": {"Id": "1", "CompanyName": "Northwind"}}),
    )

    info = qbo.company_info()

    assert isinstance(info, CompanyInfo) and info.CompanyName == "Northwind"


def test_it_refuses_path_injection_in_entity_and_id(qbo):
    with pytest.raises(ValueError):
        qbo.read("Bill", "1/../../x")
    with pytest.raises(ValueError):
        qbo.read("bill/../x", "1")


def _line(amount: str) -> dict:
    return {
        "Id": "1",
        "Amount": float(amount),
        "DetailType": "AccountBasedExpenseLineDetail",
        "AccountBasedExpenseLineDetail": {"AccountRef": {"value": "7"}},
    }
