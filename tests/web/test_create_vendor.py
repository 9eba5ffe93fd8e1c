"""'Create this vendor in QuickBooks' from a vendor mapping row, against the in-process sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sandbox_wiring import connect_qbo, point_settings_at
from web_support import held, vendor_mapping

from connector.clients import qbo_client_for, use_transport
from connector.models import AuditEvent, ExternalRecord, HeldRecord, SyncRun
from mappings.models import QBOVendor, Source, VendorMapping
from sandbox import Sandbox
from tenants.models import Connection, Organisation, Provider


@dataclass
class Wired:
    sb: Any
    realm_id: str

    def vendors_named(self, name: str) -> list[dict[str, Any]]:
        return [v for v in self.sb.qbo.objects(self.realm_id, "Vendor") if v.get("DisplayName") == name]


@pytest.fixture
def wired(settings: Any, org_a: Organisation, owner: Any) -> Iterator[Wired]:
    """Organisation A connected to the sandbox's QBO company, the way the consent callback does it."""
    sb = Sandbox.create(seed="distributor")
    point_settings_at(sb)
    with use_transport(sb.transport(), clock=sb.clock.now):
        yield Wired(sb, connect_qbo(org_a, owner.user, sb))


def url(org: Organisation, mapping: VendorMapping) -> str:
    return f"/o/{org.public_id}/mappings/vendors/{mapping.public_id}/create-in-quickbooks/"


