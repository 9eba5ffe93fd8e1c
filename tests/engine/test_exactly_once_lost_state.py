"""Issue 11 items 2 and 3: exactly once survives an edit after a crash and the loss of our link rows."""

from __future__ import annotations

from collections import Counter

import pytest

from connector.models import ExternalRecord, HeldRecord, SyncCursor, SyncRun
from tests.engine.conftest import dies_after_qbo_commits_a_bill


def _markers(bills: list[dict]) -> Counter[str]:
    return Counter((b.get("PrivateNote") or "").split(" ")[0] for b in bills)


def test_it_adopts_a_bill_committed_before_a_crash_even_after_its_number_changed(harness, org_a):
    with pytest.raises(KeyboardInterrupt), dies_after_qbo_commits_a_bill(harness):
        harness.run(org_a)
    stuck = ExternalRecord.objects.filter(organisation=org_a, object_type="bill", state="creating").first()
    assert stuck is not None
    SyncRun.objects.filter(organisation=org_a).update(status=SyncRun.Status.ABANDONED)
    # Then someone renumbers that bill in Procurify: a lookup by the new number alone finds nothing.
    harness.sb.procurify.edit_bill("northwind", stuck.procurify_id, invoice_number="RENUMBERED-1")

    run = harness.run(org_a)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert max(_markers(harness.bills()).values()) == 1
    stuck.refresh_from_db()
    assert stuck.state == "synced"
    adopted = next(b for b in harness.bills() if b["Id"] == stuck.qbo_id)
    assert adopted["DocNumber"] == "RENUMBERED-1"  # adopted, then updated to the new number


@pytest.mark.parametrize("warn_duplicates", [True, False])
def test_it_adopts_every_bill_when_our_link_rows_are_lost_and_writes_none_twice(
    harness, org_a, warn_duplicates
):
    harness.sb.qbo.set_preferences(harness.realm_id, warn_duplicate_bill_number=warn_duplicates)
    harness.run(org_a)
    before = len(harness.bills())
    assert before > 20

    # A database restore from before the sync: link rows, holds and cursors gone; QuickBooks kept all.
    ExternalRecord.objects.filter(organisation=org_a, object_type="bill").delete()
    HeldRecord.objects.filter(organisation=org_a).delete()
    SyncCursor.objects.filter(organisation=org_a).delete()
    harness.sb.clock.advance(minutes=5)

    run = harness.run(org_a)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert len(harness.bills()) == before
    assert max(_markers(harness.bills()).values()) == 1
    assert not HeldRecord.objects.filter(organisation=org_a, reason_code="duplicate_docnumber").exists()
    synced = ExternalRecord.objects.filter(organisation=org_a, object_type="bill", state="synced").count()
    assert synced == before


def test_it_adopts_a_bill_renumbered_after_its_link_row_was_lost(harness, org_a):
    harness.run(org_a)
    before = len(harness.bills())
    uuid = harness.procurify_bill("OB-7781")["uuid"]
    ExternalRecord.objects.filter(organisation=org_a, object_type="bill").delete()
    HeldRecord.objects.filter(organisation=org_a).delete()
    SyncCursor.objects.filter(organisation=org_a).delete()
    harness.sb.procurify.edit_bill("northwind", uuid, invoice_number="RENUMBERED-1")
    harness.sb.clock.advance(minutes=5)

    run = harness.run(org_a)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert len(harness.bills()) == before
    assert max(_markers(harness.bills()).values()) == 1
    assert harness.bill_by_doc("RENUMBERED-1")
