"""The README's run command: `demo_setup` connects the demo organisation to the sandbox served on a port
and runs its first sync, which counts as the demo user's "Start syncing" so the schedule carries on."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from sandbox_wiring import point_settings_at

from connector.models import ExternalRecord
from connector.sync import start_gate
from sandbox import Sandbox
from tenants.models import Organisation

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_demo_first_sync_starts_syncing_and_connect_only_waits_for_a_person(settings) -> None:
    sb = Sandbox.create(seed="distributor")
    handle = sb.serve("127.0.0.1", 0)
    try:
        point_settings_at(sb, handle.url)
        settings.PROCURIFY_ALLOWED_HOSTS = ["127.0.0.1"]
        call_command("demo_setup", sandbox_url=handle.url, skip_sync=True)
        demo = Organisation.objects.get(slug="northwind")
        assert not start_gate.has_started(demo), "connecting alone writes nothing"

        call_command("demo_setup", sandbox_url=handle.url)
        demo.refresh_from_db()
        assert start_gate.has_started(demo) and demo.syncing_started_by is not None
        assert (
            ExternalRecord.objects.filter(organisation=demo, object_type="bill").exclude(qbo_id="").exists()
        )
    finally:
        handle.stop()
