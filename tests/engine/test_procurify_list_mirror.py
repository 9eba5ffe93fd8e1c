"""Our copy of Procurify's vendor and account-code lists (connector/sync/reference.py, issue 16): every poll
reads them, so an unchanged list must cost a few statements, not two per row, while a new, renamed or
deactivated vendor is still stored on the poll that lists it."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from connector.models import SyncRun
from mappings.models import AccountMapping, VendorMapping
from mappings.normalise import normalise_name
from tests.engine.conftest import DOMAIN

REFERENCE = ("token_check", "reference")


def _reference(harness, organisation) -> SyncRun:
    run = harness.run(organisation, steps=REFERENCE)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    return run


def test_an_unchanged_list_is_stamped_seen_in_one_statement_per_list(harness, org_a) -> None:
    _reference(harness, org_a)
    vendors = VendorMapping.objects.filter(organisation=org_a)
    assert vendors.count() > 5 and AccountMapping.objects.filter(organisation=org_a).count() > 5
    harness.sb.clock.advance(minutes=1)

    with CaptureQueriesContext(connection) as queries:
        _reference(harness, org_a)

    writes = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith(("INSERT", "UPDATE"))
        and ("vendormapping" in q["sql"] or "accountmapping" in q["sql"])
    ]
    assert len(writes) == 2, writes  # one stamp per list, whatever its length
    now = harness.sb.clock.now()
    assert set(vendors.values_list("seen_at", flat=True)) == {now}


def test_a_new_renamed_or_deactivated_vendor_is_stored_on_the_poll_that_lists_it(harness, org_a) -> None:
    _reference(harness, org_a)
    site = harness.sb.procurify.site(DOMAIN)
    renamed_id, closed_id = sorted(v for v in site.vendors if v != 1)[:2]
    with harness.sb.procurify._lock:  # the fake's own lock: edits as Procurify's own screens make them
        site.vendors[renamed_id]["name"] = "Renamed Paper Co"
        site.vendors[closed_id]["active"] = False
    added = harness.sb.procurify.add_vendor(DOMAIN, "Brand New Supplies Ltd")
    harness.sb.clock.advance(minutes=1)

    _reference(harness, org_a)

    mappings = VendorMapping.objects.filter(organisation=org_a)
    renamed = mappings.get(procurify_vendor_id=renamed_id)
    assert renamed.procurify_name == "Renamed Paper Co"
    assert renamed.normalised_name == normalise_name("Renamed Paper Co")
    assert mappings.get(procurify_vendor_id=closed_id).procurify_active is False
    new = mappings.get(procurify_vendor_id=added["id"])
    assert new.procurify_name == "Brand New Supplies Ltd" and new.seen_at == harness.sb.clock.now()
    assert mappings.filter(procurify_vendor_id=added["id"]).count() == 1
