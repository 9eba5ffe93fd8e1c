"""Issue 17, in a real browser: from sign-up to the first sync a person confirmed after its preview.

Sign up and confirm the address, create the organisation, save Procurify's details (tested on save),
connect QuickBooks through the sandbox's consent page (mappings are proposed at once), see that nothing
syncs yet and why, preview, press "Start syncing" — and only then do bills reach QuickBooks, once each."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from sandbox import Sandbox
from tenants.models import Organisation

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
PASSWORD = "a long and unusual passphrase 42"


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
    settings.CELERY_TASK_ALWAYS_EAGER = True  # the worker's tasks run inline, in the live server
    try:
        yield sb, handle.url
    finally:
        handle.stop()


def _submit(page: Page, name: str | re.Pattern[str]) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name=name).first.click()


def test_a_new_customer_signs_up_and_starts_syncing_after_the_preview(
    live_server, page: Page, sandbox_url, settings
) -> None:
    sb, url = sandbox_url
    settings.QBO_REDIRECT_URI = f"{live_server.url}/connections/qbo/callback/"
    realm = sb.realm_ids[0]

    # Sign up, confirm the address from the e-mail (ours, by address), create the organisation.
    page.goto(f"{live_server.url}/accounts/signup/")
    page.get_by_label("Email").fill("ivy@northwind.example")
    page.get_by_label("Password:", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD)
    page.get_by_role("button", name="Sign Up").click()
    confirmation = mail.outbox[-1]
    assert confirmation.subject == "Confirm your e-mail address for ml-connector"
    link = re.search(r"http://\S+/accounts/confirm-email/\S+", confirmation.body).group(0)
    page.goto(re.sub(r"^http://[^/]+", live_server.url, link))
    page.get_by_role("button", name="Confirm").click()
    page.get_by_label("Name").fill("Northwind Distribution")
    page.get_by_label("Time zone").select_option("America/Vancouver")
    _submit(page, "Create organisation")
    expect(page.locator("header")).to_contain_text("ivy@northwind.example")
    org = Organisation.objects.get(name="Northwind Distribution")
    org_url = f"{live_server.url}/o/{org.public_id}"

    # Procurify: saving tests the details and says so.
    creds = sb.credentials["procurify"]["northwind"]
    page.goto(f"{org_url}/connections/procurify/")
    page.get_by_label("Procurify site address").fill(sb.procurify_site_url("northwind", url))
    page.get_by_label("Client ID").fill(creds["client_id"])
    page.get_by_label("Client secret").fill(creds["client_secret"])
    _submit(page, re.compile("^Save$"))
    expect(page.locator(".messages")).to_contain_text("saved and tested")
    assert creds["client_secret"] not in page.content()

    # QuickBooks through the consent page; connecting the second system proposes mappings at once.
    page.goto(f"{org_url}/connections/")
    _submit(page, "Connect to QuickBooks")
    with page.expect_navigation():
        page.locator("#approve").click()
    expect(page.locator(".messages")).to_contain_text("propose mappings")
    page.goto(f"{org_url}/mappings/accounts/")
    expect(page.get_by_role("row").filter(has_text="6100")).to_contain_text("Office Supplies")

    # Nothing syncs yet, and the dashboard says why.
    page.goto(f"{org_url}/")
    expect(page.locator("#sync-waiting")).to_contain_text("Nothing is written to QuickBooks yet")
    expect(page.get_by_role("button", name="Sync now")).to_be_disabled()

    # The preview, by vendor and with what will be held; then "Start syncing".
    _submit(page, "Preview next sync")
    expect(page.locator("#preview-by-vendor")).to_be_visible()
    expect(page.locator("#preview-holds")).to_contain_text("Account code '6550' is not mapped")
    assert sb.qbo.objects(realm, "Bill") == []
    page.screenshot(path="var/screenshots/onboarding-preview.png", full_page=True)
    _submit(page, "Start syncing")

    expect(page.locator("#syncing-started")).to_contain_text("Syncing started by ivy@northwind.example on")
    bills = sb.qbo.objects(realm, "Bill")
    assert bills and len({b["PrivateNote"].split(" ")[0] for b in bills}) == len(bills)  # once each
    assert not [b for b in bills if b.get("DocNumber") == "GLF-20931"]  # held, as the preview said
    page.screenshot(path="var/screenshots/onboarding-start-syncing.png", full_page=True)
