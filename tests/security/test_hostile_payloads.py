"""Hostile Procurify payloads: at the edge, in the pure transform, through the engine, on the pages.

(a) Whatever Procurify sends, the client yields a model, a MalformedRecord with a message, or raises
    one of our own ConnectorErrors (a broken envelope) — never anything else.
(b) The transform turns a parsed bill into a QBO payload whose lines add up to the bill's total, with
    finite cent amounts and a DocNumber QuickBooks accepts, or into a hold with a known reason code.
(c) The engine, against the in-process sandbox, holds hostile bills with a sentence, writes nothing
    wrong to QuickBooks and still syncs the good bills.
(d) Vendor names with markup render escaped on the mapping and held-record pages.
"""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from security_support import (
    AMOUNTS,
    CODE_MAPPED,
    CODE_OTHER,
    HOSTILE_TEXT,
    NOW,
    VENDOR_INACTIVE,
    VENDOR_MAPPED,
    VENDOR_UNMAPPED,
    Wired,
    allocation,
    bill_detail,
    hostile_value,
    money,
    mutate,
    paths,
    run_sync,
    to_json_bytes,
)

from connector.errors import ConnectorError
from connector.hold_reasons import REASONS
from connector.models import ExternalRecord, HeldRecord, SyncRun
from connector.procurify.auth import AccessToken, MemoryTokenStore
from connector.procurify.client import ProcurifyClient
from connector.procurify.schemas import Bill, BillSummary, MalformedRecord, PurchaseOrder, Vendor
from connector.procurify.streams import parse_record
from connector.sync.transform import (
    CENT,
    DOC_NUMBER_MAX,
    Books,
    Held,
    Mappings,
    Plan,
    Ref,
    _money,
    bill_plan,
    vendor_payload,
)

KNOWN_REASONS = set(REASONS)
cents = st.integers(min_value=0, max_value=5_000_00).map(lambda c: Decimal(c) / 100)
# Text Postgres can store (the edge refuses the rest, proven above), so the transform gets exercised.
STORABLE = [t for t in HOSTILE_TEXT if "\x00" not in t and "\ud800" not in t]
text = st.one_of(st.sampled_from(STORABLE), st.text(st.characters(exclude_characters="\x00"), max_size=40))
FAST = settings(max_examples=150, deadline=None, derandomize=True)


# ---- (a) the edge ----------------------------------------------------------------------------------


def _client(body: bytes, status: int = 200) -> ProcurifyClient:
    """A ProcurifyClient whose every GET answers ``body`` (a fake only at the HTTP seam)."""

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=body, headers={"Content-Type": "application/json"})

    token = MemoryTokenStore(AccessToken("token-for-tests", NOW + timedelta(days=1)))
    return ProcurifyClient(
        "https://acme.procurify.test",
        "client",
        "secret",
        token,
        http=httpx.Client(transport=httpx.MockTransport(answer)),
        clock=lambda: NOW,
        sleep=lambda _: None,
        max_attempts=1,
    )


def _assert_edge_result(result: Any, model: type) -> None:
    assert isinstance(result, model | MalformedRecord), type(result)
    if isinstance(result, MalformedRecord):
        assert result.error and isinstance(result.error, str)
        held = result.held("Procurify bill")
        assert held.reason_code == "malformed_record"
        assert result.error in held.message


_BASE = bill_detail()
_PATHS = list(paths(_BASE))


@FAST
@given(path=st.sampled_from(_PATHS), value=hostile_value, delete=st.booleans())
def test_it_yields_a_model_or_a_malformed_record_when_one_field_is_hostile(
    path: tuple[Any, ...], value: Any, delete: bool
) -> None:
    raw = mutate(_BASE, path, value, delete=delete)
    _assert_edge_result(parse_record(Bill, raw, "uuid"), Bill)
    # The same payload through the real client and JSON decoding (numbers become Decimal there).
    result = _client(to_json_bytes({"data": raw})).get_bill("1f99cf4a8c8d4d4abf5a4d3a2c1e7b88")
    _assert_edge_result(result, Bill)


