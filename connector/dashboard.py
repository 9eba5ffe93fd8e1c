"""The dashboard's data: the setup checklist, the sync card (running, last finished, held), this month's
amounts and the eight-week chart. tenants/views.py renders it."""

from __future__ import annotations

from typing import Any

from django.db.models import Count
from django.urls import reverse

from connector import chart, finance, kinds
from connector.models import ExternalRecord, HeldRecord, SyncRun
from connector.sync import preview, start_gate
from mappings.models import AccountMapping, VendorMapping
from tenants.models import Organisation, SyncSchedule

MAPPING_WAITS = ("vendor_mapping", "account_mapping", "vendor_currency")


def context(organisation: Organisation) -> dict[str, Any]:
    connections = {c.provider: c for c in organisation.connections.all()}
    schedule = SyncSchedule.objects.filter(organisation=organisation).first()
    mapping_rows = (
        VendorMapping.objects.filter(organisation=organisation).count()
        + AccountMapping.objects.filter(organisation=organisation).count()
    )
    unmapped = _unmapped(organisation)
    month_start = finance.month_start(organisation)
    synced = ExternalRecord.objects.filter(
        organisation=organisation, state=ExternalRecord.State.SYNCED, last_synced_at__gte=month_start
    )
    org_id = organisation.public_id
    connections_url = reverse("tenants-connections", args=[org_id])
    first_sync = SyncRun.objects.filter(organisation=organisation, status=SyncRun.Status.SUCCEEDED).exists()
    steps = [
        ("Connect Procurify", _is_connected(connections, "procurify"), connections_url),
        ("Connect QuickBooks Online", _is_connected(connections, "qbo"), connections_url),
        (
            "Review vendor and account mappings",
            mappings_reviewed(organisation, mapping_rows, unmapped, first_sync),
            reverse("mappings-index", args=[org_id]),
        ),
        (
            "Choose a schedule",
            bool(schedule and schedule.enabled),
            reverse("connector-settings", args=[org_id]),
        ),
        (  # before the first write, see what it would write (connector/sync/preview.py)
            "Preview what the first sync will write",
            first_sync or preview.seen(organisation),
            reverse("connector-preview", args=[org_id]),
        ),
        (  # nothing is written until a person presses "Start syncing" on the preview
            "Start syncing after the preview",
            first_sync or start_gate.has_started(organisation),
            reverse("connector-preview", args=[org_id]),
        ),
        ("Run the first sync", first_sync, ""),
    ]
    checklist = [{"label": label, "done": done, "url": url} for label, done, url in steps]
    next_step = next((step for step in checklist if not step["done"]), None)
    if next_step is not None:
        next_step["next"] = True
    return {
        "connections": connections,
        "checklist": checklist,
        "next_step": next_step,
        "unmapped": unmapped,
        "schedule": schedule,
        **sync_card(organisation),
        "held_value": finance.on_hold(organisation),
        "synced_value": finance.synced_this_month(organisation),
        "first_sync_done": first_sync,
        "chart": chart.weekly_amounts(organisation),
        "sync_blocked": _sync_blocked(connections),
        "syncing_started": start_gate.has_started(organisation),
        "sync_waiting": start_gate.WAITING,
        "can_start_syncing": not start_gate.why_not_startable(organisation),
        "syncing_started_by": start_gate.started_by_label(organisation),
        "synced_this_month": [
            {"n": row["n"], "label": kinds.plural(row["object_type"])}
            for row in synced.values("object_type").annotate(n=Count("id")).order_by("object_type")
        ],
    }


def sync_card(organisation: Organisation) -> dict[str, Any]:
    """The running run, the last finished one and the held count (the dashboard and its progress poll)."""
    return {
        "active": SyncRun.objects.for_org(organisation).active().first(),
        "last_run": last_finished(organisation),
        "held_count": HeldRecord.objects.for_org(organisation).open().count(),
    }


def last_finished(organisation: Organisation) -> SyncRun | None:
    return SyncRun.objects.for_org(organisation).finished().order_by("-created_at").first()


def mappings_reviewed(organisation: Organisation, mapping_rows: int, unmapped: int, synced: bool) -> bool:
    """Done when everything is mapped or, once a sync has run, when no bill waits on a mapping: most
    Procurify vendors never send a bill, and insisting on mapping them all made the step a dead end."""
    if mapping_rows == 0:
        return False
    if unmapped == 0:
        return True
    open_holds = HeldRecord.objects.for_org(organisation).open()
    return synced and not open_holds.filter(waiting_on_type__in=MAPPING_WAITS).exists()


def _sync_blocked(connections: dict[str, Any]) -> str:
    """Why Sync now cannot run yet ("" when it can): both systems must be connected."""
    missing = [
        name
        for provider, name in (("procurify", "Procurify"), ("qbo", "QuickBooks Online"))
        if not _is_connected(connections, provider)
    ]
    return f"Connect {' and '.join(missing)} first." if missing else ""


def _is_connected(connections: dict[str, Any], provider: str) -> bool:
    connection = connections.get(provider)
    return bool(connection and connection.is_connected)


def _unmapped(organisation: Organisation) -> int:
    vendors = VendorMapping.objects.filter(organisation=organisation, procurify_active=True, qbo_vendor_id="")
    accounts = AccountMapping.objects.filter(
        organisation=organisation, procurify_active=True, qbo_account_id=""
    )
    return vendors.count() + accounts.count()
