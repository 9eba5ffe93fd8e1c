"""Closed books (issue 14): a bill dated on or before QuickBooks' book-close date is held by default, or,
under the organisation's other policy, posted on the first open day with its own date in the note."""

from __future__ import annotations

from datetime import date, timedelta

from connector.models import HeldRecord, SyncRun
from connector.sync.closed_books import POST_ON_FIRST_OPEN_DAY, decide, human
from mappings.models import BooksProfile


def _txn_date(harness, doc: str) -> date:
    value = harness.procurify_bill(doc)["invoice_date"]
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def test_the_decision_is_pure_and_inclusive_of_the_close_date() -> None:
    close = date(2026, 10, 31)
    assert decide(date(2026, 11, 1), close, "hold").action == "open"
    assert decide(close, close, "hold").action == "hold"
    assert decide(date(2026, 10, 15), None, "hold").action == "open"
    moved = decide(date(2026, 10, 15), close, POST_ON_FIRST_OPEN_DAY)
    assert (moved.action, moved.txn_date) == ("move", date(2026, 11, 1))
    assert human(close) == "31 Oct 2026"


def test_a_bill_in_closed_books_is_held_then_posted_under_the_other_policy(harness, org_a, owner):
    dated = _txn_date(harness, "OB-7781")
    close = dated + timedelta(days=3)
    harness.sb.qbo.set_book_close_date(harness.realm_id, close)
    uuid = harness.procurify_bill("OB-7781")["uuid"]

    run = harness.run(org_a)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert BooksProfile.objects.get(organisation=org_a).qbo_book_close_date == close
    held = HeldRecord.objects.get(organisation=org_a, procurify_id=uuid)
    assert held.reason_code == "books_closed"
    assert held.message.startswith(
        f"The books are closed through {human(close)}; this bill is dated {human(dated)}."
    )
    assert not [b for b in harness.bills() if uuid in b.get("PrivateNote", "")]
    # Nothing written is dated in closed books.
    assert all(date.fromisoformat(b["TxnDate"]) > close for b in harness.bills())
    writes = harness.writes()
    harness.sb.clock.advance(minutes=10)
    harness.run(org_a)
    assert harness.writes() == writes  # held, not re-sent every run

    # The organisation chooses the other policy on the settings page: saving releases the held bills.
    form = {"mode": "interval", "interval_minutes": "60", "closed_period_policy": POST_ON_FIRST_OPEN_DAY}
    response = owner.client.post(f"/o/{org_a.public_id}/sync/settings/", form)
    assert response.status_code == 302
    assert HeldRecord.objects.get(pk=held.pk).state == HeldRecord.State.RELEASED
    harness.sb.clock.advance(minutes=10)
    harness.run(org_a)

    posted = next(b for b in harness.bills() if uuid in b["PrivateNote"])
    assert posted["TxnDate"] == (close + timedelta(days=1)).isoformat()
    assert f"Dated {dated.isoformat()} in Procurify" in posted["PrivateNote"]
    assert HeldRecord.objects.get(pk=held.pk).state == HeldRecord.State.RESOLVED


def test_the_settings_page_explains_the_choice(org_a, owner):
    page = owner.client.get(f"/o/{org_a.public_id}/sync/settings/").content.decode()
    assert "Bills dated in closed books" in page
    assert "Post it on the first open day" in page and "private note" in page


def test_reopened_books_release_the_held_bill_without_a_person(harness, org_a):
    dated = _txn_date(harness, "OB-7781")
    harness.sb.qbo.set_book_close_date(harness.realm_id, dated)
    uuid = harness.procurify_bill("OB-7781")["uuid"]
    harness.run(org_a)
    assert HeldRecord.objects.get(organisation=org_a, procurify_id=uuid).reason_code == "books_closed"

    harness.sb.qbo.set_book_close_date(harness.realm_id, dated - timedelta(days=1))
    harness.sb.clock.advance(minutes=10)
    harness.run(org_a)

    written = next(b for b in harness.bills() if uuid in b["PrivateNote"])
    assert written["TxnDate"] == dated.isoformat()
