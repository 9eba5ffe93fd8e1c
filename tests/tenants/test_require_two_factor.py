"""Issue 12: owners may require two-factor authentication for every member of their organisation."""

from __future__ import annotations

from allauth.mfa.models import Authenticator

from tenants.models import Organisation


def _totp(user) -> None:
    Authenticator.objects.create(user=user, type=Authenticator.Type.TOTP, data={"secret": "x"})


def _settings(org: Organisation) -> str:
    return f"/o/{org.public_id}/settings/"


def test_a_member_without_two_factor_is_sent_to_set_it_up_and_sees_no_data(org_a, owner, viewer) -> None:
    Organisation.objects.filter(pk=org_a.pk).update(require_two_factor=True)

    response = viewer.client.get(f"/o/{org_a.public_id}/")

    assert response.status_code == 302 and "/2fa/totp/activate/" in response["Location"]
    page = viewer.client.get(response["Location"], follow=True).content.decode()
    assert "requires two-factor authentication" in page


def test_a_member_with_two_factor_gets_in(org_a, viewer) -> None:
    Organisation.objects.filter(pk=org_a.pk).update(require_two_factor=True)
    _totp(viewer.user)

    assert viewer.client.get(f"/o/{org_a.public_id}/").status_code == 200


def test_an_owner_must_have_two_factor_before_requiring_it(org_a, owner) -> None:
    data = {"name": org_a.name, "time_zone": org_a.time_zone, "require_two_factor": "on"}

    refused = owner.client.post(_settings(org_a), data)
    assert "Set up two-factor authentication for yourself first" in refused.content.decode()
    org_a.refresh_from_db()
    assert not org_a.require_two_factor

    _totp(owner.user)
    owner.client.post(_settings(org_a), data)
    org_a.refresh_from_db()
    assert org_a.require_two_factor


def test_an_admin_cannot_change_the_requirement(org_a, admin_member) -> None:
    _totp(admin_member.user)
    data = {"name": org_a.name, "time_zone": org_a.time_zone, "require_two_factor": "on"}

    admin_member.client.post(_settings(org_a), data)

    org_a.refresh_from_db()
    assert not org_a.require_two_factor
