"""Issue 17: saving the Procurify details tests them at once and says what happened; a failed test still
saves (nothing typed is lost) and never echoes the secret."""

from __future__ import annotations

import html

from connections_helpers import Wired

from tenants.models import Connection, Provider


def save(person, org, site_url: str, client_id: str, secret: str) -> str:
    response = person.client.post(
        f"/o/{org.public_id}/connections/procurify/",
        {"site_url": site_url, "client_id": client_id, "client_secret": secret},
        follow=True,
    )
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def test_saving_working_details_says_they_were_tested_and_work(org_a, owner, wired: Wired) -> None:
    body = save(owner, org_a, wired.site_url, wired.procurify_client_id, wired.procurify_client_secret)

    assert "Procurify details saved and tested: the site, client ID and secret work." in body
    connection = Connection.objects.get(organisation=org_a, provider=Provider.PROCURIFY)
    assert connection.last_checked_at is not None and connection.last_error == ""
    assert wired.transport.paths  # the test reached Procurify (the sandbox), not just the database
    assert wired.procurify_client_secret not in body


def test_saving_a_wrong_secret_still_saves_and_says_the_plain_reason(org_a, owner, wired: Wired) -> None:
    wrong = "wrong-secret-value-123"
    body = save(owner, org_a, wired.site_url, wired.procurify_client_id, wrong)

    assert (
        "Procurify details saved, but the test failed: Procurify did not accept the client ID and secret"
        in body
    )
    connection = Connection.objects.get(organisation=org_a, provider=Provider.PROCURIFY)
    assert connection.client_secret == wrong  # saved: the person fixes it without retyping the rest
    assert connection.last_error.startswith("Procurify did not accept")
    assert wrong not in body
