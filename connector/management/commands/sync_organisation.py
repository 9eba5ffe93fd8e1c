"""Run one organisation's pipeline in the foreground and print the counts."""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from connector.clients import CLIENTS
from connector.errors import ConnectorError
from connector.models import SyncRun
from connector.sync import service
from connector.sync.engine import STEPS
from tenants.models import Organisation


class Command(BaseCommand):
    help = "Sync one organisation now: python manage.py sync_organisation <slug or public id>"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("organisation", help="The organisation's slug or public UUID.")
        parser.add_argument("--steps", default=",".join(STEPS), help=f"Comma-separated subset of {STEPS}.")

    def handle(self, *args: Any, **options: Any) -> None:
        organisation = _find(options["organisation"])
        steps = [s for s in options["steps"].split(",") if s]
        if unknown := set(steps) - set(STEPS):
            raise CommandError(f"Unknown steps: {', '.join(sorted(unknown))}")
        try:
            run = service.run_now(organisation, SyncRun.Trigger.COMMAND, CLIENTS, steps=steps)
        except ConnectorError as exc:
            raise CommandError(exc.message) from exc
        except service.AlreadyRunning as exc:
            raise CommandError(f"{organisation} already has a sync queued or running.") from exc
        self.stdout.write(f"{organisation}: {run.status}")
        self.stdout.write(json.dumps(run.counts, indent=2, sort_keys=True))
        if run.status != SyncRun.Status.SUCCEEDED:
            raise CommandError(run.error or "The sync failed.")


def _find(value: str) -> Organisation:
    try:
        lookup: dict[str, object] = {"public_id": uuid.UUID(value)}
    except ValueError:
        lookup = {"slug": value}
    try:
        return Organisation.objects.get(**lookup)
    except Organisation.DoesNotExist as exc:
        raise CommandError(f"No organisation '{value}'.") from exc
