"""The Tax, classes and locations page: suggestions a person confirms, saves that release the holds,
sections only for what the QuickBooks company uses, and the tenant wall."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from connector.models import HeldRecord
from connector.sync.tax import tax_key
from mappings.dimension_models import DimensionSettings, QBOClass, QBOTaxCode, TaxMapping
from mappings.models import BooksProfile

pytestmark = pytest.mark.django_db


def _canadian(org, *, classes: str = "line", locations: bool = True) -> None:
    BooksProfile.objects.create(
        organisation=org,
        qbo_country="CA",
        qbo_home_currency="CAD",
        qbo_line_tax=True,
        qbo_class_tracking=classes,
        qbo_track_locations=locations,
    )
    QBOTaxCode.objects.create(organisation=org, qbo_id="3", name="GST", purchase_rates=[["1", "5"]])
    QBOTaxCode.objects.create(organisation=org, qbo_id="4", name="Exempt", purchase_rates=[["9", "0"]])
    QBOTaxCode.objects.create(organisation=org, qbo_id="5", name="PST BC Sales", purchase_rates=[])
    QBOTaxCode.objects.create(organisation=org, qbo_id="6", name="HST ON", purchase_rates=[["2", "13"]])


def _held_on_gst(org, procurify_id: str = "b1") -> HeldRecord:
    return HeldRecord.objects.create(
        organisation=org,
        object_type="bill",
        procurify_id=procurify_id,
        label="Bill X-1 from Coastal",
        reason_code="tax_unmapped",
        message="GST 5% has no QuickBooks tax code yet, so Bill X-1 was not sent.",
        waiting_on_type="tax_mapping",
        waiting_on_key=tax_key("GST", Decimal("5.00")),
        detail={"tax_name": "GST", "tax_percentage": "5.00"},
    )


def test_the_page_lists_a_held_tax_with_its_suggestion_and_saving_releases_the_bill(owner, org_a):
    _canadian(org_a)
    held = _held_on_gst(org_a)
    url = reverse("mappings-dimensions", args=[org_a.public_id])
    page = owner.client.get(url)
    assert page.status_code == 200
    body = page.content.decode()
    assert "GST 5%" in body and "Suggested: GST" in body
    assert "PST BC Sales" not in body  # no purchase rate: not offered
    mapping = TaxMapping.objects.get(organisation=org_a)
    assert mapping.qbo_id == "" and mapping.suggested_qbo_id == "3"

    save = reverse("mappings-dimension-save", args=[org_a.public_id, "tax", mapping.public_id])
    response = owner.client.post(save, {"qbo_id": "3"})
    assert response.status_code == 302
    mapping.refresh_from_db()
    held.refresh_from_db()
    assert (mapping.qbo_id, mapping.qbo_name, mapping.source) == ("3", "GST", "manual")
    assert held.state == HeldRecord.State.RELEASED


def test_a_code_of_another_organisation_or_without_purchase_rates_cannot_be_chosen(owner, org_a, org_b):
    _canadian(org_a)
    _held_on_gst(org_a)
    owner.client.get(reverse("mappings-dimensions", args=[org_a.public_id]))
    mapping = TaxMapping.objects.get(organisation=org_a)
    QBOTaxCode.objects.create(organisation=org_b, qbo_id="77", name="Theirs", purchase_rates=[["1", "5"]])
    save = reverse("mappings-dimension-save", args=[org_a.public_id, "tax", mapping.public_id])
    assert owner.client.post(save, {"qbo_id": "77"}).status_code == 404
    mapping.refresh_from_db()
    assert mapping.qbo_id == ""


def test_viewers_cannot_save_and_outsiders_cannot_see(viewer, outsider, org_a):
    _canadian(org_a)
    _held_on_gst(org_a)
    url = reverse("mappings-dimensions", args=[org_a.public_id])
    assert viewer.client.get(url).status_code == 200
    mapping = TaxMapping.objects.get(organisation=org_a)
    save = reverse("mappings-dimension-save", args=[org_a.public_id, "tax", mapping.public_id])
    assert viewer.client.post(save, {"qbo_id": "3"}).status_code == 403
    assert outsider.client.get(url).status_code == 404
    settings_url = reverse("mappings-dimension-settings", args=[org_a.public_id])
    assert viewer.client.post(settings_url, {"class_placement": "line"}).status_code == 403


def test_placement_is_offered_only_when_quickbooks_has_it_on(owner, org_a):
    _canadian(org_a, classes="", locations=False)
    url = reverse("mappings-dimensions", args=[org_a.public_id])
    body = owner.client.get(url).content.decode()
    assert "Class and location tracking are off in this QuickBooks company" in body
    assert 'name="class_placement"' not in body
    settings_url = reverse("mappings-dimension-settings", args=[org_a.public_id])
    response = owner.client.post(settings_url, {"class_placement": "line"}, follow=True)
    assert "Class tracking is off in QuickBooks" in response.content.decode()
    assert not DimensionSettings.objects.filter(organisation=org_a).exists()


def test_a_setting_the_company_no_longer_allows_shows_a_notice(owner, org_a):
    _canadian(org_a)
    QBOClass.objects.create(organisation=org_a, qbo_id="20", name="Sales")
    settings_url = reverse("mappings-dimension-settings", args=[org_a.public_id])
    owner.client.post(settings_url, {"class_placement": "line", "location_on_bill": "on"})
    assert DimensionSettings.objects.get(organisation=org_a).class_placement == "line"
    BooksProfile.objects.filter(organisation=org_a).update(qbo_class_tracking="")
    body = owner.client.get(reverse("mappings-dimensions", args=[org_a.public_id])).content.decode()
    assert "Class tracking is off in QuickBooks, so bills are sent without classes." in body


def test_a_us_company_sees_no_tax_section(owner, org_a):
    BooksProfile.objects.create(organisation=org_a, qbo_country="US", qbo_home_currency="USD")
    body = owner.client.get(reverse("mappings-dimensions", args=[org_a.public_id])).content.decode()
    assert "puts no tax code on bill lines" in body
    assert "Tax codes</h2>" not in body


def test_the_held_list_links_a_tax_hold_to_the_page_that_fixes_it(owner, org_a):
    from connector.held_list import fix_links

    _canadian(org_a)
    held = _held_on_gst(org_a)
    label, path = fix_links(org_a, [held])[held.pk]
    assert (label, path) == ("Map it", reverse("mappings-dimensions", args=[org_a.public_id]))
