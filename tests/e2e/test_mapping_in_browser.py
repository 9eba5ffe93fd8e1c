"""In a real browser: change an account mapping inline and see the row update without a reload."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from playwright.sync_api import Page, expect

from connector.models import HeldRecord
from mappings.models import AccountMapping, QBOAccount, Source
from tenants.models import Membership, Organisation, Role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_it_changes_an_account_mapping_inline(live_server, page: Page) -> None:
    user = get_user_model().objects.create_user(
        username="ann@northwind.example", email="ann@northwind.example"
    )
    org = Organisation.objects.create(name="Northwind Distribution", slug="northwind")
    Membership.objects.create(organisation=org, user=user, role=Role.OWNER)
    QBOAccount.objects.create(
        organisation=org, qbo_id="7", acct_num="6100", name="Office supplies", account_type="Expense"
    )
    QBOAccount.objects.create(
        organisation=org, qbo_id="8", acct_num="6200", name="Freight in", account_type="Cost of Goods Sold"
    )
    mapping = AccountMapping.objects.create(organisation=org, procurify_account_code_id=11, code="6200")
    HeldRecord.objects.create(
        organisation=org, object_type="bill", procurify_id="b1", reason_code="account_unmapped",
        message="Account code '6200' is not mapped.", waiting_on_type="account_mapping", waiting_on_key="11",
    )  # fmt: skip

    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
    )

    page.goto(f"{live_server.url}/o/{org.public_id}/mappings/accounts/")
    page.evaluate("window.__notReloaded = true")
    row = page.locator(f"#mapping-{mapping.public_id}")
    expect(row).to_contain_text("Unmapped")
    row.get_by_role("link", name="Change").click()
    page.get_by_label("Find a QuickBooks account").fill("freight")
    page.get_by_label("QuickBooks account for 6200").select_option("8")
    page.get_by_role("button", name="Save mapping").click()

    expect(row).to_contain_text("Freight in")
    expect(row).to_contain_text("Chosen by ann@northwind.example on ")
    expect(row).to_contain_text("1 held bill will sync on the next run.")
    assert page.evaluate("window.__notReloaded") is True
    mapping.refresh_from_db()
    assert (mapping.qbo_account_id, mapping.source) == ("8", Source.MANUAL)
    page.screenshot(path="var/screenshots/mapping-inline.png", full_page=True)