def test_it_creates_maps_and_releases_the_holds_when_an_owner_presses_create(
    org_a, owner, wired: Wired
) -> None:
    mapping = vendor_mapping(org_a, 9001, "Brightline Electrical Supply")
    held(org_a, "b1", waiting_on=("vendor_mapping", "9001"))
    held(org_a, "b2", waiting_on=("vendor_mapping", "9001"))
    response = owner.client.post(url(org_a, mapping), follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Created &#x27;Brightline Electrical Supply&#x27; in QuickBooks" in page
    assert "2 held records will sync on the next run" in page
    [created] = wired.vendors_named("Brightline Electrical Supply")
    mapping.refresh_from_db()
    assert (mapping.qbo_vendor_id, mapping.source) == (str(created["Id"]), Source.CREATED)
    assert mapping.decided_by == owner.user
    assert QBOVendor.objects.get(organisation=org_a, qbo_id=created["Id"]).active
    assert ExternalRecord.objects.get(
        organisation=org_a, object_type="vendor", procurify_id="9001"
    ).qbo_id == str(created["Id"])
    assert set(HeldRecord.objects.values_list("state", flat=True)) == {HeldRecord.State.RELEASED}
    event = AuditEvent.objects.get(organisation=org_a, kind=AuditEvent.Kind.MAPPING, procurify_id="9001")
    assert owner.user.email in event.message and event.data["qbo_id"] == str(created["Id"])


def test_it_answers_with_the_new_row_when_pressed_through_htmx(org_a, admin_member, wired: Wired) -> None:
    mapping = vendor_mapping(org_a, 9002, "Evergreen Janitorial Services")
    response = admin_member.client.post(url(org_a, mapping), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    row = response.content.decode()
    assert row.startswith(f'<tr id="mapping-{mapping.public_id}"')
    assert "No held records were waiting" not in row and "Create this vendor" not in row
    assert len(wired.vendors_named("Evergreen Janitorial Services")) == 1


def test_it_shows_a_form_error_and_changes_nothing_when_a_customer_has_the_name(
    org_a, owner, wired: Wired
) -> None:
    mapping = vendor_mapping(org_a, 9003, "Summit Steel & Wire")  # a QBO Customer has this name: 6240
    held(org_a, "b1", waiting_on=("vendor_mapping", "9003"))
    response = owner.client.post(url(org_a, mapping))
    assert response.status_code == 400
    page = response.content.decode()
    assert "A customer or employee in QuickBooks already uses this name" in page
    assert 'role="alert"' in page
    mapping.refresh_from_db()
    assert not mapping.is_mapped and mapping.source == Source.NONE
    assert HeldRecord.objects.get().state == HeldRecord.State.HELD
    assert wired.vendors_named("Summit Steel & Wire") == []


def test_it_shows_the_error_in_the_row_when_refused_through_htmx(org_a, owner, wired: Wired) -> None:
    mapping = vendor_mapping(org_a, 9003, "Summit Steel & Wire")
    response = owner.client.post(url(org_a, mapping), HTTP_HX_REQUEST="true")
    assert response.status_code == 200  # htmx swaps 2xx only; the row carries the error
    row = response.content.decode()
    assert row.startswith(f'<tr id="mapping-{mapping.public_id}" class="editing"')
    assert "A customer or employee in QuickBooks already uses this name" in row


def test_it_adopts_the_vendor_instead_of_creating_a_second_when_an_earlier_create_landed(
    org_a, owner, wired: Wired
) -> None:
    mapping = vendor_mapping(org_a, 9004, "Brightline Electrical Supply")
    # An engine run POSTed the vendor, then died before saving the answer: the row is still "creating".
    landed = qbo_client_for(org_a).create(
        "Vendor", {"DisplayName": "Brightline Electrical Supply"}, request_id="r-1"
    )
    ExternalRecord.objects.create(
        organisation=org_a,
        object_type="vendor",
        procurify_id="9004",
        qbo_entity="Vendor",
        request_id="r-1",
        state=ExternalRecord.State.CREATING,
    )
    response = owner.client.post(url(org_a, mapping))
    assert response.status_code == 302
    mapping.refresh_from_db()
    assert mapping.qbo_vendor_id == str(landed.Id)
    assert len(wired.vendors_named("Brightline Electrical Supply")) == 1


def test_it_refuses_and_writes_nothing_when_the_vendor_is_already_mapped(org_a, owner, wired: Wired) -> None:
    mapping = vendor_mapping(
        org_a, 9005, "Brightline Electrical Supply", qbo_vendor_id="56", qbo_vendor_name="X"
    )
    response = owner.client.post(url(org_a, mapping))
    assert response.status_code == 400
    assert "already mapped" in response.content.decode()
    assert wired.vendors_named("Brightline Electrical Supply") == []


def test_it_refuses_while_a_sync_runs(org_a, owner, wired: Wired) -> None:
    mapping = vendor_mapping(org_a, 9006, "Brightline Electrical Supply")
    SyncRun.objects.create(organisation=org_a, status=SyncRun.Status.RUNNING)
    response = owner.client.post(url(org_a, mapping))
    assert response.status_code == 400
    assert "A sync is running" in response.content.decode()
    assert wired.vendors_named("Brightline Electrical Supply") == []


def test_it_explains_instead_of_crashing_when_quickbooks_is_not_connected(org_a, owner) -> None:
    mapping = vendor_mapping(org_a, 9007, "Brightline Electrical Supply")
    response = owner.client.post(url(org_a, mapping))
    assert response.status_code == 400
    assert "is not connected yet" in response.content.decode()
    Connection.objects.create(
        organisation=org_a, provider=Provider.QBO, realm_id="1", refresh_token="r", needs_reauth=True
    )
    response = owner.client.post(url(org_a, mapping))
    assert response.status_code == 400 and "needs reconnecting" in response.content.decode()


def test_it_shows_the_button_to_writers_for_unmapped_vendors_only(org_a, owner, viewer) -> None:
    unmapped = vendor_mapping(org_a, 9008, "Brightline Electrical Supply")
    vendor_mapping(org_a, 9009, "Mapped Co", qbo_vendor_id="56", qbo_vendor_name="Mapped Co")
    page = owner.client.get(f"/o/{org_a.public_id}/mappings/vendors/").content.decode()
    assert page.count("Create this vendor in QuickBooks") == 1
    assert url(org_a, unmapped) in page
    edit = owner.client.get(f"/o/{org_a.public_id}/mappings/vendors/{unmapped.public_id}/").content.decode()
    assert url(org_a, unmapped) in edit
    assert (
        "Create this vendor"
        not in viewer.client.get(f"/o/{org_a.public_id}/mappings/vendors/").content.decode()
    )


def test_it_answers_403_to_viewers_and_404_to_outsiders(org_a, org_b, viewer, outsider) -> None:
    mapping = vendor_mapping(org_a, 9010, "Brightline Electrical Supply")
    assert viewer.client.post(url(org_a, mapping)).status_code == 403
    assert outsider.client.post(url(org_a, mapping)).status_code == 404
    # B's owner cannot reach A's row through B's URL either.
    assert outsider.client.post(url(org_b, mapping)).status_code == 404
    assert not VendorMapping.objects.get(pk=mapping.pk).is_mapped