@FAST
@given(raw=st.one_of(hostile_value, st.lists(hostile_value, max_size=3)))
def test_it_yields_a_malformed_record_when_the_record_is_not_an_object(raw: Any) -> None:
    for model in (Bill, BillSummary, Vendor, PurchaseOrder):
        result = parse_record(model, raw, "uuid")
        assert isinstance(result, MalformedRecord)
        assert result.error


@FAST
@given(cut=st.integers(min_value=0, max_value=len(to_json_bytes({"data": _BASE})) - 1))
def test_it_raises_only_a_clear_connector_error_when_the_json_is_truncated(cut: int) -> None:
    body = to_json_bytes({"data": _BASE})[:cut]
    with pytest.raises(ConnectorError) as caught:
        _client(body).get_bill("1f99cf4a8c8d4d4abf5a4d3a2c1e7b88")
    assert caught.value.code == "malformed_envelope"
    assert "Procurify" in caught.value.message


@settings(max_examples=60, deadline=None, derandomize=True)
@given(rows=st.lists(st.one_of(hostile_value, st.just(_BASE)), max_size=5), garbage=hostile_value)
def test_it_parses_every_list_row_on_its_own_when_rows_are_hostile(rows: list[Any], garbage: Any) -> None:
    page = {"metadata": {"pagination": {"count": len(rows), "next": None}}, "data": rows, "junk": garbage}
    client = _client(to_json_bytes(page))
    got = list(client.iter_bills(NOW - timedelta(days=1), NOW))
    assert len(got) == len(rows)
    for result in got:
        _assert_edge_result(result, BillSummary)


@pytest.mark.parametrize("body", [b"", b"null", b"[]", b'{"data": 5}', b"<html>502</html>", b'{"dat'])
def test_it_raises_a_malformed_envelope_error_when_the_list_body_is_broken(body: bytes) -> None:
    with pytest.raises(ConnectorError) as caught:
        list(_client(body).iter_bills(NOW - timedelta(days=1), NOW))
    assert caught.value.code == "malformed_envelope"


@pytest.mark.parametrize("amount", [a for a in AMOUNTS if not isinstance(a, list | dict | bool)])
def test_it_never_accepts_an_amount_that_is_not_finite_money_when_parsing(amount: Any) -> None:
    raw = bill_detail()
    raw["items"][0]["cost_allocations"][0]["amount"] = amount
    result = parse_record(Bill, raw, "uuid")
    if isinstance(result, Bill):
        parsed = result.items[0].cost_allocations[0].amount
        assert parsed.is_finite()
        assert abs(parsed) < Decimal("1e15"), "an absurd amount must not reach the transform"


@pytest.mark.parametrize("uuid", ["../../admin", "a/b", "x" * 200, "", "nul\x00", "1f99 cf4a"])
def test_it_refuses_a_bill_uuid_that_is_not_an_identifier_when_parsing(uuid: str) -> None:
    for model, raw in ((Bill, bill_detail(uuid=uuid)), (BillSummary, bill_detail(uuid=uuid))):
        result = parse_record(model, raw, "uuid")
        assert isinstance(result, MalformedRecord)
        # Hold rows are keyed by this id: it must be storable and must not carry the hostile value.
        assert result.record_id is None or (len(result.record_id) <= 64 and result.record_id.isalnum())


@pytest.mark.parametrize("text", ["nul\x00byte", "lone \ud800 surrogate"])
def test_it_refuses_text_postgres_cannot_store_when_parsing(text: str) -> None:
    for raw in (bill_detail(invoice_number=text), bill_detail(vendor={"id": 42, "name": text})):
        result = parse_record(Bill, raw, "uuid")
        assert isinstance(result, MalformedRecord)
        assert "character" in result.error


# ---- (b) the pure transform ------------------------------------------------------------------------

MAPPINGS = Mappings(
    vendors={
        VENDOR_MAPPED: Ref("56", "Acme Supplies Ltd"),
        VENDOR_INACTIVE: Ref("57", "Old Vendor", active=False),
    },
    accounts={CODE_MAPPED: Ref("80", "Office Supplies"), CODE_OTHER: Ref("81", "Repairs")},
    time_zone="America/Vancouver",
    books=Books(home_currency="USD", multicurrency=True, procurify_base="USD", payables={"USD": "33"}),
)


