"""Intuit's Disconnect URL: a visit flags a connection only when QuickBooks itself confirms the disconnect."""

from __future__ import annotations

from django.core import mail
from sandbox_wiring import connect, point_settings_at

from connector.clients import use_transport
from sandbox import Sandbox
from tenants.models import Connection, Provider


def test_it_flags_the_connection_when_quickbooks_confirms_the_disconnect(org_a, owner, settings) -> None:
    sb = Sandbox.create(seed="distributor")
    point_settings_at(sb)
    with use_transport(sb.transport(), clock=sb.clock.now):
        realm_id = connect(org_a, owner.user, sb)
        sb.qbo.revoke_tokens(realm_id)  # what "Disconnect" inside QuickBooks does
        page = owner.client.get(f"/connections/qbo/disconnected/?realmId={realm_id}").content.decode()
    connection = Connection.objects.get(organisation=org_a, provider=Provider.QBO)
    assert connection.needs_reauth
    assert "Syncing is paused" in page and org_a.name in page
    assert len(mail.outbox) == 1  # the owners hear about it once


def test_it_changes_nothing_when_the_connection_still_works(org_a, owner, settings) -> None:
    sb = Sandbox.create(seed="distributor")
    point_settings_at(sb)
    with use_transport(sb.transport(), clock=sb.clock.now):
        realm_id = connect(org_a, owner.user, sb)
        page = owner.client.get(f"/connections/qbo/disconnected/?realmId={realm_id}").content.decode()
    assert not Connection.objects.get(organisation=org_a, provider=Provider.QBO).needs_reauth
    assert "None of your organisations lost" in page


def test_it_ignores_visitors_from_other_organisations(org_a, owner, outsider, settings) -> None:
    sb = Sandbox.create(seed="distributor")
    point_settings_at(sb)
    with use_transport(sb.transport(), clock=sb.clock.now):
        realm_id = connect(org_a, owner.user, sb)
        sb.qbo.revoke_tokens(realm_id)
        page = outsider.client.get(f"/connections/qbo/disconnected/?realmId={realm_id}").content.decode()
    assert not Connection.objects.get(organisation=org_a, provider=Provider.QBO).needs_reauth
    assert org_a.name not in page
