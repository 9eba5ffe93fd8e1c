"""Vendor suggestions on the mapping table: shown with their reason, confirmed or dismissed by an owner
or admin (the holds waiting on the vendor released on confirm), never by a viewer or an outsider."""

from __future__ import annotations

from html import unescape

from web_support import held, qbo_vendor, vendor_mapping

from connector.models import HeldRecord
from mappings.models import QBOVendor, Source, VendorMapping
from mappings.services import auto_match_vendors


def list_url(org) -> str:
    return f"/o/{org.public_id}/mappings/vendors/"


def confirm_url(org, mapping) -> str:
    return f"/o/{org.public_id}/mappings/vendors/{mapping.public_id}/suggestion/confirm/"


def dismiss_url(org, mapping) -> str:
    return f"/o/{org.public_id}/mappings/vendors/{mapping.public_id}/suggestion/dismiss/"


def _suggested(org) -> VendorMapping:
    """Procurify's 'Acme AG' (id 201, bills in EUR) beside QuickBooks' 'Acme GmbH' (EUR): a suggestion."""
    vendor = qbo_vendor(org, "70", "Acme GmbH")
    QBOVendor.objects.filter(pk=vendor.pk).update(currency="EUR")
    vendor_mapping(org, 201, "Acme AG", procurify_currency="EUR")
    auto_match_vendors(org)
    return VendorMapping.objects.get(organisation=org, procurify_vendor_id=201)


def test_it_shows_the_suggestion_its_reason_and_both_currencies(org_a, owner) -> None:
    mapping = _suggested(org_a)
    page = owner.client.get(list_url(org_a)).content.decode()
    assert "Suggested: <strong>Acme GmbH</strong>" in page
    assert "different legal form: AG vs GmbH — confirm it is the same company" in page
    assert "Bills in EUR" in page and "(in EUR)" in page
    assert confirm_url(org_a, mapping) in page and dismiss_url(org_a, mapping) in page
    assert "Unmapped" in page  # bills still wait until a person confirms


def test_it_filters_the_table_to_suggested_rows(org_a, owner) -> None:
    _suggested(org_a)
    vendor_mapping(org_a, 202, "Zed Parts")
    response = owner.client.get(list_url(org_a), {"status": "suggested"})
    assert [m.procurify_name for m in response.context["page"].object_list] == ["Acme AG"]
    assert "Suggested (1)" in response.content.decode()
    unmapped = owner.client.get(list_url(org_a), {"status": "unmapped"}).context["page"].object_list
    assert {m.procurify_name for m in unmapped} == {"Acme AG", "Zed Parts"}
    accounts = owner.client.get(f"/o/{org_a.public_id}/mappings/accounts/", {"status": "suggested"})
    assert accounts.status_code == 200 and "Suggested (" not in accounts.content.decode()


def test_it_confirms_a_suggestion_inline_and_releases_the_holds_waiting_on_it(org_a, owner) -> None:
    mapping = _suggested(org_a)
    held(org_a, "bill-1", waiting_on=("vendor_mapping", "201"))
    other = held(org_a, "bill-2", waiting_on=("vendor_mapping", "999"))

    response = owner.client.post(
        confirm_url(org_a, mapping), {"qbo_id": "70"}, headers={"HX-Request": "true"}
    )

    body = unescape(response.content.decode())
    assert response.status_code == 200 and body.lstrip().startswith("<tr") and "<html" not in body
    assert "Acme AG now maps to QuickBooks vendor 'Acme GmbH'. 1 held bill will sync on the next run." in body
    mapping.refresh_from_db()
    assert (mapping.qbo_vendor_id, mapping.source, mapping.decided_by) == ("70", Source.MANUAL, owner.user)
    assert mapping.suggested_qbo_vendor_id == ""
    assert HeldRecord.objects.get(procurify_id="bill-1").state == HeldRecord.State.RELEASED
    other.refresh_from_db()
    assert other.state == HeldRecord.State.HELD


