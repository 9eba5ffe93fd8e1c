"""The vendor and account mapping tables: status, filters, search, sort, paging, and the tenant wall."""

from __future__ import annotations

from web_support import account_mapping, held, qbo_account, qbo_vendor, vendor_mapping

from mappings.models import Source


def url(org, kind: str = "vendors") -> str:
    return f"/o/{org.public_id}/mappings/{kind}/"


def test_it_shows_each_vendor_beside_its_match_and_status(org_a, owner) -> None:
    qbo_vendor(org_a, "56", "Acme Limited")
    qbo_vendor(org_a, "58", "Old Supplier", active=False)
    vendor_mapping(
        org_a,
        1,
        "Acme Ltd",
        qbo_vendor_id="56",
        qbo_vendor_name="Acme Limited",
        source=Source.AUTO_NAME,
        reason="Name matches QuickBooks vendor 'Acme Limited'.",
    )
    vendor_mapping(
        org_a, 2, "Bolt Co", qbo_vendor_id="56", qbo_vendor_name="Acme Limited", source=Source.MANUAL
    )
    vendor_mapping(
        org_a, 3, "Old Supplier", qbo_vendor_id="58", qbo_vendor_name="Old Supplier", source=Source.AUTO_NAME
    )
    vendor_mapping(org_a, 4, "Zed Parts")
    page = owner.client.get(url(org_a)).content.decode()
    assert "Auto-matched" in page and "Name matches QuickBooks vendor" in page
    assert "Chosen by a person" in page
    assert "QuickBooks side inactive" in page
    assert "Unmapped" in page


def test_it_filters_by_status_and_searches(org_a, owner) -> None:
    qbo_vendor(org_a, "56", "Acme Limited")
    vendor_mapping(
        org_a, 1, "Acme Ltd", qbo_vendor_id="56", qbo_vendor_name="Acme Limited", source=Source.MANUAL
    )
    vendor_mapping(org_a, 2, "Bolt Co")
    vendor_mapping(org_a, 3, "Bolt Fasteners")
    unmapped = owner.client.get(url(org_a), {"status": "unmapped"}).content.decode()
    assert "Bolt Co" in unmapped and "Acme Ltd" not in unmapped
    found = owner.client.get(url(org_a), {"q": "fasten"}).content.decode()
    assert "Bolt Fasteners" in found and "Bolt Co<" not in found and "Acme Ltd" not in found
    nothing = owner.client.get(url(org_a), {"q": "no such vendor"}).content.decode()
    assert "No vendors match these filters." in nothing


def test_it_counts_held_records_per_row_and_filters_on_them(org_a, owner) -> None:
    vendor_mapping(org_a, 1, "Acme Ltd")
    vendor_mapping(org_a, 2, "Bolt Co")
    for n in range(3):
        held(org_a, f"b{n}", waiting_on=("vendor_mapping", "1"))
    response = owner.client.get(url(org_a), {"status": "held"})
    rows = list(response.context["page"].object_list)
    assert [(r.procurify_name, r.held_count) for r in rows] == [("Acme Ltd", 3)]


def test_it_sorts_and_pages_thousands_of_rows(org_a, owner) -> None:
    for n in range(120):
        vendor_mapping(org_a, n, f"Vendor {n:04d}")
    first = owner.client.get(url(org_a))
    assert first.context["page"].paginator.num_pages == 3
    assert first.context["page"].object_list[0].procurify_name == "Vendor 0000"
    last = owner.client.get(url(org_a), {"sort": "-name", "page": 3})
    assert list(last.context["page"].object_list)[-1].procurify_name == "Vendor 0000"
    assert "sort=-name&amp;page=2" in last.content.decode()  # paging keeps the sort


def test_it_ignores_nonsense_filters(org_a, owner) -> None:
    vendor_mapping(org_a, 1, "Acme Ltd")
    response = owner.client.get(url(org_a), {"status": "bogus", "sort": "drop table", "page": "x"})
    assert response.status_code == 200
    assert "Acme Ltd" in response.content.decode()


def test_it_shows_account_codes_on_their_own_tab(org_a, owner) -> None:
    qbo_account(org_a, "7", "6100", "Office supplies")
    account_mapping(
        org_a,
        11,
        "6100",
        description="Office",
        qbo_account_id="7",
        qbo_account_name="Office supplies",
        source=Source.AUTO_NUMBER,
    )
    account_mapping(org_a, 12, "6200")
    page = owner.client.get(url(org_a, "accounts")).content.decode()
    assert "6100" in page and "Office supplies" in page and "6200" in page and "Unmapped" in page


def test_it_shows_an_empty_state_when_there_are_no_rows(org_a, owner) -> None:
    page = owner.client.get(url(org_a)).content.decode()
    assert "appear here after the first sync" in page


def test_it_never_shows_another_organisations_rows(org_a, org_b, owner) -> None:
    vendor_mapping(org_b, 1, "Contoso secret vendor")
    assert "Contoso secret vendor" not in owner.client.get(url(org_a)).content.decode()


def test_it_shows_viewers_the_table_without_change_buttons(org_a, viewer) -> None:
    mapping = vendor_mapping(org_a, 1, "Acme Ltd")
    page = viewer.client.get(url(org_a))
    assert page.status_code == 200 and "Acme Ltd" in page.content.decode()
    assert f"{mapping.public_id}/" not in page.content.decode()


def test_it_answers_404_for_an_unknown_table(org_a, owner) -> None:
    assert owner.client.get(url(org_a, "customers")).status_code == 404
