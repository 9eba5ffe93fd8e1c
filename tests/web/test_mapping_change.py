"""Changing a mapping: saves, releases the holds waiting on it and says how many; refuses bad input."""

from __future__ import annotations

from web_support import account_mapping, held, qbo_account

from connector.models import HeldRecord
from mappings.models import AccountMapping, Source, VendorMapping


def edit_url(org, mapping, kind: str = "vendors") -> str:
    return f"/o/{org.public_id}/mappings/{kind}/{mapping.public_id}/"


def test_it_saves_a_mapping_and_releases_the_holds_waiting_on_it(org_a, owner, acme) -> None:
    for n in range(3):
        held(org_a, f"bill-{n}", waiting_on=("vendor_mapping", "101"))
    held(org_a, "po-1", object_type="purchase_order", waiting_on=("vendor_mapping", "101"))
    other = held(org_a, "bill-x", waiting_on=("vendor_mapping", "999"))
    response = owner.client.post(edit_url(org_a, acme), {"qbo_id": "56"}, follow=True)
    acme.refresh_from_db()
    assert (acme.qbo_vendor_id, acme.qbo_vendor_name, acme.source) == ("56", "Acme Limited", Source.MANUAL)
    assert acme.decided_by == owner.user
    assert HeldRecord.objects.filter(waiting_on_key="101", state=HeldRecord.State.RELEASED).count() == 4
    other.refresh_from_db()
    assert other.state == HeldRecord.State.HELD
    page = response.content.decode()
    assert "3 held bills and 1 held purchase order will sync on the next run." in page


def test_it_swaps_the_row_for_htmx_and_says_what_was_released(org_a, owner, acme) -> None:
    held(org_a, "bill-1", waiting_on=("vendor_mapping", "101"))
    response = owner.client.post(edit_url(org_a, acme), {"qbo_id": "57"}, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith("<tr") and "<html" not in body
    assert "Globex Corporation" in body and "1 held bill will sync on the next run." in body


def test_it_serves_the_edit_row_to_htmx_and_a_page_without_it(org_a, owner, acme) -> None:
    row = owner.client.get(edit_url(org_a, acme), headers={"HX-Request": "true"}).content.decode()
    assert row.lstrip().startswith("<tr") and "Acme Limited" in row and "Old Supplier" not in row
    page = owner.client.get(edit_url(org_a, acme)).content.decode()
    assert "<html" in page and 'name="qbo_id"' in page
    display = owner.client.get(edit_url(org_a, acme), {"view": "row"}, headers={"HX-Request": "true"})
    assert 'name="qbo_id"' not in display.content.decode()


def test_it_refuses_another_organisations_vendor_and_saves_nothing(
    org_a, owner, acme, contoso_vendor
) -> None:
    held(org_a, "bill-1", waiting_on=("vendor_mapping", "101"))
    response = owner.client.post(edit_url(org_a, acme), {"qbo_id": contoso_vendor.qbo_id})
    assert response.status_code == 400
    assert "not one of your QuickBooks vendors" in response.content.decode()
    acme.refresh_from_db()
    assert acme.qbo_vendor_id == "" and acme.source == Source.NONE
    assert HeldRecord.objects.get(procurify_id="bill-1").state == HeldRecord.State.HELD


def test_it_refuses_nonsense_empty_and_inactive_choices(org_a, owner, acme) -> None:
    for value, error in [
        ("'; drop table", "not one of your QuickBooks vendors"),
        ("", "Choose a QuickBooks vendor from the list."),
        ("58", "is inactive"),
    ]:
        response = owner.client.post(edit_url(org_a, acme), {"qbo_id": value}, headers={"HX-Request": "true"})
        assert error in response.content.decode()
    assert VendorMapping.objects.get(pk=acme.pk).qbo_vendor_id == ""


def test_it_forbids_viewers_to_change_a_mapping(org_a, viewer, acme) -> None:
    assert viewer.client.post(edit_url(org_a, acme), {"qbo_id": "56"}).status_code == 403
    assert viewer.client.get(edit_url(org_a, acme)).status_code == 403
    acme.refresh_from_db()
    assert acme.qbo_vendor_id == ""


def test_it_hides_a_mapping_from_another_organisation(org_a, org_b, outsider, acme) -> None:
    # The outsider owns org B but asks for org A's row through org B's URL: not found.
    response = outsider.client.post(edit_url(org_b, acme), {"qbo_id": "56"})
    assert response.status_code == 404


def test_it_saves_an_account_mapping_and_redirects_back(org_a, owner) -> None:
    qbo_account(org_a, "7", "6100", "Office supplies")
    mapping = account_mapping(org_a, 11, "6100")
    held(org_a, "bill-1", reason_code="account_unmapped", waiting_on=("account_mapping", "11"))
    back = f"/o/{org_a.public_id}/mappings/accounts/?status=unmapped"
    response = owner.client.post(edit_url(org_a, mapping, "accounts"), {"qbo_id": "7", "next": back})
    assert response.status_code == 302 and response["Location"] == back
    assert AccountMapping.objects.get(pk=mapping.pk).qbo_account_name == "Office supplies"
    assert HeldRecord.objects.get(procurify_id="bill-1").state == HeldRecord.State.RELEASED


def test_it_refuses_an_offsite_next_url(org_a, owner, acme) -> None:
    response = owner.client.post(edit_url(org_a, acme), {"qbo_id": "56", "next": "https://evil.example/"})
    assert response["Location"] == f"/o/{org_a.public_id}/mappings/vendors/"


def test_it_auto_matches_unmapped_vendors_in_bulk(org_a, owner, acme) -> None:
    response = owner.client.post(f"/o/{org_a.public_id}/mappings/vendors/auto-match/", follow=True)
    acme.refresh_from_db()
    assert acme.qbo_vendor_id == "56" and acme.source == Source.AUTO_NAME
    assert "Matched 1 vendors automatically" in response.content.decode()