@st.composite
def hostile_bills(draw: st.DrawFn) -> tuple[dict[str, Any], Decimal]:
    """A bill with random lines, splits, tax, costs and shipping; returns it and its true total."""
    items, total = [], Decimal(0)
    for i in range(draw(st.integers(min_value=0, max_value=3))):
        splits = draw(st.lists(money, min_size=0, max_size=3))
        inclusive = draw(st.booleans())
        tax = draw(money)
        codes = draw(st.lists(st.sampled_from([CODE_MAPPED, CODE_OTHER]), min_size=3, max_size=3))
        items.append(
            {
                "id": 9000 + i,
                "description": draw(text),
                "sku": draw(st.one_of(st.none(), text)),
                "tax_amount": tax,
                "tax_is_inclusive": inclusive,
                "cost_allocations": [allocation(10 * i + j, a, codes[j]) for j, a in enumerate(splits)],
            }
        )
        total += sum(splits, Decimal(0)) + (Decimal(0) if inclusive or not splits else tax)
    shipping = draw(st.sampled_from([Decimal(0), Decimal("25.00"), Decimal("0.001")]))
    total += shipping
    costs = [
        {"id": 70 + k, "name": draw(text), "amount": amount}
        for k, amount in enumerate(draw(st.lists(cents, max_size=2)))
    ]
    total += sum((c["amount"] for c in costs), Decimal(0))
    stated = draw(st.sampled_from([total] * 6 + [total + Decimal("0.01"), total * 2, None, "NaN", "1e30"]))
    bill = bill_detail(
        items=items,
        costs=costs,
        shipping_amount=shipping,
        total_cost_with_tax=stated,
        invoice_number=draw(st.one_of(st.none(), text, st.text(min_size=15, max_size=30))),
        vendor={
            "id": draw(st.sampled_from([VENDOR_MAPPED] * 4 + [VENDOR_UNMAPPED, VENDOR_INACTIVE])),
            "name": draw(text),
        },
        payment_terms=draw(text),
        invoice_date=draw(
            st.sampled_from(
                ["2024-05-02T00:00:00+00:00"] * 6
                + [
                    "2024-05-02T23:30:00-08:00",
                    "0001-01-01T00:30:00+01:00",
                    "9999-12-31T23:59:59-12:00",
                    None,
                ]
            )
        ),
    )
    return bill, total


def _assert_plan_is_right(plan: Plan, bill: Bill, true_total: Decimal, whole_cents: bool) -> None:
    lines = plan.payload["Line"]
    amounts = [line["Amount"] for line in lines]
    for amount in amounts:
        assert isinstance(amount, Decimal) and amount.is_finite()
        assert amount == amount.quantize(CENT), f"{amount} is not a whole number of cents"
    written = sum(amounts, Decimal(0))
    # Never a wrong total: the lines add up to what Procurify says is owed, and to the true sum.
    # A bill without a stated total is held (nothing to prove the lines against), never written.
    assert bill.total_cost_with_tax is not None
    assert written == _money(bill.total_cost_with_tax)
    if whole_cents:
        assert written == true_total
    assert plan.payload["VendorRef"] == {"value": MAPPINGS.vendors[bill.vendor.id].qbo_id}
    assert len(plan.payload.get("DocNumber") or "") <= DOC_NUMBER_MAX
    json.dumps(plan.payload, default=str)  # serialisable


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(case=hostile_bills())
def test_it_builds_a_payload_with_the_right_total_or_holds_with_a_reason_when_bills_are_hostile(
    case: tuple[dict[str, Any], Decimal],
) -> None:
    raw, true_total = case
    parsed = parse_record(Bill, raw, "uuid")
    if isinstance(parsed, MalformedRecord):
        event("malformed")
        assert parsed.error
        return
    try:
        plan = bill_plan(parsed, MAPPINGS)
    except Held as held:
        event(f"held: {held.reason_code}")
        assert held.reason_code in KNOWN_REASONS
        assert held.message.strip()
        return
    event("written")
    amounts = [a.amount for i in parsed.items for a in i.cost_allocations]
    amounts += [i.tax_amount or 0 for i in parsed.items] + [c.amount for c in parsed.costs]
    amounts.append(parsed.shipping_amount or 0)
    _assert_plan_is_right(plan, parsed, true_total, all(_money(a) == a for a in amounts))


