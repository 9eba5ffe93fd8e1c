"""The Procurify credentials page: validation, the write-only secret, and who may see it."""

from __future__ import annotations

import pytest
from connections_helpers import raw_column

from tenants.connection_forms import normalise_site_url
from tenants.models import Connection, Provider

SECRET = "s3cr3t-procurify-value-Zq9"


def page(org) -> str:
    return f"/o/{org.public_id}/connections/procurify/"


def post(person, org, **data):
    body = {"site_url": "https://acme.procurify.com", "client_id": "abc123", "client_secret": SECRET, **data}
    return person.client.post(page(org), body)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://acme.procurify.com/", "https://acme.procurify.com"),
        ("acme.procurify.com", "https://acme.procurify.com"),
        ("http://127.0.0.1:8001/procurify/northwind/", "http://127.0.0.1:8001/procurify/northwind"),
        ("http://sandbox:8001", "http://sandbox:8001"),
    ],
)
def test_it_normalises_site_addresses_when_valid(raw: str, expected: str) -> None:
    assert normalise_site_url(raw) == expected


def test_it_saves_the_secret_encrypted_when_the_form_is_valid(org_a, owner) -> None:
    response = post(owner, org_a)
    assert response.status_code == 302
    connection = Connection.objects.get(organisation=org_a, provider=Provider.PROCURIFY)
    assert connection.client_secret == SECRET
    assert connection.site_url == "https://acme.procurify.com"
    assert SECRET not in raw_column(connection, "client_secret")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("site_url", "not a url at all", "Enter your Procurify site address"),
        ("site_url", "ftp://acme.procurify.com", "Enter your Procurify site address"),
        ("site_url", "https://acme.procurify.com/?x=1", "without anything after"),
        ("site_url", "https://user:pw@acme.procurify.com", "user name and password"),
        ("client_id", "", "This field is required"),
        ("client_id", "abc 123", "has no spaces"),
        ("client_secret", "", "Enter the client secret"),
    ],
)
def test_it_explains_the_problem_when_input_is_wrong(
    org_a, owner, field: str, value: str, message: str
) -> None:
    response = post(owner, org_a, **{field: value})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Connection.objects.filter(organisation=org_a).exists()


def test_it_keeps_the_saved_secret_when_the_field_is_left_blank(org_a, owner) -> None:
    post(owner, org_a)
    response = post(owner, org_a, client_secret="")
    assert response.status_code == 302
    connection = Connection.objects.get(organisation=org_a, provider=Provider.PROCURIFY)
    assert (connection.client_id, connection.client_secret) == ("abc123", SECRET)
    # A new client ID (or site address) needs the secret typed again (issue 12; tests/security/test_ssrf.py).
    response = post(owner, org_a, client_secret="", client_id="new-id")
    assert response.status_code == 200
    assert "enter the client secret again" in response.content.decode()


def test_it_never_renders_the_secret_when_showing_the_page(org_a, owner) -> None:
    post(owner, org_a)
    for url in (page(org_a), f"/o/{org_a.public_id}/connections/"):
        body = owner.client.get(url).content.decode()
        assert SECRET not in body
    # Nor when the form is re-shown with an error on another field.
    body = post(owner, org_a, site_url="nonsense url").content.decode()
    assert SECRET not in body


def test_it_refuses_viewers_when_they_open_the_setup_page(org_a, viewer) -> None:
    assert viewer.client.get(page(org_a)).status_code == 403
    assert viewer.client.post(f"/o/{org_a.public_id}/connections/procurify/test/").status_code == 403


def test_it_lets_admins_save_when_they_are_not_owners(org_a, admin_member) -> None:
    assert post(admin_member, org_a).status_code == 302


def test_it_shows_viewers_the_overview_without_buttons(org_a, viewer) -> None:
    response = viewer.client.get(f"/o/{org_a.public_id}/connections/")
    assert response.status_code == 200
    assert "Connect to QuickBooks" not in response.content.decode()
