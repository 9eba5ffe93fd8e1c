"""Organisations connected to the standalone sandbox the way a customer connects them.

Procurify: a Connection row with site URL, client id and secret. QBO: the sandbox's approve
endpoint stands in for the consent page, then the real ``complete_qbo_authorization`` stores the
tokens (as tenants/management/commands/demo_setup.py does). The clients are then built by the
production factories, so token reads and refreshes cost what they cost in a worker.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from django.contrib.auth import get_user_model
from django.test import override_settings
from django.utils import timezone

from accounts.models import User
from bench.sandbox_proc import SandboxProcess
from connector.clients import procurify_client_for, qbo_client_for
from connector.models import SyncRun
from connector.oauth import complete_qbo_authorization
from connector.procurify.client import ProcurifyClient
from connector.qbo.client import QBOClient
from connector.sync import runs
from connector.sync.engine import STEPS, run_pipeline
from tenants.models import Connection, Membership, Organisation, Provider, Role

SETUP_STEPS = ("token_check", "reference", "vendors", "purchase_orders")
REDIRECT_URI = "http://bench.invalid/connections/qbo/callback/"
BENCH_USER = "bench@example.com"


@dataclass
class Tenant:
    organisation: Organisation
    domain: str
    realm_id: str


def sandbox_settings(sandbox: SandboxProcess) -> dict[str, str]:
    """The settings that send the QBO factories to the sandbox instead of Intuit (also the workers' env)."""
    creds = sandbox.credentials()["qbo"]
    base = f"{sandbox.url}/qbo"
    return {
        "QBO_CLIENT_ID": creds["client_id"],
        "QBO_CLIENT_SECRET": creds["client_secret"],
        "QBO_REDIRECT_URI": REDIRECT_URI,
        "QBO_AUTHORIZE_URL": f"{base}/connect/oauth2",
        "QBO_TOKEN_URL": f"{base}/oauth2/v1/tokens/bearer",
        "QBO_REVOKE_URL": f"{base}/oauth2/v1/tokens/revoke",
        "QBO_API_BASE": base,
        "QBO_ENVIRONMENT": "sandbox",
        "PROCURIFY_TOKEN_URL": "",
    }


@contextmanager
def pointed_at(sandbox: SandboxProcess) -> Iterator[None]:
    with override_settings(**sandbox_settings(sandbox)):
        yield


def connect_tenants(sandbox: SandboxProcess, label: str) -> list[Tenant]:
    """One fresh organisation per sandbox tenant (a new slug per bench run: no state carried over)."""
    creds = sandbox.credentials()
    user = bench_user()
    stamp = timezone.now().strftime("%Y%m%d%H%M%S%f")
    tenants = []
    pairs = zip(creds["procurify"].items(), creds["qbo"]["realm_ids"], strict=True)
    for index, ((domain, secret), realm_id) in enumerate(pairs):
        organisation = Organisation.objects.create(
            name=f"Bench {label} {index + 1}", slug=f"bench-{label}-{stamp}-{index + 1}"[:60]
        )
        Membership.objects.create(organisation=organisation, user=user, role=Role.OWNER)
        Connection.objects.create(
            organisation=organisation,
            provider=Provider.PROCURIFY,
            site_url=f"{sandbox.url}/procurify/{domain}",
            client_id=secret["client_id"],
            client_secret=secret["client_secret"],
            connected_by=user,
            connected_at=timezone.now(),
        )
        # One company, one organisation (oauth._refuse_shared_company): an earlier pass's throwaway
        # organisation lets go of the sandbox company first.
        Connection.objects.filter(
            provider=Provider.QBO, realm_id=realm_id, organisation__slug__startswith="bench-"
        ).update(realm_id="")
        callback = sandbox.approve(creds["qbo"]["client_id"], REDIRECT_URI, realm_id)
        query = parse_qs(urlsplit(callback).query)
        complete_qbo_authorization(organisation, user, query["code"][0], query["realmId"][0])
        tenants.append(Tenant(organisation, domain, realm_id))
    return tenants


def clients_for(tenant: Tenant) -> tuple[ProcurifyClient, QBOClient]:
    return procurify_client_for(tenant.organisation), qbo_client_for(tenant.organisation)


def sync_once(
    tenant: Tenant, steps: Iterable[str] = STEPS, trigger: str = SyncRun.Trigger.COMMAND
) -> SyncRun:
    """One full pipeline run through the production factories, as the Celery task would do it.

    trigger: polls are scheduled runs (QuickBooks' lists are not re-read, reference_schedule.py)."""
    queued = runs.enqueue_run(tenant.organisation, trigger)
    if queued is None:
        raise RuntimeError(f"{tenant.organisation} already has a run queued or running")
    procurify, qbo = clients_for(tenant)
    return run_pipeline(queued.pk, procurify=procurify, qbo=qbo, steps=steps)


def bench_user() -> User:
    user, created = get_user_model().objects.get_or_create(
        email=BENCH_USER, defaults={"username": BENCH_USER}
    )
    if created:
        user.set_unusable_password()
        user.save()
    return user
