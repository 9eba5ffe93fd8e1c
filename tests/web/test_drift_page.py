"""The drift page and the record page show what changed in QuickBooks with field diffs; the choices are
the owner's or an admin's, audited with who decided, walled off per organisation."""

from __future__ import annotations

from django.utils import timezone

from connector.models import AuditEvent, ExternalRecord, QBODrift
from connector.sync.drift_diff import WRITTEN


def _drift(org, procurify_id: str = "b-1", kind: str = QBODrift.Kind.CHANGED, **extra) -> QBODrift:
    written = {"keys": ["DueDate"], "sent": {"DueDate": "2026-03-31"}, "qbo": {"DueDate": "2026-03-31"}}
    ExternalRecord.objects.create(
        organisation=org,
        object_type="bill",
        procurify_id=procurify_id,
        label=f"Bill {procurify_id}",
        qbo_entity="Bill",
        qbo_id="41",
        sync_token="0",
        payload_hash="a" * 64,
        state=ExternalRecord.State.SYNCED,
        extra={WRITTEN: written},
    )
    return QBODrift.objects.create(
        organisation=org,
        object_type="bill",
        procurify_id=procurify_id,
        label=f"Bill {procurify_id}",
        qbo_entity="Bill",
        qbo_id="41",
        kind=kind,
        qbo_sync_token="3",
        changes=[{"field": "DueDate", "before": "2026-03-31", "after": "2026-04-30"}],
        qbo_now={"DueDate": "2026-04-30"},
        metered_reads=1,
        detected_at=timezone.now(),
        **extra,
    )


def test_it_lists_drift_with_both_diffs_and_the_choices(org_a, owner) -> None:
    _drift(
        org_a,
        procurify={
            "payload_hash": "b" * 64,
            "changes": [{"field": "DocNumber", "before": "A-1", "after": "A-2"}],
        },
    )
    page = owner.client.get(f"/o/{org_a.public_id}/drift/").content.decode()
    for text in ("Bill b-1", "Changed in QuickBooks", "2026-03-31", "2026-04-30", "A-1", "A-2"):
        assert text in page
    assert "Use Procurify&#x27;s version" in page and "Keep QuickBooks&#x27; version" in page

    record = owner.client.get(f"/o/{org_a.public_id}/records/bill/b-1/").content.decode()
    assert "2026-04-30" in record and "Keep QuickBooks&#x27; version" in record


def test_keeping_the_qbo_version_is_audited_and_takes_its_sync_token(org_a, owner) -> None:
    drift = _drift(org_a, procurify={"payload_hash": "b" * 64, "changes": [], "fields": {"DocNumber": "A-2"}})

    response = owner.client.post(
        f"/o/{org_a.public_id}/drift/{drift.public_id}/decide/", {"action": "keep_qbo"}
    )

    assert response.status_code == 302
    drift.refresh_from_db()
    assert (drift.state, drift.resolution, drift.resolved_by) == ("resolved", "keep_qbo", owner.user.email)
    record = ExternalRecord.objects.get(organisation=org_a, procurify_id="b-1")
    assert record.sync_token == "3" and record.payload_hash == "b" * 64
    assert record.extra[WRITTEN]["qbo"] == {"DueDate": "2026-04-30"}
    event = AuditEvent.objects.get(organisation=org_a, procurify_id="b-1", kind="decision")
    assert event.data["by"] == owner.user.email and event.data["action"] == "keep_qbo"


def test_a_choice_that_does_not_fit_the_drift_changes_nothing(org_a, owner) -> None:
    drift = _drift(org_a, kind=QBODrift.Kind.PAID)
    owner.client.post(f"/o/{org_a.public_id}/drift/{drift.public_id}/decide/", {"action": "use_procurify"})
    drift.refresh_from_db()
    assert drift.state == "open"
    assert ExternalRecord.objects.get(organisation=org_a, procurify_id="b-1").sync_token == "0"


def test_viewers_see_but_cannot_choose_and_outsiders_see_nothing(org_a, viewer, org_b, outsider) -> None:
    drift = _drift(org_a)
    assert "Keep QuickBooks" not in viewer.client.get(f"/o/{org_a.public_id}/drift/").content.decode()
    url = f"/o/{org_a.public_id}/drift/{drift.public_id}/decide/"
    assert viewer.client.post(url, {"action": "keep_qbo"}).status_code == 403
    # Another organisation's member cannot reach it under their own organisation either.
    assert (
        outsider.client.post(
            f"/o/{org_b.public_id}/drift/{drift.public_id}/decide/", {"action": "keep_qbo"}
        ).status_code
        == 404
    )
    drift.refresh_from_db()
    assert drift.state == "open"


def test_held_records_point_to_where_the_choice_is_made(org_a, owner) -> None:
    from web_support import held

    held(org_a, "b-2", reason_code="books_closed", message="The books are closed through 31 Oct 2026.")
    held(org_a, "b-3", reason_code="changed_on_both_sides", message="Changed on both sides: Bill b-3 …")
    page = owner.client.get(f"/o/{org_a.public_id}/held/").content.decode()
    assert f'href="/o/{org_a.public_id}/sync/settings/">Choose what happens in sync settings' in page
    assert f'href="/o/{org_a.public_id}/records/bill/b-3/">Compare and choose' in page
