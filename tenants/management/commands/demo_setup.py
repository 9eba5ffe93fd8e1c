"""Set up the demo: a verified user, the distributor's organisation connected to the running sandbox,
a schedule and the first sync — so a new user sees synced bills and a held one within a minute of `make run`.

Idempotent: running it again keeps what exists and only fills in what is missing.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from connector.models import SyncRun
from connector.oauth import complete_qbo_authorization
from tenants.models import Connection, Membership, Organisation, Provider, Role, SyncSchedule

DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "demo-password-123"
DEMO_ORG = "Northwind Distribution"


class Command(BaseCommand):
    help = "Create the demo user and organisation, connect them to the sandbox and run the first sync."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--sandbox-url", default="http://127.0.0.1:8765")
        parser.add_argument(
            "--skip-sync", action="store_true", help="connect only; do not run the first sync"
        )

    def handle(self, *args: Any, sandbox_url: str, skip_sync: bool, **options: Any) -> None:
        sandbox_url = sandbox_url.rstrip("/")
        with httpx.Client(base_url=sandbox_url, timeout=10) as sandbox:
            try:
                credentials = sandbox.get("/_sandbox/credentials").raise_for_status().json()
            except httpx.HTTPError as exc:
                raise CommandError(f"The sandbox at {sandbox_url} is not answering ({exc}).") from None
            user = _demo_user()
            organisation = _demo_organisation(user)
            _connect_procurify(organisation, user, sandbox_url, credentials)
            _connect_qbo(organisation, user, sandbox, credentials)
        SyncSchedule.objects.update_or_create(
            organisation=organisation,
            defaults={
                "enabled": True,
                "interval_minutes": 15,
                "next_run_at": timezone.now() + timedelta(minutes=15),
            },
        )
        self.stdout.write(f"Demo organisation: {organisation.name} ({organisation.public_id})")
        if not skip_sync:
            self.stdout.write(f"First sync: {_first_sync(organisation)}")


def _demo_user() -> Any:
    user, created = get_user_model().objects.get_or_create(
        email=DEMO_EMAIL, defaults={"username": DEMO_EMAIL, "first_name": "Demo"}
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save()
    EmailAddress.objects.get_or_create(
        user=user, email=DEMO_EMAIL, defaults={"verified": True, "primary": True}
    )
    return user


def _demo_organisation(user: Any) -> Organisation:
    organisation, _ = Organisation.objects.get_or_create(
        slug="northwind", defaults={"name": DEMO_ORG, "time_zone": "America/Vancouver"}
    )
    Membership.objects.get_or_create(organisation=organisation, user=user, defaults={"role": Role.OWNER})
    return organisation


def _connect_procurify(organisation: Organisation, user: Any, sandbox_url: str, credentials: dict) -> None:
    domain, secret = next(iter(credentials["procurify"].items()))
    Connection.objects.update_or_create(
        organisation=organisation,
        provider=Provider.PROCURIFY,
        defaults={
            "site_url": f"{sandbox_url}/procurify/{domain}",
            "client_id": secret["client_id"],
            "client_secret": secret["client_secret"],
            "connected_by": user,
            "connected_at": timezone.now(),
            "needs_reauth": False,
        },
    )


def _connect_qbo(organisation: Organisation, user: Any, sandbox: httpx.Client, credentials: dict) -> None:
    existing = Connection.objects.filter(organisation=organisation, provider=Provider.QBO).first()
    if existing and existing.is_connected:
        return
    realm_id = credentials["qbo"]["realm_ids"][0]
    # The sandbox's approve endpoint stands in for a person clicking "Connect" on Intuit's consent page.
    approval = sandbox.post(
        "/_sandbox/qbo/approve",
        json={
            "client_id": settings.QBO_CLIENT_ID,
            "redirect_uri": settings.QBO_REDIRECT_URI,
            "state": "demo",
            "realm_id": realm_id,
        },
    ).raise_for_status()
    query = parse_qs(urlsplit(approval.json()["callback_url"]).query)
    complete_qbo_authorization(organisation, user, query["code"][0], query["realmId"][0])


def _first_sync(organisation: Organisation) -> str:
    if SyncRun.objects.filter(organisation=organisation, status=SyncRun.Status.SUCCEEDED).exists():
        return "already done"
    call_command("sync_organisation", organisation.slug)
    # Running the demo's first sync is the demo user's "Start syncing": the schedule carries on from it.
    Organisation.objects.filter(pk=organisation.pk, syncing_started_at__isnull=True).update(
        syncing_started_at=timezone.now(), syncing_started_by=_demo_user()
    )
    return "done"
