"""Notification preferences: each member switches their own alert e-mails, and every sender honours it."""

from __future__ import annotations

from django.core import mail
from web_support import held, run

from connector.emails import maybe_send_first_sync, recipients, send_held_digest, send_run_failed
from connector.models import SyncRun
from tenants.connection_emails import send_qbo_expiry_warning, send_qbo_reauth_needed
from tenants.models import Connection, Membership, NotificationKind, NotificationPreference, Provider


def url(org) -> str:
    return f"/o/{org.public_id}/notifications/"


def all_off() -> dict[str, str]:
    return {}


def only(*kinds: str) -> dict[str, str]:
    return {kind: "on" for kind in kinds}


def qbo_connection(org) -> Connection:
    return Connection.objects.create(
        organisation=org, provider=Provider.QBO, realm_id="1", company_name="Northwind QBO"
    )


def test_it_shows_every_kind_switched_on_for_an_owner_when_nothing_was_chosen(org_a, owner) -> None:
    response = owner.client.get(url(org_a))
    assert response.status_code == 200
    page = response.content.decode()
    for kind in NotificationKind:
        assert kind.label in page
        assert response.context["form"].fields[kind.value].initial is True


def test_it_shows_every_kind_switched_off_for_a_viewer_when_nothing_was_chosen(org_a, viewer) -> None:
    response = viewer.client.get(url(org_a))
    assert response.status_code == 200
    assert not any(field.initial for field in response.context["form"].fields.values())


def test_it_saves_only_the_members_own_choices_when_posted(org_a, owner, admin_member) -> None:
    response = owner.client.post(url(org_a), only(NotificationKind.FIRST_SYNC))
    assert response.status_code == 302
    assert recipients(org_a, NotificationKind.HELD_DIGEST) == [admin_member.user.email]
    assert recipients(org_a, NotificationKind.FIRST_SYNC) == sorted(
        [owner.user.email, admin_member.user.email]
    )
    mine = Membership.objects.get(organisation=org_a, user=owner.user)
    # Only choices that differ from an owner's default (everything on) are stored.
    assert set(mine.notification_preferences.values_list("kind", "enabled")) == {
        (kind, False) for kind in NotificationKind.values if kind != NotificationKind.FIRST_SYNC
    }
    assert not NotificationPreference.objects.filter(membership__user=admin_member.user).exists()


def test_it_lets_a_viewer_switch_an_e_mail_on_when_posting(org_a, owner, viewer) -> None:
    response = viewer.client.post(url(org_a), only(NotificationKind.HELD_DIGEST))
    assert response.status_code == 302
    assert recipients(org_a, NotificationKind.HELD_DIGEST) == sorted([owner.user.email, viewer.user.email])
    assert recipients(org_a, NotificationKind.RUN_FAILED) == [owner.user.email]
    followed = viewer.client.get(url(org_a))
    assert followed.context["form"].fields[NotificationKind.HELD_DIGEST].initial is True


def test_it_answers_404_to_outsiders_when_reading_or_saving(org_a, org_b, outsider, owner) -> None:
    assert outsider.client.get(url(org_a)).status_code == 404
    assert outsider.client.post(url(org_a), all_off()).status_code == 404
    assert recipients(org_a, NotificationKind.HELD_DIGEST) == [owner.user.email]
    assert not NotificationPreference.objects.exists()


def test_it_links_the_page_from_the_organisation_navigation(org_a, viewer) -> None:
    page = viewer.client.get(f"/o/{org_a.public_id}/").content.decode()
    assert url(org_a) in page


def test_it_skips_members_who_switched_a_kind_off_when_sending_each_alert(org_a, owner, admin_member) -> None:
    owner.client.post(url(org_a), all_off())  # the owner wants no e-mails at all
    qbo = qbo_connection(org_a)
    send_held_digest(org_a, [held(org_a, "b1")])
    send_run_failed(run(org_a, status=SyncRun.Status.FAILED, error="Boom"), 3)
    maybe_send_first_sync(run(org_a))
    send_qbo_reauth_needed(qbo)
    send_qbo_expiry_warning(qbo)
    assert len(mail.outbox) == 5
    assert all(message.to == [admin_member.user.email] for message in mail.outbox)


def test_it_sends_nothing_when_every_member_switched_a_kind_off(org_a, owner) -> None:
    owner.client.post(url(org_a), only(NotificationKind.RUN_FAILED))
    assert send_held_digest(org_a, [held(org_a, "b1")]) is False
    assert send_run_failed(run(org_a, status=SyncRun.Status.FAILED), 3) is True
    assert [m.subject for m in mail.outbox] == [f"Sync for {org_a.name} failed 3 times in a row"]


def test_it_puts_a_link_to_the_page_in_every_alerts_footer(org_a, owner) -> None:
    qbo = qbo_connection(org_a)
    send_held_digest(org_a, [held(org_a, "b1")])
    send_run_failed(run(org_a, status=SyncRun.Status.FAILED), 3)
    maybe_send_first_sync(run(org_a))
    send_qbo_reauth_needed(qbo)
    send_qbo_expiry_warning(qbo)
    link = f"http://127.0.0.1:8000{url(org_a)}"
    assert len(mail.outbox) == 5
    for message in mail.outbox:
        html = message.alternatives[0][0]
        assert "Change which e-mails you get" in message.body and link in message.body, message.subject
        assert "Change which e-mails you get" in html and f'href="{link}"' in html, message.subject
