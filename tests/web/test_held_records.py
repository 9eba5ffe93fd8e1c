"""Held records: grouped by reason with the fix link; retry one or all; ignoring needs a comment, audited."""

from __future__ import annotations

from web_support import held, run, vendor_mapping

from connector.models import AuditEvent, HeldRecord


def url(org, suffix: str = "") -> str:
    return f"/o/{org.public_id}/held/{suffix}"


def test_it_groups_held_records_by_reason_with_the_fix_link(org_a, owner) -> None:
    acme = vendor_mapping(org_a, 101, "Acme Ltd")
    held(
        org_a,
        "b1",
        reason_code="vendor_unmapped",
        waiting_on=("vendor_mapping", "101"),
        message="Vendor 'Acme Ltd' is not mapped to a QuickBooks vendor. Map it on the Vendors tab.",
    )
    held(org_a, "b2", reason_code="vendor_unmapped", waiting_on=("vendor_mapping", "101"))
    held(org_a, "b3", reason_code="period_closed", message="QuickBooks books are closed for 2026-01-31.")
    response = owner.client.get(url(org_a))
    groups = response.context["groups"]
    assert [(g["code"], len(g["rows"])) for g in groups] == [("period_closed", 1), ("vendor_unmapped", 2)]
    page = response.content.decode()
    assert "Vendor not mapped" in page and "Books closed in QuickBooks" in page
    assert "Vendor &#x27;Acme Ltd&#x27; is not mapped" in page
    assert f"/o/{org_a.public_id}/mappings/vendors/{acme.public_id}/" in page
    assert f"/o/{org_a.public_id}/records/bill/b3/" in page


def test_it_shows_an_empty_state_without_held_records(org_a, owner) -> None:
    held(org_a, "done", state=HeldRecord.State.RESOLVED)
    before_first_run = owner.client.get(url(org_a)).content.decode()
    assert "everything that could be written was written" not in before_first_run
    assert "nothing has been synced" in before_first_run
    run(org_a)
    page = owner.client.get(url(org_a)).content.decode()
    assert "No held records — everything that could be written was written." in page


def test_it_retries_one_record_on_the_next_run(org_a, owner) -> None:
    one, other = held(org_a, "b1"), held(org_a, "b2")
    response = owner.client.post(url(org_a, f"{one.public_id}/retry/"), follow=True)
    assert "will be retried on the next run" in response.content.decode()
    one.refresh_from_db(), other.refresh_from_db()
    assert (one.state, other.state) == (HeldRecord.State.RELEASED, HeldRecord.State.HELD)


def test_it_retries_all_records(org_a, org_b, owner) -> None:
    held(org_a, "b1"), held(org_a, "b2")
    theirs = held(org_b, "b9")
    response = owner.client.post(url(org_a, "retry/"), follow=True)
    assert "2 held records will be retried" in response.content.decode()
    assert HeldRecord.objects.get(pk=theirs.pk).state == HeldRecord.State.HELD


def test_it_requires_a_comment_to_ignore(org_a, owner) -> None:
    record = held(org_a, "b1")
    response = owner.client.post(url(org_a, f"{record.public_id}/ignore/"), {"comment": "   "})
    assert response.status_code == 400
    assert "Say why this record should be ignored" in response.content.decode()
    record.refresh_from_db()
    assert record.state == HeldRecord.State.HELD
    assert not AuditEvent.objects.filter(procurify_id="b1").exists()


def test_it_ignores_with_a_comment_and_audits_it(org_a, owner) -> None:
    record = held(org_a, "b1")
    response = owner.client.post(
        url(org_a, f"{record.public_id}/ignore/"), {"comment": "Keyed in QBO by hand"}
    )
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.state == HeldRecord.State.RESOLVED
    event = AuditEvent.objects.get(organisation=org_a, procurify_id="b1")
    assert event.kind == AuditEvent.Kind.DECISION
    assert "Keyed in QBO by hand" in event.message and owner.user.email in event.message
    assert event.data["action"] == "ignored"


def test_it_forbids_viewers_to_retry_or_ignore(org_a, viewer) -> None:
    record = held(org_a, "b1")
    assert viewer.client.post(url(org_a, f"{record.public_id}/retry/")).status_code == 403
    assert viewer.client.post(url(org_a, f"{record.public_id}/ignore/"), {"comment": "x"}).status_code == 403
    assert "Ignore…" not in viewer.client.get(url(org_a)).content.decode()


def test_it_answers_404_for_another_organisations_hold(org_a, org_b, owner) -> None:
    theirs = held(org_b, "b9")
    assert owner.client.post(url(org_a, f"{theirs.public_id}/retry/")).status_code == 404


def test_it_has_a_plain_title_for_every_reason_code() -> None:
    from connector.hold_reasons import REASONS, ReasonCode

    missing = {code for code in ReasonCode if not REASONS[code].title or REASONS[code].title == code.value}
    assert not missing, f"held-record groups would show raw codes: {sorted(missing)}"
