"""The whole first week of a finance admin, in a real browser against the live server and the standalone
sandbox over real HTTP: connect Procurify, connect QuickBooks through the consent page, run the first sync,
see the held bill, map its account, sync again and find the bill in QuickBooks — exactly once."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import Page, expect

from sandbox import Sandbox

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def sandbox_url(settings) -> Iterator[tuple[Sandbox, str]]:
    sb = Sandbox.create(seed="distributor")
    handle = sb.serve()
    urls = sb.qbo_urls(handle.url)
    settings.QBO_CLIENT_ID = sb.credentials["qbo"]["client_id"]
    settings.QBO_CLIENT_SECRET = sb.credentials["qbo"]["client_secret"]
    settings.QBO_AUTHORIZE_URL = urls["authorize_url"]
    settings.QBO_TOKEN_URL = urls["token_url"]
    settings.QBO_REVOKE_URL = urls["revoke_url"]
    settings.QBO_API_BASE = urls["api_base"]
    settings.CELERY_TASK_ALWAYS_EAGER = True  # "Sync now" runs the real task inline, in the live server
    try:
        yield sb, handle.url
    finally:
        handle.stop()


def _sign_in(page: Page, live_server, owner) -> None:
    client = Client()
    client.force_login(owner.user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
    )


def _submit(page: Page, name: str | re.Pattern[str]) -> None:
    """Press a form button and wait for the page it leads to, so the next step sees the result."""
    with page.expect_navigation():
        page.get_by_role("button", name=name).first.click()


def test_it_takes_a_finance_admin_from_nothing_to_a_synced_bill(
    live_server, page: Page, sandbox_url, org_a, owner, settings
) -> None:
    sb, url = sandbox_url
    settings.QBO_REDIRECT_URI = f"{live_server.url}/connections/qbo/callback/"
    _sign_in(page, live_server, owner)
    org_url = f"{live_server.url}/o/{org_a.public_id}"

    # Procurify: the site, the API application's id and secret, then a test call.
    creds = sb.credentials["procurify"]["northwind"]
    page.goto(f"{org_url}/connections/procurify/")
    page.get_by_label("Procurify site address").fill(sb.procurify_site_url("northwind", url))
    page.get_by_label("Client ID").fill(creds["client_id"])
    page.get_by_label("Client secret").fill(creds["client_secret"])
    _submit(page, re.compile("^Save$"))
    page.goto(f"{org_url}/connections/")
    _submit(page, "Test connection")
    expect(page.locator(".messages")).to_contain_text(re.compile("connect|work", re.I))
    assert creds["client_secret"] not in page.content()

    # QuickBooks: our Connect button, Intuit's (sandbox) consent page, back to our callback.
    _submit(page, "Connect to QuickBooks")
    with page.expect_navigation():
        page.locator("#approve").click()
    expect(page.get_by_text(re.compile("Northwind", re.I)).first).to_be_visible()
    page.goto(f"{org_url}/connections/")
    expect(page.locator("body")).to_contain_text(re.compile("connected", re.I))

    # Before the first write: the preview lists what the sync would write and hold; nothing is written.
    page.goto(f"{org_url}/")
    _submit(page, "Preview next sync")
    expect(page.locator("main")).to_contain_text("Would create")
    expect(page.get_by_role("row").filter(has_text="GLF-20931")).to_contain_text(
        "Account code '6550' is not mapped"
    )
    assert sb.qbo.objects(sb.realm_ids[0], "Bill") == []

    # First sync, started by a person on the preview: most bills land, the one on an unmapped account
    # code waits with a plain reason.
    _submit(page, "Start syncing")
    page.goto(f"{org_url}/held/")
    held_row = page.get_by_role("row").filter(has_text="GLF-20931")
    expect(held_row).to_contain_text("Account code '6550' is not mapped")

    # Fix it where the held page points (one fix per group waiting on the same thing), then sync again.
    held_group = page.locator("section.card").filter(has=held_row)
    expect(held_group).to_contain_text("1 bill, 395.00 USD, waits on account code 6550 being mapped")
    held_group.get_by_role("link", name="Map the account").click()
    page.get_by_label("QuickBooks account for 6550").select_option(label="6400 Shop Supplies · Expense")
    page.get_by_role("button", name="Save mapping").click()
    expect(page.locator("main")).to_contain_text("will sync on the next run")
    page.goto(f"{org_url}/")
    _submit(page, "Sync now")
    page.goto(f"{org_url}/held/")
    expect(page.locator("main")).not_to_contain_text("GLF-20931")

    realm = sb.realm_ids[0]
    synced = [b for b in sb.qbo.objects(realm, "Bill") if b.get("DocNumber") == "GLF-20931"]
    assert len(synced) == 1
    assert any(line["AccountBasedExpenseLineDetail"]["AccountRef"]["value"] for line in synced[0]["Line"])
    page.screenshot(path="var/screenshots/journey-held-cleared.png", full_page=True)
