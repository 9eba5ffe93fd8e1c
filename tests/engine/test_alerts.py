"""The alerts a run sends: one digest of what it newly held, a first-success mail, a failure streak mail."""

from __future__ import annotations

from django.core import mail

from connector.emails import notify_after_run
from connector.models import HeldRecord, SyncRun


def test_it_sends_one_digest_and_a_first_sync_mail_after_the_first_run(harness, org_a, owner, viewer) -> None:
    run = harness.run(org_a)
    notify_after_run(run)
    subjects = [m.subject for m in mail.outbox]
    assert len(mail.outbox) == 2, subjects
    digest = next(m for m in mail.outbox if "held" in m.subject.lower())
    assert digest.to == [owner.user.email]  # viewers are not asked to fix mappings
    held = HeldRecord.objects.filter(organisation=org_a, state=HeldRecord.State.HELD)
    assert held.exists()
    for record in held:
        assert record.label in digest.body
    assert f"/o/{org_a.public_id}/" in digest.body


def test_it_sends_nothing_new_when_a_run_holds_nothing_new(harness, org_a, owner) -> None:
    notify_after_run(harness.run(org_a))
    mail.outbox.clear()
    notify_after_run(harness.run(org_a))
    assert mail.outbox == []


def test_it_alerts_once_when_runs_keep_failing(harness, org_a, owner) -> None:
    notify_after_run(harness.run(org_a))
    mail.outbox.clear()
    harness.sb.qbo.revoke_tokens(harness.realm_id)  # every later run fails until someone reconnects
    statuses = []
    for _ in range(5):
        run = harness.run(org_a)
        statuses.append(run.status)
        notify_after_run(run)
    assert statuses == [SyncRun.Status.FAILED] * 5
    failure_mails = [m for m in mail.outbox if "fail" in m.subject.lower()]
    assert len(failure_mails) == 1