def test_it_confirms_with_a_plain_post_and_comes_back_to_the_table(org_a, owner) -> None:
    mapping = _suggested(org_a)
    response = owner.client.post(confirm_url(org_a, mapping), {"qbo_id": "70"}, follow=True)
    assert response.redirect_chain[-1][0] == list_url(org_a)
    assert "Acme AG now maps to QuickBooks vendor 'Acme GmbH'" in unescape(response.content.decode())
    mapping.refresh_from_db()
    assert mapping.source == Source.MANUAL


def test_it_refuses_a_suggestion_that_changed_since_the_page_was_shown(org_a, owner) -> None:
    mapping = _suggested(org_a)
    response = owner.client.post(
        confirm_url(org_a, mapping), {"qbo_id": "71"}, headers={"HX-Request": "true"}
    )
    assert "has changed or was already settled; nothing was saved." in response.content.decode()
    mapping.refresh_from_db()
    assert mapping.qbo_vendor_id == ""


def test_it_dismisses_a_suggestion_and_keeps_the_row_unmapped(org_a, owner) -> None:
    mapping = _suggested(org_a)
    held(org_a, "bill-1", waiting_on=("vendor_mapping", "201"))

    response = owner.client.post(
        dismiss_url(org_a, mapping), {"qbo_id": "70"}, headers={"HX-Request": "true"}
    )

    body = response.content.decode()
    assert "Suggestion dismissed: Acme AG stays unmapped." in body and "Suggested:" not in body
    mapping.refresh_from_db()
    assert (mapping.qbo_vendor_id, mapping.suggestion_reason) == ("", "")
    assert HeldRecord.objects.get(procurify_id="bill-1").state == HeldRecord.State.HELD
    auto_match_vendors(org_a)
    assert "Suggested:" not in owner.client.get(list_url(org_a)).content.decode()


def test_it_shows_viewers_the_suggestion_without_buttons_and_forbids_them_to_act(org_a, viewer) -> None:
    mapping = _suggested(org_a)
    page = viewer.client.get(list_url(org_a)).content.decode()
    assert "Suggested: <strong>Acme GmbH</strong>" in page and "suggestion/confirm" not in page
    assert viewer.client.post(confirm_url(org_a, mapping), {"qbo_id": "70"}).status_code == 403
    assert viewer.client.post(dismiss_url(org_a, mapping), {"qbo_id": "70"}).status_code == 403
    mapping.refresh_from_db()
    assert mapping.qbo_vendor_id == "" and mapping.suggestion_reason


def test_it_hides_a_suggestion_from_another_organisation(org_a, org_b, outsider) -> None:
    mapping = _suggested(org_a)
    assert outsider.client.post(confirm_url(org_a, mapping), {"qbo_id": "70"}).status_code == 404
    assert outsider.client.post(dismiss_url(org_a, mapping), {"qbo_id": "70"}).status_code == 404
    # Through the outsider's own organisation, org A's row is not found either.
    assert outsider.client.post(confirm_url(org_b, mapping), {"qbo_id": "70"}).status_code == 404
    mapping.refresh_from_db()
    assert mapping.qbo_vendor_id == "" and mapping.suggestion_reason


def test_it_says_how_many_suggestions_wait_after_matching_again(org_a, owner) -> None:
    qbo_vendor(org_a, "70", "Acme GmbH")
    vendor_mapping(org_a, 201, "Acme AG")
    vendor_mapping(
        org_a, 202, "Acme SA", qbo_vendor_id="70", qbo_vendor_name="Acme GmbH", source=Source.AUTO_NAME
    )
    response = owner.client.post(f"{list_url(org_a)}auto-match/", follow=True)
    page = response.content.decode()
    assert "Withdrew 1 automatic match that may be a different company" in page
    assert "2 suggested matches wait for you to confirm." in page
    assert VendorMapping.objects.get(procurify_vendor_id=202).qbo_vendor_id == ""
