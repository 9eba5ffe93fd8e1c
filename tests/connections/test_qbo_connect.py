"""Connect to QuickBooks: state bound to session, user and organisation; tokens stored encrypted."""

from __future__ import annotations

import html
import time

import pytest
from connections_helpers import Wired, callback_path, connect_qbo, connect_url, raw_column, start_consent

from connector.oauth import STATE_SESSION_KEY
from tenants.models import Connection, Provider


def test_it_stores_realm_and_encrypted_tokens_when_consent_is_given(org_a, owner, wired: Wired) -> None:
    connection = connect_qbo(wired, owner.client, org_a)
    assert connection.realm_id == wired.realm_id
    assert connection.refresh_token.startswith("RT1-")
    assert connection.access_expires_at is not None and connection.refresh_expires_at is not None
    assert connection.connected_by_id == owner.user.pk
    # At rest the columns hold ciphertext, not the tokens.
    for column, plain in (
        ("access_token", connection.access_token),
        ("refresh_token", connection.refresh_token),
    ):
        stored = raw_column(connection, column)
        assert stored and plain not in stored


def test_it_shows_the_company_name_when_connected(org_a, owner, wired: Wired) -> None:
    connection = connect_qbo(wired, owner.client, org_a)
    company = wired.sb.qbo.realms[wired.realm_id].company_name
    assert connection.company_name == company
    page = html.unescape(owner.client.get(f"/o/{org_a.public_id}/connections/").content.decode())
    assert company in page
    for secret in (
        connection.access_token,
        connection.refresh_token,
        wired.sb.credentials["qbo"]["client_secret"],
    ):
        assert secret not in page


def test_it_lets_admins_connect_when_they_are_not_owners(org_a, admin_member, wired: Wired) -> None:
    assert connect_qbo(wired, admin_member.client, org_a).realm_id == wired.realm_id


def test_it_refuses_a_forged_state_when_the_callback_arrives(org_a, owner, wired: Wired) -> None:
    start_consent(owner.client, org_a)
    response = owner.client.get(callback_path(wired, "forged-state-value"))
    assert response.status_code == 400
    assert not Connection.objects.filter(organisation=org_a, provider=Provider.QBO).exists()


def test_it_refuses_a_replayed_state_when_the_callback_repeats(org_a, owner, wired: Wired) -> None:
    state = start_consent(owner.client, org_a)
    assert owner.client.get(callback_path(wired, state)).status_code == 302
    assert owner.client.get(callback_path(wired, state)).status_code == 400


def test_it_refuses_another_users_state_when_the_callback_arrives(
    org_a, owner, admin_member, wired: Wired
) -> None:
    state = start_consent(owner.client, org_a)
    response = admin_member.client.get(callback_path(wired, state))
    assert response.status_code == 400
    assert not Connection.objects.filter(organisation=org_a, provider=Provider.QBO).exists()
    # The owner's own attempt still works: the intruder did not burn it.
    assert owner.client.get(callback_path(wired, state)).status_code == 302


def test_it_refuses_an_expired_state_when_the_callback_is_late(org_a, owner, wired: Wired) -> None:
    state = start_consent(owner.client, org_a)
    session = owner.client.session
    pending = session[STATE_SESSION_KEY]
    pending[state]["expires"] = time.time() - 1
    session[STATE_SESSION_KEY] = pending
    session.save()
    assert owner.client.get(callback_path(wired, state)).status_code == 400


def test_it_refuses_a_member_demoted_meanwhile_when_the_callback_arrives(
    org_a, admin_member, wired: Wired
) -> None:
    state = start_consent(admin_member.client, org_a)
    org_a.memberships.filter(user=admin_member.user).update(role="viewer")
    assert admin_member.client.get(callback_path(wired, state)).status_code == 403
    assert not Connection.objects.filter(organisation=org_a, provider=Provider.QBO).exists()


def test_it_explains_politely_when_the_person_cancels_at_intuit(org_a, owner, wired: Wired) -> None:
    state = start_consent(owner.client, org_a)
    response = owner.client.get(f"/connections/qbo/callback/?error=access_denied&state={state}", follow=True)
    assert response.status_code == 200
    assert "You cancelled the connection in QuickBooks" in response.content.decode()
    assert not Connection.objects.filter(organisation=org_a, provider=Provider.QBO).exists()


def test_it_refuses_viewers_when_they_try_to_connect(org_a, viewer, wired: Wired) -> None:
    assert viewer.client.post(connect_url(org_a)).status_code == 403
    assert STATE_SESSION_KEY not in viewer.client.session


def test_it_sends_anonymous_callbacks_to_sign_in_when_not_logged_in(client) -> None:
    response = client.get("/connections/qbo/callback/?code=x&state=y&realmId=1")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_it_keeps_one_company_when_reconnecting_to_another(org_a, owner, wired: Wired) -> None:
    connection = connect_qbo(wired, owner.client, org_a)
    Connection.objects.filter(pk=connection.pk).update(realm_id="9999", needs_reauth=True)
    state = start_consent(owner.client, org_a)
    response = owner.client.get(callback_path(wired, state), follow=True)
    assert "This organisation is linked to the QuickBooks company" in html.unescape(response.content.decode())
    assert Connection.objects.get(pk=connection.pk).realm_id == "9999"


def test_it_reports_the_company_when_the_qbo_test_button_is_pressed(org_a, owner, wired: Wired) -> None:
    connection = connect_qbo(wired, owner.client, org_a)
    response = owner.client.post(f"/o/{org_a.public_id}/connections/qbo/test/", follow=True)
    assert f"QuickBooks answered for “{connection.company_name}”" in html.unescape(response.content.decode())
    assert Connection.objects.get(pk=connection.pk).last_checked_at is not None


def test_it_refuses_a_company_already_connected_to_another_organisation(
    org_a, org_b, owner, outsider, wired: Wired
) -> None:
    connect_qbo(wired, outsider.client, org_b)
    state = start_consent(owner.client, org_a)

    response = owner.client.get(callback_path(wired, state), follow=True)

    page = html.unescape(response.content.decode())
    assert "is already connected to the organisation" in page and org_b.name in page
    assert (
        not Connection.objects.filter(organisation=org_a, provider=Provider.QBO).exclude(realm_id="").exists()
    )


def test_the_database_refuses_a_second_organisation_on_one_company_even_when_checks_race(
    org_a, org_b, owner, outsider, wired: Wired
) -> None:
    from django.db import IntegrityError, transaction

    connect_qbo(wired, outsider.client, org_b)
    # What a callback that passed its check just before the other one saved would try to store.
    with pytest.raises(IntegrityError), transaction.atomic():
        Connection.objects.create(organisation=org_a, provider=Provider.QBO, realm_id=wired.realm_id)
