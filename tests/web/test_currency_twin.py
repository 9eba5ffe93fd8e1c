"""Issue 10: a bill whose currency its QuickBooks vendor cannot take offers one fix: create the vendor's
currency twin ("Name (CAD)") in QuickBooks, in that currency, and map to it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sandbox_wiring import connect, point_settings_at

from connector.clients import procurify_client_for, qbo_client_for, use_transport
from connector.models import HeldRecord, SyncRun
from connector.sync import runs
from connector.sync.engine import run_pipeline
from mappings.models import Source, VendorMapping
from sandbox import Sandbox
from tenants.models import Organisation


@pytest.fixture
def sandbox(settings: Any, org_a: Organisation, owner: Any) -> Iterator[Sandbox]:
    sb = Sandbox.create(seed="distributor")
    point_settings_at(sb)
    with use_transport(sb.transport(), clock=sb.clock.now):
        sb.realm = connect(org_a, owner.user, sb)  # type: ignore[attr-defined]
        yield sb


def _sync(org: Organisation, sb: Sandbox) -> SyncRun:
    queued = runs.enqueue_run(org, SyncRun.Trigger.SCHEDULE)
    assert queued is not None
    return run_pipeline(
        queued.pk, procurify=procurify_client_for(org), qbo=qbo_client_for(org), clock=sb.clock.now
    )


def test_the_held_bill_offers_the_twin_and_one_click_writes_it_in_the_right_currency(
    org_a, owner, sandbox
) -> None:
    _sync(org_a, sandbox)
    # A person maps the CAD supplier to a USD vendor by hand: its bills cannot go there.
    maple = VendorMapping.objects.get(organisation=org_a, procurify_name="Maple Leaf Pallets Ltd.")
    usd = next(
        v for v in sandbox.qbo.objects(sandbox.realm, "Vendor") if v["DisplayName"] == "Comcast Business"
    )
    VendorMapping.objects.filter(pk=maple.pk).update(
        qbo_vendor_id=usd["Id"], qbo_vendor_name="Comcast Business", source=Source.MANUAL
    )
    sandbox.procurify.edit_bill(
        "northwind",
        next(
            u
            for u, b in sandbox.procurify.site("northwind").bills.items()
            if b.get("invoice_number") == "MLP-1002"
        ),
        note="touched",
    )
    _sync(org_a, sandbox)
    held = HeldRecord.objects.get(organisation=org_a, label__contains="MLP-1002")
    assert held.reason_code == "vendor_currency_mismatch"
    page = owner.client.get(f"/o/{org_a.public_id}/held/").content.decode()
    assert "Create “Comcast Business (CAD)” in QuickBooks" in page

    url = f"/o/{org_a.public_id}/mappings/vendors/{maple.public_id}/currency-twin/CAD/"
    response = owner.client.post(url, follow=True)
    assert "Created &#x27;Comcast Business (CAD)&#x27; in QuickBooks" in response.content.decode()
    twin = next(
        v
        for v in sandbox.qbo.objects(sandbox.realm, "Vendor")
        if v["DisplayName"] == "Comcast Business (CAD)"
    )
    assert twin["CurrencyRef"]["value"] == "CAD"

    _sync(org_a, sandbox)
    bill = next(b for b in sandbox.qbo.objects(sandbox.realm, "Bill") if b.get("DocNumber") == "MLP-1002")
    assert bill["VendorRef"]["value"] == twin["Id"] and bill["CurrencyRef"]["value"] == "CAD"


def test_a_viewer_cannot_create_a_twin(org_a, viewer, sandbox) -> None:
    _sync(org_a, sandbox)
    maple = VendorMapping.objects.get(organisation=org_a, procurify_name="Maple Leaf Pallets Ltd.")
    response = viewer.client.post(
        f"/o/{org_a.public_id}/mappings/vendors/{maple.public_id}/currency-twin/CAD/"
    )
    assert response.status_code == 403
