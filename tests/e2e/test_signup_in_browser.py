"""Through a real browser (Debian's chromium via Playwright) against the live Django server."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_it_signs_up_verifies_and_creates_an_organisation(live_server, page: Page) -> None:
    page.goto(live_server.url)
    page.get_by_role("link", name="Create your account").click()
    page.get_by_label("Email").fill("ivy@northwind.example")
    page.get_by_label("Password:", exact=True).fill("a long and unusual passphrase 42")
    page.get_by_label("Password (again)").fill("a long and unusual passphrase 42")
    page.get_by_role("button", name="Sign Up").click()
    expect(page.get_by_text("Verify Your Email Address")).to_be_visible()

    link = re.search(r"http://\S+/accounts/confirm-email/\S+", mail.outbox[-1].body).group(0)
    page.goto(link.replace("http://127.0.0.1:8000", live_server.url))
    page.get_by_role("button", name="Confirm").click()

    expect(page.get_by_role("heading", name="Create your organisation")).to_be_visible()
    page.get_by_label("Name").fill("Northwind Distribution")
    page.get_by_label("Time zone").select_option("America/Vancouver")
    page.get_by_role("button", name="Create organisation").click()
    expect(page.get_by_role("heading", name="Northwind Distribution")).to_be_visible()
    expect(page.get_by_role("listitem").filter(has_text="Connect Procurify")).to_be_visible()
    page.screenshot(path="var/screenshots/dashboard-after-signup.png", full_page=True)


def test_it_shows_form_errors_in_plain_words(live_server, page: Page) -> None:
    page.goto(f"{live_server.url}/accounts/signup/")
    page.get_by_label("Email").fill("ivy@northwind.example")
    page.get_by_label("Password:", exact=True).fill("short")
    page.get_by_label("Password (again)").fill("short")
    page.get_by_role("button", name="Sign Up").click()
    expect(page.get_by_text("This password is too short")).to_be_visible()
