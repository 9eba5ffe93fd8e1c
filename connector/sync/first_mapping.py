"""Mapping before writing: the moment both systems are connected, read QuickBooks' vendors, accounts
and terms and Procurify's vendors and account codes, and auto-match them — the engine's own reference
step (connector/sync/reference.py), run on its own by a Celery task — so the mapping pages show
proposed mappings before the first sync, which waits for "Start syncing" (start_gate.py).

Reads only: nothing is written to QuickBooks or Procurify. Queued by connector/dispatch.py.
"""

from __future__ import annotations

import logging

from django.utils import timezone

from connector.client_factory import ClientFactory
from connector.errors import ConnectorError
from connector.models import SyncRun
from connector.sync.audit import Audit
from connector.sync.reference import refresh_reference
from tenants.models import Organisation

log = logging.getLogger(__name__)
READ, BUSY, FAILED = "read", "busy", "failed"


def read_reference(organisation: Organisation, clients: ClientFactory) -> str:
    """The task's body. A sync already running reads the same data itself, so it is left to it."""

    if SyncRun.objects.for_org(organisation).active().exists():
        return BUSY
    audit = Audit(organisation)
    try:
        counts = refresh_reference(
            organisation,
            clients.procurify(organisation),
            clients.qbo(organisation),
            audit,
            timezone.now(),
        )
    except ConnectorError as exc:  # the mapping pages say "not read yet"; the first sync reads again
        log.warning("reference read for organisation %s failed: %s", organisation.pk, exc.code)
        audit.record("error", f"Reading vendors and accounts to propose mappings failed: {exc.message}")
        return FAILED
    audit.record(
        "read",
        f"Read {counts.get('procurify_vendors', 0)} Procurify vendors and "
        f"{counts.get('procurify_account_codes', 0)} account codes, "
        f"{counts.get('qbo_vendors', 0)} QuickBooks vendors and "
        f"{counts.get('qbo_accounts', 0)} accounts to propose mappings.",
        data={k: int(v) for k, v in counts.items()},
    )
    return READ
