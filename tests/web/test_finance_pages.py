"""Money on every page: held list groups and totals, documents search, CSV export, dashboard totals."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from finance_support import read_bill
from web_support import held, vendor_mapping

from connector.document_summary import DocumentSummary
from connector.models import ExternalRecord
from connector.money import format_money, format_totals


def test_money_is_formatted_with_its_currency_and_never_as_a_float() -> None:
    assert format_money(Decimal("18240"), "usd") == "18,240.00 USD"
    assert format_money("1234.505", "EUR") == "1,234.51 EUR"
    assert format_money("1500", "JPY") == "1,500 JPY"
    assert format_money(None, "USD") == "—"
    assert format_money(0.1, "USD") == "—"  # a float is refused, not rounded into a lie
    assert format_totals([("USD", "0.10"), ("CAD", "5"), ("USD", "0.20")]) == "5.00 CAD + 0.30 USD"


def _six_bills_on_delta(org) -> list[str]:
    vendor_mapping(org, 101, "Delta Freight Logistics")
    amounts = ["3040.00", "3040.00", "3040.00", "3040.00", "3040.00", "3039.99"]
    for i, amount in enumerate(amounts):
        uuid = f"bill-{i}"
        read_bill(org, uuid, f"GLF-2093{i}", amount)
        held(
            org,
            uuid,
            reason_code="vendor_inactive",
            waiting_on=("vendor_mapping", "101"),
            detail={"vendor": "Delta Freight Logistics"},
        )
    return amounts


def test_the_held_list_groups_by_what_bills_wait_on_with_their_total(org_a, owner) -> None:
    _six_bills_on_delta(org_a)
    read_bill(org_a, "cad-1", "CAD-77", "950.50", currency="CAD", vendor=(202, "Maple Paper"))
    held(org_a, "cad-1", reason_code="period_closed", detail={"date": "2026-10-31"})
    response = owner.client.get(f"/o/{org_a.public_id}/held/")
    page = response.content.decode()
    assert (
        "6 bills, 18,239.99 USD, wait on vendor Delta Freight Logistics being active"
        " — reactivate it or map it." in page
    )
    assert "1 bill, 950.50 CAD: Books closed in QuickBooks." in page
    # Each row: vendor, invoice number, dates in the one format, amount with its currency.
    assert "GLF-20935" in page and "3,039.99 USD" in page and "Tue 3 Nov 2026" in page
    assert page.count("Map the vendor") == 1  # one fix action for the group, not one per row


def test_a_payment_flag_shows_its_bills_amount(org_a, owner) -> None:
    read_bill(org_a, "p1", "PAY-1", "410.25")
    held(org_a, "p1", object_type="payment", reason_code="paid_in_procurify")
    page = owner.client.get(f"/o/{org_a.public_id}/held/").content.decode()
    assert "1 payment, 410.25 USD: Paid in Procurify, payment not recorded in QuickBooks." in page


def test_the_held_list_searches_by_invoice_number_and_amount(org_a, owner) -> None:
    _six_bills_on_delta(org_a)
    base = f"/o/{org_a.public_id}/held/"
    by_number = owner.client.get(base, {"q": "GLF-20933"}).context["groups"]
    assert [r.procurify_id for g in by_number for r in g["page_rows"]] == ["bill-3"]
    by_amount = owner.client.get(base, {"q": "3,039.99"}).context["groups"]
    assert [r.procurify_id for g in by_amount for r in g["page_rows"]] == ["bill-5"]


def test_the_held_list_exports_every_row_exact_to_the_cent(org_a, owner) -> None:
    amounts = _six_bills_on_delta(org_a)
    response = owner.client.get(f"/o/{org_a.public_id}/held/export/")
    assert response.streaming and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert sorted(r["amount"] for r in rows) == sorted(amounts)
    assert sum(Decimal(r["amount"]) for r in rows) == Decimal("18239.99")
    assert {r["currency"] for r in rows} == {"USD"} and {r["state"] for r in rows} == {"held"}
    assert rows[0]["vendor"] == "Delta Freight Logistics" and rows[0]["due_date"] == "2026-12-03"


def test_the_documents_list_finds_bills_filters_and_exports(org_a, org_b, owner) -> None:
    read_bill(org_a, "u1", "INV-1", "100.10")
    read_bill(org_a, "u2", "INV-2", "2500.00", currency="CAD", vendor=(7, "Maple Paper"))
    read_bill(org_b, "u9", "INV-1", "100.10")  # another tenant's bill never shows
    ExternalRecord.objects.create(
        organisation=org_a,
        object_type="bill",
        procurify_id="u1",
        qbo_entity="Bill",
        qbo_id="77",
        state="synced",
    )
    base = f"/o/{org_a.public_id}/documents/"
    found = owner.client.get(base, {"q": "INV-1"})
    assert [d.procurify_id for d in found.context["page"].object_list] == ["u1"]
    assert "100.10 USD" in found.content.decode() and "In QuickBooks" in found.content.decode()
    assert [d.procurify_id for d in owner.client.get(base, {"q": "2,500"}).context["page"]] == ["u2"]
    assert [d.procurify_id for d in owner.client.get(base, {"currency": "cad"}).context["page"]] == ["u2"]
    assert [d.procurify_id for d in owner.client.get(base, {"state": "read"}).context["page"]] == ["u2"]
    ordered = owner.client.get(base, {"sort": "-amount"}).context["page"].object_list
    assert [d.procurify_id for d in ordered] == ["u2", "u1"]
    bad = owner.client.get(base, {"date_from": "2026-12-01", "date_to": "2026-11-01"})
    assert bad.status_code == 400 and "after the" in bad.content.decode()
    export = owner.client.get(f"{base}export/", {"vendor": "maple"})
    rows = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode())))
    assert rows[1][:7] == ["bill", "INV-2", "Maple Paper", "2026-11-03", "2026-12-03", "CAD", "2500.00"]
    assert len(rows) == 2


def test_a_reread_bill_updates_its_summary(org_a) -> None:
    read_bill(org_a, "u1", "INV-1", "100.10")
    read_bill(org_a, "u1", "INV-1", "100.20")
    summary = DocumentSummary.objects.get(organisation=org_a, procurify_id="u1")
    assert summary.total == Decimal("100.20") and summary.vendor_name == "Delta Freight Logistics"


def _synced(org, uuid: str, **kwargs) -> ExternalRecord:
    from django.utils import timezone

    return ExternalRecord.objects.create(
        organisation=org,
        object_type="bill",
        procurify_id=uuid,
        qbo_entity="Bill",
        qbo_id=f"q-{uuid}",
        state="synced",
        last_synced_at=kwargs.pop("last_synced_at", timezone.now()),
        **kwargs,
    )


def test_the_dashboard_totals_money_synced_this_month_and_on_hold_by_currency(org_a, owner) -> None:
    from datetime import timedelta

    from django.utils import timezone

    read_bill(org_a, "s1", "S-1", "1000.10")
    read_bill(org_a, "s2", "S-2", "0.20")
    read_bill(org_a, "s3", "S-3", "75.00", currency="EUR")
    read_bill(org_a, "old", "OLD-1", "999.00")
    for uuid in ("s1", "s2", "s3"):
        _synced(org_a, uuid)
    _synced(org_a, "old", last_synced_at=timezone.now() - timedelta(days=40))
    _six_bills_on_delta(org_a)
    page = owner.client.get(f"/o/{org_a.public_id}/").content.decode()
    assert 'id="synced-value">75.00 EUR + 1,000.30 USD<' in page
    assert 'id="held-value">18,239.99 USD<' in page


def test_sync_now_is_disabled_with_the_reason_until_both_systems_are_connected(org_a, owner) -> None:
    page = owner.client.get(f"/o/{org_a.public_id}/").content.decode()
    assert "Connect Procurify and QuickBooks Online first." in page
    assert 'disabled aria-disabled="true" aria-describedby="sync-blocked">Sync now' in page
    assert "everything that could be written was written" not in page


def test_the_run_page_shows_each_record_outcome_amount_and_the_run_totals(org_a, owner) -> None:
    from web_support import event, run

    the_run = run(org_a)
    read_bill(org_a, "w1", "W-1", "1200.00")
    read_bill(org_a, "w2", "W-2", "34.56")
    read_bill(org_a, "h1", "H-1", "99.99")
    event(org_a, "w1", "response", "Created.", run=the_run)
    event(org_a, "w2", "response", "Created.", run=the_run)
    event(org_a, "h1", "hold", "Vendor not mapped.", run=the_run)
    response = owner.client.get(f"/o/{org_a.public_id}/runs/{the_run.public_id}/")
    page = response.content.decode()
    assert 'Bills written: <strong class="money">1,234.56 USD</strong>' in page
    assert 'Bills held: <strong class="money">99.99 USD</strong>' in page
    outcomes = {r["procurify_id"]: (r["outcome"], r["amount"]) for r in response.context["page"].object_list}
    assert outcomes == {
        "w1": ("written", Decimal("1200.00")),
        "w2": ("written", Decimal("34.56")),
        "h1": ("held", Decimal("99.99")),
    }


def test_the_held_digest_states_amounts_and_its_subject_is_plain_text(org_a, owner) -> None:
    from django.core import mail

    from connector.emails import send_held_digest
    from connector.models import HeldRecord

    org_a.name = "O'Brien & Sons  Supply"
    org_a.save()
    _six_bills_on_delta(org_a)
    assert send_held_digest(org_a, list(HeldRecord.objects.filter(organisation=org_a))) is True
    message = mail.outbox[0]
    assert message.subject == ("6 records (18,239.99 USD) held for O'Brien & Sons Supply — action needed")
    html = message.alternatives[0][0]
    for body in (message.body, html):
        assert "Together they are worth 18,239.99 USD." in body
        assert "6 bills, 18,239.99 USD, wait on vendor Delta Freight Logistics being active" in body
        assert "(3,039.99 USD)" in body


def test_the_record_page_shows_the_bill_its_lines_and_the_quickbooks_side(org_a, owner) -> None:
    from web_support import account_mapping, event, qbo_account, qbo_vendor

    qbo_vendor(org_a, "56", "Delta Freight Logistics Inc.")
    qbo_account(org_a, "90", "6100", "Office Supplies")
    account_mapping(org_a, 12, "6550", qbo_account_id="90", qbo_account_name="Office Supplies (deleted)")
    items = [
        {
            "id": 1,
            "description": "Pallet wrap",
            "cost_allocations": [
                {"id": 5, "amount": "1200.00", "budget": {"account_code": {"id": 12, "code": "6550"}}}
            ],
        }
    ]
    read_bill(org_a, "r1", "GLF-20931", "1200.00", items=items, access_token="must-not-show")
    body = {
        "DocNumber": "GLF-20931",
        "VendorRef": {"value": "56"},
        "TxnDate": "2026-11-03",
        "DueDate": "2026-12-03",
        "Line": [
            {
                "Amount": "1200.00",
                "Description": "Pallet wrap",
                "DetailType": "AccountBasedExpenseLineDetail",
                "AccountBasedExpenseLineDetail": {"AccountRef": {"value": "90"}},
            }
        ],
    }
    event(org_a, "r1", "request", "Create Bill", data={"request_id": "x", "body": body})
    event(org_a, "r1", "response", "Created Bill 146", data={"Id": "146", "SyncToken": "0"})
    _synced(org_a, "r1")
    page = owner.client.get(f"/o/{org_a.public_id}/records/bill/r1/").content.decode()
    assert "<h1>Bill GLF-20931 from Delta Freight Logistics</h1>" in page
    assert "1,200.00 USD" in page and "Delta Freight Logistics Inc." in page  # both sides' vendor
    # The account code survives redaction and maps to the QuickBooks account's current name.
    assert (
        page.count("<td>Tue 3 Nov 2026</td>") == 2 and page.count("<td>Thu 3 Dec 2026</td>") == 2
    )  # both sides
    assert "<code>6550</code>" in page and "→ Office Supplies</td>" in page
    assert "Office Supplies (deleted)" not in page
    assert (
        "<summary>Technical details</summary>" in page
        and "&quot;invoice_number&quot;: &quot;GLF-20931&quot;" in page
    )
    assert "must-not-show" not in page
    # The audit trail reads in order, numbered 1..N.
    assert (
        page.index('id="event-1"') < page.index("Read Procurify bill GLF-20931") < page.index('id="event-3"')
    )


def test_a_mapping_row_follows_the_quickbooks_side_after_reactivation(org_a, owner) -> None:
    from web_support import account_mapping, qbo_account

    from mappings.models import QBOAccount

    qbo_account(org_a, "91", "6550", "Freight", active=False)
    account_mapping(
        org_a,
        12,
        "6550",
        qbo_account_id="91",
        qbo_account_name="Freight",
        source="auto_number",
        reason="Code 6550 is the number of inactive QuickBooks account 'Freight'.",
    )
    page = owner.client.get(f"/o/{org_a.public_id}/mappings/accounts/").content.decode()
    assert "QuickBooks side inactive" in page and "number of inactive QuickBooks account" in page
    QBOAccount.objects.filter(organisation=org_a, qbo_id="91").update(active=True)  # the reference refresh
    page = owner.client.get(f"/o/{org_a.public_id}/mappings/accounts/").content.decode()
    assert "inactive" not in page.split("<tbody", 1)[1]
    assert "number of QuickBooks account &#x27;Freight&#x27; (active in QuickBooks again)." in page


def test_the_review_mappings_step_completes_once_no_bill_waits_on_a_mapping(org_a, owner) -> None:
    from web_support import run

    def reviewed() -> bool:
        steps = owner.client.get(f"/o/{org_a.public_id}/").context["checklist"]
        return next(s["done"] for s in steps if s["label"] == "Review vendor and account mappings")

    vendor_mapping(org_a, 1, "Acme Ltd", qbo_vendor_id="56")
    vendor_mapping(org_a, 2, "Never Billed Co")  # unmapped, and no bill of theirs is waiting
    assert reviewed() is False  # before the first sync, an unmapped vendor is still to review
    run(org_a)
    hold = held(org_a, "b1", waiting_on=("vendor_mapping", "2"))
    assert reviewed() is False  # a bill waits on it
    hold.delete()
    assert reviewed() is True


def test_the_documents_list_shows_vendors_too(org_a, owner) -> None:
    mapped = vendor_mapping(org_a, 7, "Maple Paper", qbo_vendor_id="56")
    vendor_mapping(org_a, 8, "Bolt Co")
    held(org_a, "8", object_type="vendor", reason_code="duplicate_vendor_name")
    read_bill(org_a, "u1", "INV-1", "100.10", vendor=(7, "Maple Paper"))
    base = f"/o/{org_a.public_id}/documents/"
    response = owner.client.get(base, {"kind": "vendor", "sort": "vendor"})
    rows = [(d.doc_vendor, d.doc_state) for d in response.context["page"].object_list]
    assert rows == [("Bolt Co", "held"), ("Maple Paper", "synced")]
    assert f"/o/{org_a.public_id}/mappings/vendors/{mapped.public_id}/" in response.content.decode()
    assert [d.procurify_id for d in owner.client.get(base, {"kind": "bill"}).context["page"]] == ["u1"]
    export = owner.client.get(f"{base}export/", {"kind": "vendor", "q": "maple"})
    rows = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode())))
    assert rows[1] == ["vendor", "", "Maple Paper", "", "", "USD", "", "synced", "7"]


def test_the_dashboard_draws_amounts_synced_and_held_per_week(org_a, owner) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from connector.chart import weekly_amounts

    read_bill(org_a, "s1", "S-1", "300.00")
    read_bill(org_a, "s2", "S-2", "100.00")
    read_bill(org_a, "e1", "E-1", "5000.00", currency="EUR")  # a second currency is named, not added in
    _synced(org_a, "s1")
    _synced(org_a, "s2", last_synced_at=timezone.now() - timedelta(weeks=2))
    _synced(org_a, "e1", last_synced_at=timezone.now() - timedelta(weeks=20))  # outside the eight weeks
    read_bill(org_a, "h1", "H-1", "150.00")
    held(org_a, "h1")
    chart = weekly_amounts(org_a)
    assert chart["currency"] == "USD" and chart["others"] == []
    synced = [b for b in chart["bars"] if b["kind"] == "synced"]
    held_bars = [b for b in chart["bars"] if b["kind"] == "held"]
    assert synced[-1]["height"] == 140.0 and synced[-3]["height"] > 0 and held_bars[-1]["height"] == 70.0
    assert "Synced, week of" in synced[-1]["label"] and synced[-1]["label"].endswith(": 300.00 USD")
    page = owner.client.get(f"/o/{org_a.public_id}/").content.decode()
    assert "<svg viewBox=" in page and "Bills per week, in USD" in page and "300.00 USD</title>" in page


def test_a_daily_schedule_runs_on_the_chosen_weekdays_in_the_organisations_zone(org_a, owner) -> None:
    from datetime import UTC, datetime

    from connector.sync import runs
    from tenants.models import SyncSchedule

    response = owner.client.post(
        f"/o/{org_a.public_id}/sync/settings/",
        {
            "enabled": "on",
            "mode": "daily",
            "interval_minutes": "60",
            "daily_time": "07:00",
            "days": ["2", "4"],
        },
        follow=True,
    )
    schedule = SyncSchedule.objects.get(organisation=org_a)
    assert schedule.weekdays == "2,4"
    assert "Tuesdays and Thursdays at 07:00 · next run: " in response.content.decode()
    # Wednesday 2 Dec 2026, 08:00 in Vancouver → Thursday 3 Dec, 07:00 PST (15:00 UTC).
    wednesday = datetime(2026, 12, 2, 16, 0, tzinfo=UTC)
    assert runs.next_run_at(schedule, wednesday, "America/Vancouver") == datetime(
        2026, 12, 3, 15, 0, tzinfo=UTC
    )
    # Thursday after 07:00 → the next Tuesday.
    thursday = datetime(2026, 12, 3, 16, 0, tzinfo=UTC)
    assert runs.next_run_at(schedule, thursday, "America/Vancouver") == datetime(
        2026, 12, 8, 15, 0, tzinfo=UTC
    )
    schedule.next_run_at = datetime(2026, 12, 8, 15, 0, tzinfo=UTC)
    schedule.save()
    page = owner.client.get(f"/o/{org_a.public_id}/").content.decode()
    assert "Tue 8 Dec 2026, 07:00 PST" in page and "(Tuesdays and Thursdays at 07:00)" in page


def test_the_first_sync_e_mail_states_the_amounts_written_and_held(org_a, owner) -> None:
    from django.core import mail
    from web_support import event, run

    from connector.emails import maybe_send_first_sync

    the_run = run(org_a, counts={"created": 2, "updated": 0, "held": 1})
    read_bill(org_a, "w1", "W-1", "1200.00")
    read_bill(org_a, "w2", "W-2", "34.56")
    read_bill(org_a, "h1", "H-1", "99.99", currency="CAD")
    event(org_a, "w1", "response", "Created.", run=the_run)
    event(org_a, "w2", "response", "Created.", run=the_run)
    event(org_a, "h1", "hold", "Vendor not mapped.", run=the_run)
    assert maybe_send_first_sync(the_run) is True
    message = mail.outbox[0]
    for body in (message.body, message.alternatives[0][0]):
        assert "Bills written: 1,234.56 USD. Bills held: 99.99 CAD." in body