@pytest.mark.parametrize("number", ["A" * 22, "  " + "B" * 22 + "  ", "\U0001f4b8" * 22])
def test_it_cuts_a_long_invoice_number_and_keeps_the_whole_in_the_note(number: str) -> None:
    bill = parse_record(Bill, bill_detail(invoice_number=number), "uuid")
    plan = bill_plan(bill, MAPPINGS)
    assert plan.payload["DocNumber"] == number.strip()[:21]
    assert f"Invoice number: {number.strip()}" in plan.payload["PrivateNote"]


@pytest.mark.parametrize("text", [t for t in HOSTILE_TEXT if "\x00" not in t and "\ud800" not in t])
def test_it_keeps_hostile_text_verbatim_and_bounded_when_building_a_payload(text: str) -> None:
    raw = bill_detail(vendor={"id": VENDOR_UNMAPPED, "name": text})
    raw["items"][0]["description"] = text
    bill = parse_record(Bill, raw, "uuid")
    with pytest.raises(Held) as caught:
        bill_plan(bill, MAPPINGS)
    assert caught.value.reason_code == "vendor_unmapped"
    assert caught.value.message.startswith(f"Vendor '{text}' is not mapped")
    raw["vendor"]["id"] = VENDOR_MAPPED
    plan = bill_plan(parse_record(Bill, raw, "uuid"), MAPPINGS)
    description = plan.payload["Line"][0]["Description"]
    assert description.startswith(text[:3999]) and len(description) <= 4000


def test_it_holds_a_bill_whose_lines_do_not_add_up_to_its_total() -> None:
    raw = bill_detail(total_cost_with_tax=Decimal("1130.01"))
    with pytest.raises(Held) as caught:
        bill_plan(parse_record(Bill, raw, "uuid"), MAPPINGS)
    assert caught.value.reason_code == "bill_total_mismatch"
    assert "1130.00" in caught.value.message and "1130.01" in caught.value.message


def test_it_holds_a_bill_whose_line_has_no_allocation() -> None:
    raw = bill_detail()
    raw["items"].append(
        {"id": 9002, "description": "Unallocated", "total_cost": "50.00", "cost_allocations": []}
    )
    raw["total_cost_with_tax"] = Decimal("1180.00")
    with pytest.raises(Held) as caught:
        bill_plan(parse_record(Bill, raw, "uuid"), MAPPINGS)
    # Named as the line with no account code, not only caught by the total check.
    assert caught.value.reason_code == "account_unmapped"
    assert "Unallocated" in caught.value.message


# ---- (c) end to end through the engine and the sandbox ----------------------------------------------

HOSTILE_VENDORS = [
    "<script>alert('pwned')</script> Supply",
    "O'Brien \\ Sons\\",
    "Emoji \U0001f469\u200d\U0001f469\u200d\U0001f467 \u202eLtd",
    "zero\u200bwidth: colon\tTab Co",
    "\u201cCurly\u201d \u2018Quote\u2019 \u2014 Works",
]


def _synced_bill_ids(wired: Wired) -> set[str]:
    rows = ExternalRecord.objects.filter(organisation=wired.organisation, object_type="bill", state="synced")
    return set(rows.values_list("procurify_id", flat=True))


def _assert_good_bills_synced(wired: Wired, run: SyncRun) -> None:
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    synced = _synced_bill_ids(wired)
    assert len(synced) > 10, "the seeded good bills must still sync"
    notes = [(b.get("PrivateNote") or "").split(" ")[0] for b in wired.qbo_bills()]
    assert sorted(notes) == sorted(f"procurify:bill:{uuid}" for uuid in synced), "one QBO bill per record"
    # The seeded PO-linked, split bill is written with its true total.
    ob = next(b for b in wired.qbo_bills() if b.get("DocNumber") == "OB-7781")
    assert Decimal(str(ob["TotalAmt"])) == sum(Decimal(str(line["Amount"])) for line in ob["Line"])


