"""The sync_organisation command refuses plainly when a connection is missing and leaves no queued run."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from connector.models import SyncRun


def test_it_refuses_an_organisation_without_connections_and_queues_nothing(org_a) -> None:
    with pytest.raises(CommandError):
        call_command("sync_organisation", org_a.slug)

    assert not SyncRun.objects.filter(organisation=org_a).exists()
