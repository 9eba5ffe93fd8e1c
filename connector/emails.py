"""Alert e-mails to an organisation's members: held-records digest, repeated failures, first
successful sync. Each links to the page that fixes it, and its footer to the member's e-mail
choices; none carries a token or a secret. Who gets which kind is each member's choice
(tenants.models.NotificationPreference); by default owners and admins get them all.

Where the engine should call them (connector/tasks.py, after runs.finish_run):
  - send_held_digest(organisation, records_newly_held_in_this_run) — once per run, only if any;
  - maybe_send_run_failed(run) — after every failed run (sends when the last 3 all failed);
  - maybe_send_first_sync(run) — after every succeeded run (sends only for the first one).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.urls import reverse

from connector import finance, finder, held_groups
from connector.held_list import fix_links
from connector.models import HeldRecord, SyncRun
from connector.money import format_totals
from tenants.connection_emails import notifications_context
from tenants.emails import send_templated
from tenants.models import NotificationKind, Organisation, subscribed_emails

FAILURES_BEFORE_ALERT = 3


def recipients(organisation: Organisation, kind: str) -> list[str]:
    """E-mail addresses of the members who want this kind of mail (a NotificationKind value)."""
    return subscribed_emails(organisation, kind)


def _absolute(path: str) -> str:
    return settings.SITE_URL + path


def send_held_digest(organisation: Organisation, held_records: Sequence[HeldRecord]) -> bool:
    """One mail listing every newly held record, grouped by reason, each with its fix link."""
    to = recipients(organisation, NotificationKind.HELD_DIGEST)
    if not held_records or not to:
        return False
    annotated = finder.with_documents(HeldRecord.objects.filter(pk__in=[r.pk for r in held_records]))
    # Any: the rows carry finder's doc_* annotations, which the model's type does not know.
    rows: list[Any] = sorted(annotated, key=lambda r: (held_groups.group_key(r), r.label))
    links = fix_links(organisation, rows)
    groups = [
        {
            "title": group["title"],
            "sentence": group["sentence"],
            "rows": [
                {"held": r, "fix_label": links[r.pk][0], "fix_url": _absolute(links[r.pk][1])}
                for r in group["rows"]
            ],
        }
        for group in held_groups.groups(rows)
    ]
    context = {
        "organisation": organisation,
        "count": len(rows),
        "groups": groups,
        "total": format_totals((r.doc_currency or "", r.doc_total) for r in rows),
        "held_url": _absolute(reverse("connector-held", args=[organisation.public_id])),
        **notifications_context(organisation),
    }
    send_templated("held_digest", context, to)
    return True


def maybe_send_run_failed(run: SyncRun, threshold: int = FAILURES_BEFORE_ALERT) -> bool:
    """Mail once when the last `threshold` finished runs all failed (not on every failure)."""
    finished = SyncRun.objects.for_org(run.organisation).finished()
    recent = list(finished.order_by("-created_at", "-pk")[: threshold + 1])
    failed = [r.status in (SyncRun.Status.FAILED, SyncRun.Status.ABANDONED) for r in recent]
    if len(failed) < threshold or not all(failed[:threshold]):
        return False
    if len(failed) > threshold and failed[threshold]:
        return False  # already alerted for this streak
    return send_run_failed(run, threshold)


def send_run_failed(run: SyncRun, failures: int) -> bool:
    organisation = run.organisation
    to = recipients(organisation, NotificationKind.RUN_FAILED)
    if not to:
        return False
    context = {
        **notifications_context(organisation),
        "organisation": organisation,
        "run": run,
        "failures": failures,
        "run_url": _absolute(reverse("connector-run", args=[organisation.public_id, run.public_id])),
        "connections_url": _absolute(reverse("tenants-connections", args=[organisation.public_id])),
    }
    send_templated("run_failed", context, to)
    return True


def maybe_send_first_sync(run: SyncRun) -> bool:
    organisation = run.organisation
    succeeded = SyncRun.objects.filter(organisation=organisation, status=SyncRun.Status.SUCCEEDED)
    # A slice that continues (counts["continues"]) is not a finished first sync.
    earlier = succeeded.exclude(pk=run.pk).exclude(counts__has_key="continues")
    if run.status != SyncRun.Status.SUCCEEDED or earlier.exists():
        return False
    to = recipients(organisation, NotificationKind.FIRST_SYNC)
    if not to:
        return False
    context = {
        **notifications_context(organisation),
        "organisation": organisation,
        "run": run,
        "run_url": _absolute(reverse("connector-run", args=[organisation.public_id, run.public_id])),
        "held_url": _absolute(reverse("connector-held", args=[organisation.public_id])),
        "held_count": HeldRecord.objects.filter(
            organisation=organisation, state=HeldRecord.State.HELD
        ).count(),
        "amounts": {
            outcome: format_totals(pairs) for outcome, pairs in finance.run_totals(organisation, run).items()
        },
    }
    send_templated("first_sync", context, to)
    return True


def _deferred(run: SyncRun) -> bool:
    # A run that handed its worker back on a QuickBooks throttle carries on by itself: not a failure streak.
    return bool((run.counts or {}).get("deferred_seconds"))


def notify_after_run(run: SyncRun) -> None:
    """Alerts a finished run calls for: a digest of what it newly held, a failure streak, a first success."""
    run.refresh_from_db()
    if run.status == SyncRun.Status.SUCCEEDED and not (run.counts or {}).get("continues"):
        maybe_send_first_sync(run)  # a slice is not the whole first sync
    elif run.status in (SyncRun.Status.FAILED, SyncRun.Status.ABANDONED) and not _deferred(run):
        maybe_send_run_failed(run)
    if run.started_at is not None:
        newly_held = HeldRecord.objects.filter(
            organisation=run.organisation,
            run=run,
            state=HeldRecord.State.HELD,
            first_held_at__gte=run.started_at,
        )
        send_held_digest(run.organisation, list(newly_held))