def _assert_held(wired: Wired, uuid: str, codes: set[str]) -> HeldRecord:
    held = HeldRecord.objects.get(organisation=wired.organisation, object_type="bill", procurify_id=uuid)
    assert held.reason_code in codes, (held.reason_code, held.message)
    assert len(held.message) > 30 and "{" not in held.message.replace("{vendor}", "")
    assert not wired.bills_with_marker(uuid), "a held bill must not reach QuickBooks"
    return held


def test_it_writes_bills_of_hostile_vendor_names_exactly_when_the_engine_runs(distributor: Wired) -> None:
    sb, domain = distributor.sb, distributor.domain
    added = []
    for index, name in enumerate(HOSTILE_VENDORS):
        vendor = sb.procurify.add_vendor(domain, name)
        bill = sb.procurify.add_bill(
            domain,
            vendor_id=vendor["id"],
            invoice_number=f"HOST-{index}",
            lines=[{"description": name, "amount": "123.45", "account_code": "6100"}],
        )
        added.append((name, bill["uuid"]))

    run = run_sync(distributor.organisation)

    _assert_good_bills_synced(distributor, run)
    vendors = {v["Id"]: v for v in sb.qbo.objects(distributor.realm_id, "Vendor")}
    for name, uuid in added:
        [bill] = distributor.bills_with_marker(uuid)
        assert Decimal(str(bill["TotalAmt"])) == Decimal("123.45")
        assert [Decimal(str(line["Amount"])) for line in bill["Line"]] == [Decimal("123.45")]
        assert bill["Line"][0]["Description"] == name
        assert vendors[bill["VendorRef"]["value"]]["DisplayName"] == vendor_payload(name)["DisplayName"]


def _set(path: tuple[Any, ...], value: Any) -> Any:
    return lambda body: {**body, "data": mutate(body["data"], path, value)}


def _drop(path: tuple[Any, ...]) -> Any:
    return lambda body: {**body, "data": mutate(body["data"], path, None, delete=True)}


DETAIL_MUTATIONS: dict[str, tuple[Any, set[str]]] = {
    "nan_amount": (_set(("items", 0, "cost_allocations", 0, "amount"), "NaN"), {"malformed_record"}),
    "absurd_amount": (_set(("items", 0, "cost_allocations", 0, "amount"), "1e30"), {"malformed_record"}),
    "items_not_a_list": (_set(("items",), "not a list"), {"malformed_record"}),
    "nul_in_description": (_set(("items", 0, "description"), "a\x00b"), {"malformed_record"}),
    "no_vendor": (_drop(("vendor",)), {"malformed_record"}),
    "vendor_id_is_text": (_set(("vendor", "id"), "forty-two"), {"malformed_record"}),
    "sub_cent_split": (
        _set(("items", 0, "cost_allocations", 0, "amount"), "123.455"),
        {"bill_total_mismatch"},
    ),
    "total_disagrees": (_set(("total_cost_with_tax",), 999.99), {"bill_total_mismatch"}),
    "line_without_allocation": (
        _set(("items", 0, "cost_allocations"), []),
        {"account_unmapped"},
    ),
    "sixteen_digit_amount": (
        _set(("items", 0, "cost_allocations", 0, "amount"), "1234567890123.456"),
        {"bill_total_mismatch"},
    ),
}


@pytest.mark.parametrize("case", sorted(DETAIL_MUTATIONS))
def test_it_holds_one_hostile_bill_and_syncs_the_rest_when_its_detail_is_malformed(
    distributor: Wired, case: str
) -> None:
    rewrite, codes = DETAIL_MUTATIONS[case]
    bill = distributor.sb.procurify.add_bill(
        distributor.domain,
        vendor="Great Lakes Fasteners",
        invoice_number="HOSTILE-1",
        lines=[{"description": "Bolts", "amount": "123.45", "account_code": "6100"}],
    )
    distributor.transport.rewrites[f"/api/v2/ap/bills/{bill['uuid']}/"] = rewrite

    run = run_sync(distributor.organisation)

    _assert_good_bills_synced(distributor, run)
    _assert_held(distributor, bill["uuid"], codes)


