from __future__ import annotations

from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest

from connector.models import ExternalRecord, HeldRecord, SyncRun
from connector.sync import runs
from tests.engine.conftest import build_harness, dies_after_qbo_commits_a_bill


def _markers(bills: list[dict]) -> Counter[str]:
    return Counter((b.get("PrivateNote") or "").split(" ")[0] for b in bills)


def test_it_does_not_duplicate_when_qbo_commits_then_the_response_is_lost(harness, org_a):
    harness.sb.faults.lose_next(3)

    run = harness.run(org_a)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    markers = _markers(harness.bills())
    assert max(markers.values()) == 1
    assert len(markers) == ExternalRecord.objects.filter(organisation=org_a, object_type="bill").count()


def test_it_adopts_a_bill_created_by_a_killed_run_instead_of_posting_again(harness, org_a):
    with pytest.raises(KeyboardInterrupt), dies_after_qbo_commits_a_bill(harness):
        harness.run(org_a)
    stuck = ExternalRecord.objects.filter(organisation=org_a, state="creating", object_type="bill").first()
    assert stuck is not None
    assert SyncRun.objects.get(organisation=org_a).status == "running"

    harness.sb.clock.advance(hours=1)
    assert runs.reap_abandoned(harness.sb.clock.now()) == 1
    run = harness.run(org_a)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    markers = _markers(harness.bills())
    assert max(markers.values()) == 1
    stuck.refresh_from_db()
    assert stuck.state == "synced" and markers[f"procurify:bill:{stuck.procurify_id}"] == 1
    synced = ExternalRecord.objects.filter(organisation=org_a, object_type="bill", state="synced").count()
    assert synced == len(harness.bills())


def test_it_holds_a_malformed_procurify_bill_and_syncs_the_others(harness, org_a):
    site = harness.sb.procurify.site("northwind")
    bad = harness.procurify_bill("OB-7781")
    bad["items"][0]["allocs"][0]["amount"] = Decimal("NaN")

    run = harness.run(org_a)

    held = HeldRecord.objects.get(organisation=org_a, reason_code="malformed_record")
    assert held.procurify_id == bad["uuid"] and "could not read" in held.message
    assert run.counts["by_type"]["bill"]["created"] > 10
    assert site.bills  # the fake still has it; nothing was deleted anywhere


def test_it_never_touches_another_organisations_records(org_a, org_b):
    from sandbox import Sandbox
    from tests.engine.conftest import NOW

    sb = Sandbox.create(seed="distributor", now=NOW, tenants=2)
    a, b = build_harness(sb, "northwind", 0), build_harness(sb, "northwind2", 1)
    a.run(org_a)
    a_records = list(ExternalRecord.objects.filter(organisation=org_a).values_list("pk", "updated_at"))
    a_writes = a.writes()

    sb.clock.advance(minutes=5)
    run_b = b.run(org_b)

    assert run_b.status == SyncRun.Status.SUCCEEDED, run_b.error
    assert (
        list(ExternalRecord.objects.filter(organisation=org_a).values_list("pk", "updated_at")) == a_records
    )
    assert a.writes() == a_writes
    b_bills = {r.qbo_id for r in ExternalRecord.objects.filter(organisation=org_b, object_type="bill")}
    assert b_bills == {bill["Id"] for bill in b.bills()}
    a.http.close()
    b.http.close()


def test_it_refuses_a_second_active_run_for_the_same_organisation(org_a):
    assert runs.enqueue_run(org_a) is not None
    assert runs.enqueue_run(org_a) is None


def test_it_claims_a_queued_run_only_once(org_a, harness):
    run = runs.enqueue_run(org_a)
    now = harness.sb.clock.now()
    assert runs.claim_run(run.pk, now) is not None
    assert runs.claim_run(run.pk, now) is None
    assert runs.reap_abandoned(now + timedelta(minutes=1)) == 0
