"""In a real browser: find a bill by its invoice number, export the held list and check its cents,
the 404 page, and the top bar on a 1366x900 screen (one line, nothing wrapped). Each saves a
screenshot to var/screenshots/."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import Page, expect

from connector.models import HeldRecord
from connector.sync.audit import Audit
from mappings.models import VendorMapping

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
SHOTS = Path("var/screenshots")
AMOUNTS = {"GLF-20931": "18240.00", "GLF-20932": "0.10", "GLF-20933": "1234.55"}


def _sign_in(page: Page, live_server, owner) -> None:
    client = Client()
    client.force_login(owner.user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
    )
    SHOTS.mkdir(parents=True, exist_ok=True)


def _held_bills(org) -> None:
    VendorMapping.objects.create(
        organisation=org,
        procurify_vendor_id=101,
        procurify_name="Delta Freight Logistics",
        normalised_name="delta",
    )
    for index, (number, total) in enumerate(AMOUNTS.items()):
        uuid = f"bill-{index}"
        bill = {
            "uuid": uuid,
            "invoice_number": number,
            "invoice_date": "2026-11-03T00:00:00Z",
            "due_date": "2026-12-03T00:00:00Z",
            "vendor": {"id": 101, "name": "Delta Freight Logistics"},
            "currency": {"name": "USD"},
            "total_cost_with_tax": total,
        }
        Audit(org).record(
            "read", f"Read Procurify bill {number}.", object_type="bill", procurify_id=uuid, data=bill
        )
        HeldRecord.objects.create(
            organisation=org,
            object_type="bill",
            procurify_id=uuid,
            label=f"Bill {number} from Delta Freight Logistics",
            reason_code="vendor_inactive",
            message="Vendor 'Delta Freight Logistics' is inactive in QuickBooks.",
            waiting_on_type="vendor_mapping",
            waiting_on_key="101",
            detail={"vendor": "Delta Freight Logistics"},
        )


def test_it_finds_a_bill_by_its_invoice_number(live_server, page: Page, org_a, owner) -> None:
    _held_bills(org_a)
    _sign_in(page, live_server, owner)
    page.goto(f"{live_server.url}/o/{org_a.public_id}/documents/")
    page.get_by_role("textbox", name="Search").fill("GLF-20933")
    with page.expect_navigation():
        page.get_by_role("button", name="Apply").click()
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("1,234.55 USD")
    rows.first.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bill GLF-20933 from Delta Freight Logistics")
    page.screenshot(path=str(SHOTS / "find-bill-by-number.png"), full_page=True)


def test_it_exports_the_held_list_with_every_cent(live_server, page: Page, org_a, owner) -> None:
    _held_bills(org_a)
    _sign_in(page, live_server, owner)
    page.goto(f"{live_server.url}/o/{org_a.public_id}/held/")
    expect(page.locator(".group-sentence")).to_contain_text(
        "3 bills, 19,474.65 USD, wait on vendor Delta Freight Logistics being active"
    )
    page.screenshot(path=str(SHOTS / "held-list-export.png"), full_page=True)
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export CSV").click()
    text = Path(download_info.value.path()).read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {r["number"]: r["amount"] for r in rows} == AMOUNTS
    assert sum(Decimal(r["amount"]) for r in rows) == Decimal("19474.65")


def test_it_shows_a_branded_404_with_a_way_back(live_server, page: Page, org_a, owner) -> None:
    _sign_in(page, live_server, owner)
    response = page.goto(f"{live_server.url}/o/{org_a.public_id}/records/bill/not-a-bill/")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("We could not find that page")
    page.screenshot(path=str(SHOTS / "not-found.png"), full_page=True)
    page.get_by_role("link", name="Back to your dashboard").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(org_a.name)


def test_the_top_bar_fits_a_1366_pixel_screen_on_one_line(live_server, page: Page, org_a, owner) -> None:
    _sign_in(page, live_server, owner)
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"{live_server.url}/o/{org_a.public_id}/")
    items = page.locator(
        ".topbar .mainnav > a, .topbar .mainnav > details > summary, .topbar .usermenu summary"
    )
    boxes = [items.nth(i).bounding_box() for i in range(items.count())]
    middles = {round(box["y"] + box["height"] / 2) for box in boxes if box}
    assert items.count() >= 7 and max(middles) - min(middles) <= 4, middles  # all on one line
    heights = [box["height"] for box in boxes if box]
    assert max(heights) < 40, heights  # no label wrapped onto a second line
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1366, width  # and no sideways scrolling
    page.screenshot(path=str(SHOTS / "layout-1366.png"))
