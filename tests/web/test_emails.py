"""Alert e-mails: one digest for many held records with fix links and no secrets; failure and first-sync."""

from __future__ import annotations

from django.core import mail
from web_support import held, run, vendor_mapping

from connector.emails import maybe_send_first_sync, maybe_send_run_failed, send_held_digest
from connector.models import SyncRun
from tenants.models import Connection, Provider


def test_it_sends_one_digest_listing_every_held_record_with_fix_links(org_a, owner, viewer) -> None:
    Connection.objects.create(
        organisation=org_a,
        provider=Provider.QBO,
        realm_id="1",
        access_token="very-secret-access",
        refresh_token="very-secret-refresh",
    )
    acme = vendor_mapping(org_a, 101, "Acme Ltd")
    rows = [
        held(
            org_a,
            "b1",
            label="INV-1",
            waiting_on=("vendor_mapping", "101"),
            message="Vendor 'Acme Ltd' is not mapped to a QuickBooks vendor.",
        ),
        held(org_a, "b2", label="INV-2", waiting_on=("vendor_mapping", "101")),
        held(org_a, "b3", label="INV-3", reason_code="period_closed", message="QuickBooks books are closed."),
    ]
    assert send_held_digest(org_a, rows) is True
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [owner.user.email]  # viewers are not alerted
    assert "3 records held" in message.subject
    html = message.alternatives[0][0]
    fix = f"http://127.0.0.1:8000/o/{org_a.public_id}/mappings/vendors/{acme.public_id}/"
    for body in (message.body, html):
        assert "INV-1" in body and "INV-2" in body and "INV-3" in body
        assert fix in body and f"/o/{org_a.public_id}/records/bill/b3/" in body
        assert "very-secret" not in body
    assert "Vendor 'Acme Ltd' is not mapped" in message.body  # plain text is not HTML-escaped


def test_it_sends_nothing_without_held_records(org_a, owner) -> None:
    assert send_held_digest(org_a, []) is False
    assert mail.outbox == []


def test_it_alerts_once_when_runs_fail_repeatedly(org_a, owner) -> None:
    def fail(n: int) -> SyncRun:
        return run(org_a, status=SyncRun.Status.FAILED, error=f"Failure {n}")

    run(org_a)
    assert maybe_send_run_failed(fail(1)) is False
    assert maybe_send_run_failed(fail(2)) is False
    assert maybe_send_run_failed(fail(3)) is True
    assert maybe_send_run_failed(fail(4)) is False  # the same streak is not alerted twice
    assert len(mail.outbox) == 1
    assert "failed 3 times in a row" in mail.outbox[0].subject
    assert "Failure 3" in mail.outbox[0].body and f"/o/{org_a.public_id}/runs/" in mail.outbox[0].body


def test_it_congratulates_on_the_first_successful_sync_only(org_a, owner) -> None:
    first = run(org_a, counts={"created": 12, "held": 1})
    held(org_a, "b1")
    assert maybe_send_first_sync(first) is True
    assert "first sync" in mail.outbox[0].subject and "12 created" in mail.outbox[0].body
    assert f"/o/{org_a.public_id}/held/" in mail.outbox[0].body
    assert maybe_send_first_sync(run(org_a)) is False
    assert len(mail.outbox) == 1
