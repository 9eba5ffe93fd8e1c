"""The first journey: sign up → verify e-mail → create organisation → invite a colleague → they accept."""

from __future__ import annotations

import re

from django.core import mail
from django.test import Client

from tenants.models import Invitation, Membership, Organisation, Role

PASSWORD = "a long and unusual passphrase 42"


def _link(message: mail.EmailMessage, fragment: str) -> str:
    match = re.search(rf"https?://[^\s\"']*{fragment}[^\s\"']*", message.body)
    assert match, f"no {fragment} link in: {message.body}"
    return re.sub(r"^https?://[^/]+", "", match.group(0))


def _sign_up(client: Client, email: str) -> None:
    response = client.post(
        "/accounts/signup/", {"email": email, "password1": PASSWORD, "password2": PASSWORD}
    )
    assert response.status_code == 302
    confirm = _link(mail.outbox[-1], "/accounts/confirm-email/")
    assert client.post(confirm).status_code == 302


def test_it_signs_up_verifies_and_creates_an_organisation(db) -> None:
    client = Client()
    _sign_up(client, "erin@fabrikam.example")
    response = client.post("/orgs/new/", {"name": "Fabrikam Supply", "time_zone": "Europe/London"})
    organisation = Organisation.objects.get(name="Fabrikam Supply")
    assert response["Location"] == f"/o/{organisation.public_id}/"
    assert Membership.objects.get(organisation=organisation).role == Role.OWNER
    assert client.get(response["Location"]).status_code == 200


def test_it_refuses_login_before_the_email_is_verified(db) -> None:
    client = Client()
    client.post(
        "/accounts/signup/", {"email": "fay@fabrikam.example", "password1": PASSWORD, "password2": PASSWORD}
    )
    client.logout()
    response = client.post("/accounts/login/", {"login": "fay@fabrikam.example", "password": PASSWORD})
    assert response.status_code == 302
    assert "confirm-email" in response["Location"]
    assert client.get("/orgs/new/").status_code == 302


def test_it_invites_a_colleague_who_signs_up_and_accepts(org_a, owner) -> None:
    response = owner.client.post(
        f"/o/{org_a.public_id}/members/", {"email": "Gus@Northwind.example", "role": "admin"}
    )
    assert response.status_code == 302
    invitation = Invitation.objects.get(organisation=org_a)
    assert invitation.email == "gus@northwind.example"
    accept_path = _link(mail.outbox[-1], "/invitations/")

    colleague = Client()
    _sign_up(colleague, "gus@northwind.example")
    assert colleague.post(accept_path).status_code == 302
    membership = Membership.objects.get(organisation=org_a, user__email="gus@northwind.example")
    assert membership.role == Role.ADMIN
    assert colleague.get(f"/o/{org_a.public_id}/").status_code == 200
    # Single use: accepting again changes nothing and says so.
    assert "already been used" in colleague.get(accept_path).content.decode()


def test_it_refuses_an_invitation_for_someone_else(org_a, owner, outsider) -> None:
    owner.client.post(f"/o/{org_a.public_id}/members/", {"email": "hal@northwind.example", "role": "viewer"})
    accept_path = _link(mail.outbox[-1], "/invitations/")
    response = outsider.client.post(accept_path)
    assert response.status_code == 200
    assert "sent to" in response.content.decode()
    assert not Membership.objects.filter(organisation=org_a, user=outsider.user).exists()


def test_it_rejects_nonsense_in_the_invitation_form(org_a, owner, viewer) -> None:
    response = owner.client.post(
        f"/o/{org_a.public_id}/members/", {"email": "not an email", "role": "emperor"}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Enter a valid email address" in page
    assert "Select a valid choice" in page
    response = owner.client.post(
        f"/o/{org_a.public_id}/members/", {"email": viewer.user.email, "role": "viewer"}
    )
    assert "already a member" in response.content.decode()
    assert not Invitation.objects.exists()


def test_it_lets_an_admin_change_roles_but_keeps_the_last_owner(org_a, owner, viewer) -> None:
    viewer_membership = Membership.objects.get(user=viewer.user)
    owner_membership = Membership.objects.get(user=owner.user)
    url = f"/o/{org_a.public_id}/members/{viewer_membership.public_id}/"
    owner.client.post(url, {"role": "admin"})
    viewer_membership.refresh_from_db()
    assert viewer_membership.role == Role.ADMIN

    owner.client.post(f"/o/{org_a.public_id}/members/{owner_membership.public_id}/", {"role": "viewer"})
    owner_membership.refresh_from_db()
    assert owner_membership.role == Role.OWNER


def test_it_stops_a_viewer_from_changing_anything(org_a, owner, viewer) -> None:
    owner_membership = Membership.objects.get(user=owner.user)
    response = viewer.client.post(
        f"/o/{org_a.public_id}/members/{owner_membership.public_id}/", {"action": "remove"}
    )
    assert response.status_code == 403
    assert Membership.objects.filter(pk=owner_membership.pk).exists()
    assert viewer.client.post(f"/o/{org_a.public_id}/settings/", {"name": "Hacked"}).status_code == 403
    org_a.refresh_from_db()
    assert org_a.name == "Northwind Distribution"


def test_it_switches_between_organisations(org_a, org_b, owner) -> None:
    Membership.objects.create(organisation=org_b, user=owner.user, role=Role.VIEWER)
    owner.client.get(f"/o/{org_b.public_id}/")
    assert owner.client.get("/")["Location"] == f"/o/{org_b.public_id}/"
    page = owner.client.get(f"/o/{org_a.public_id}/").content.decode()
    assert org_b.name in page  # listed in the switcher because the owner belongs to both


def test_it_validates_the_organisation_form(db, owner) -> None:
    response = owner.client.post("/orgs/new/", {"name": "!!!", "time_zone": "Mars/Olympus"})
    page = response.content.decode()
    assert "at least one letter or digit" in page
    assert "Select a valid choice" in page
    assert not Organisation.objects.exists()


def test_it_rate_limits_failed_logins(db, owner) -> None:
    client = Client()
    pages = [
        client.post("/accounts/login/", {"login": owner.user.email, "password": "wrong"}).content.decode()
        for _ in range(6)
    ]
    assert not any("Too many failed login attempts" in page for page in pages[:5])
    assert "Too many failed login attempts" in pages[5]
    # Even the right password is refused while the limit holds.
    response = client.post("/accounts/login/", {"login": owner.user.email, "password": owner.password})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