@pytest.mark.parametrize("body", [b'{"data": {"id": 1, "uu', b"<html>Bad gateway</html>", b"[]"])
def test_it_holds_one_bill_and_syncs_the_rest_when_its_detail_is_not_json(
    distributor: Wired, body: bytes
) -> None:
    bill = distributor.sb.procurify.add_bill(distributor.domain, vendor="Great Lakes Fasteners")
    distributor.transport.raw[f"/api/v2/ap/bills/{bill['uuid']}/"] = body

    run = run_sync(distributor.organisation)

    _assert_good_bills_synced(distributor, run)
    _assert_held(distributor, bill["uuid"], {"malformed_record", "sync_failed"})


def test_it_holds_hostile_list_rows_without_using_their_ids_when_the_bill_list_is_malformed(
    distributor: Wired,
) -> None:
    def add_rows(body: Any) -> Any:
        if body["metadata"]["pagination"].get("previous"):
            return body
        real = body["data"][0]
        hostile = [
            {**real, "uuid": "../../../api/v3/users/me"},
            {**real, "uuid": "x" * 200},
            {**real, "uuid": "nul\x00uuid"},
            "not an object",
            {**real, "status": "approved"},
        ]
        return {**body, "data": [*body["data"], *hostile]}

    distributor.transport.rewrites["/api/v3/ap/bills/"] = add_rows

    run = run_sync(distributor.organisation)

    _assert_good_bills_synced(distributor, run)
    held = HeldRecord.objects.filter(organisation=distributor.organisation, reason_code="malformed_record")
    # The hostile rows are keyed by their numeric Procurify id (or a hash), never by the hostile uuid.
    assert held.count() >= 2
    for row in held:
        assert row.procurify_id.startswith("malformed:") or row.procurify_id.isdigit()
        assert "could not read" in row.message


def test_it_writes_a_negative_bill_with_its_true_total_or_holds_it(distributor: Wired) -> None:
    bill = distributor.sb.procurify.add_bill(
        distributor.domain,
        vendor="Great Lakes Fasteners",
        invoice_number="CREDIT-1",
        lines=[{"description": "Refund", "amount": "-75.00", "account_code": "6100"}],
    )

    run = run_sync(distributor.organisation)

    _assert_good_bills_synced(distributor, run)
    # QuickBooks refuses a negative Bill: a credit note is a VendorCredit owing 75.00 back (issue 15).
    assert distributor.bills_with_marker(bill["uuid"]) == []
    marker = f"procurify:bill:{bill['uuid']}"
    credits = distributor.sb.qbo.objects(distributor.realm_id, "VendorCredit")
    written = [c for c in credits if marker in (c.get("PrivateNote") or "")]
    if written:
        assert [Decimal(str(c["TotalAmt"])) for c in written] == [Decimal("75.00")]
    else:
        _assert_held(distributor, bill["uuid"], KNOWN_REASONS)


# ---- (d) the pages escape what Procurify sends -------------------------------------------------------


def test_it_renders_markup_in_vendor_names_escaped_on_the_mapping_and_held_pages(
    distributor: Wired, owner: Any
) -> None:
    organisation = distributor.organisation
    organisation.create_missing_vendors = False  # so the bill is held, naming its vendor
    organisation.save()
    name = "<script>alert('pwned')</script><img src=x onerror=alert(2)>"
    vendor = distributor.sb.procurify.add_vendor(distributor.domain, name)
    bill = distributor.sb.procurify.add_bill(
        distributor.domain, vendor_id=vendor["id"], invoice_number="XSS-1"
    )
    run_sync(organisation)
    _assert_held(distributor, bill["uuid"], {"vendor_unmapped"})

    org = organisation.public_id
    pages = [f"/o/{org}/mappings/vendors/", f"/o/{org}/held/", f"/o/{org}/records/bill/{bill['uuid']}/"]
    for path in pages:
        response = owner.client.get(path)
        assert response.status_code == 200, path
        html = response.content.decode()
        assert "<script>alert(" not in html and "<img src=x" not in html, path
        assert "&lt;script&gt;alert(" in html, f"{path} does not show the vendor name at all"
