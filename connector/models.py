"""Sync engine state: runs, cursors, the external-reference table, held records and the audit trail.

Every row carries its organisation (the tenant wall); rows a user may open in the UI carry a
public UUID for URLs (style.md items 6, 7, 10, 12, 14).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db import models
from django.db.models import Q

from connector.hold_reasons import ReasonCode
from connector.kinds import RecordKind
from tenants.models import Organisation


class WorkerHeartbeat(models.Model):
    """A single row a worker touches on a beat schedule; /healthz reads its age."""

    name = models.CharField(max_length=40, unique=True, default="worker")
    beat_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.beat_at:%Y-%m-%d %H:%M:%S}"


class SyncRunQuerySet(models.QuerySet["SyncRun"]):
    def for_org(self, organisation: Organisation) -> SyncRunQuerySet:
        return self.filter(organisation=organisation)

    def active(self) -> SyncRunQuerySet:
        """Queued or running: at most one per organisation (connector_syncrun_one_active)."""
        return self.filter(status__in=SyncRun.ACTIVE)

    def finished(self) -> SyncRunQuerySet:
        return self.exclude(status__in=SyncRun.ACTIVE)


class SyncRun(models.Model):
    """One pipeline run of one organisation: queued → running → succeeded | failed | abandoned."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        ABANDONED = "abandoned", "Abandoned"

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", "Schedule"
        MANUAL = "manual", "Manual"
        COMMAND = "command", "Command line"
        REPLAY = "replay", "Replay"

    ACTIVE = (Status.QUEUED, Status.RUNNING)

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="sync_runs")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    trigger = models.CharField(max_length=10, choices=Trigger.choices, default=Trigger.SCHEDULE)
    step = models.CharField(max_length=40, blank=True, help_text="The pipeline step running or last run.")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True, help_text="A sentence for the UI when the run failed.")

    objects = SyncRunQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # At most one queued-or-running run per organisation: overlap is refused by the database.
            models.UniqueConstraint(
                fields=["organisation"],
                condition=Q(status__in=["queued", "running"]),
                name="connector_syncrun_one_active",
            )
        ]

    def __str__(self) -> str:
        return f"Run {self.public_id} of {self.organisation_id} ({self.status})"


class SyncCursor(models.Model):
    """How far one stream of one organisation has been durably handled; written with a version."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="sync_cursors")
    stream = models.CharField(max_length=40)
    value = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "stream"], name="connector_synccursor_one_per_stream"
            )
        ]

    def __str__(self) -> str:
        return f"{self.stream} cursor of {self.organisation_id} at {self.value} (v{self.version})"


class ExternalRecord(models.Model):
    """Procurify record ↔ QBO object, with the SyncToken and hash that make writes exactly-once."""

    class State(models.TextChoices):
        CREATING = "creating", "Creating"  # request_id persisted, POST may or may not have landed
        SYNCED = "synced", "Synced"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="external_records")
    object_type = models.CharField(max_length=20, choices=RecordKind.choices)
    procurify_id = models.CharField(max_length=64)
    label = models.CharField(max_length=200, blank=True)
    qbo_entity = models.CharField(max_length=20)
    # The QBO company the object lives in: an Id means nothing in another company (issue 11).
    realm_id = models.CharField(max_length=40, blank=True)
    qbo_id = models.CharField(max_length=40, blank=True)
    sync_token = models.CharField(max_length=20, blank=True)
    payload_hash = models.CharField(max_length=64, blank=True)
    pending_hash = models.CharField(max_length=64, blank=True, help_text="Hash of the payload being created.")
    request_id = models.CharField(max_length=50, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.CREATING)
    extra = models.JSONField(default=dict, blank=True)  # e.g. QBO line ids of a PurchaseOrder
    last_synced_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "object_type", "procurify_id"], name="connector_externalrecord_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.object_type} {self.procurify_id} → {self.qbo_entity} {self.qbo_id or '?'}"


class HeldRecordQuerySet(models.QuerySet["HeldRecord"]):
    def for_org(self, organisation: Organisation) -> HeldRecordQuerySet:
        return self.filter(organisation=organisation)

    def open(self) -> HeldRecordQuerySet:
        """Not settled yet: held, or released and waiting for the next run to retry it."""
        return self.filter(state__in=(HeldRecord.State.HELD, HeldRecord.State.RELEASED))


class HeldRecord(models.Model):
    """A record that could not be written, why (code + sentence), and what it waits on."""

    class State(models.TextChoices):
        HELD = "held", "Held"
        RELEASED = "released", "Released"  # what it waited on was fixed; retried on the next run
        RESOLVED = "resolved", "Resolved"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="held_records")
    object_type = models.CharField(max_length=20, choices=RecordKind.choices)
    procurify_id = models.CharField(max_length=64)
    label = models.CharField(max_length=200, blank=True)
    reason_code = models.CharField(max_length=40, choices=ReasonCode.choices)
    message = models.TextField()
    waiting_on_type = models.CharField(max_length=30, blank=True)  # vendor_mapping | account_mapping | ...
    waiting_on_key = models.CharField(max_length=64, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.HELD)
    detail = models.JSONField(default=dict, blank=True)
    attempts = models.PositiveIntegerField(default=1)
    run = models.ForeignKey(SyncRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    first_held_at = models.DateTimeField(auto_now_add=True)
    last_held_at = models.DateTimeField(auto_now=True)
    released_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    objects = HeldRecordQuerySet.as_manager()

    class Meta:
        ordering = ["-last_held_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "object_type", "procurify_id"], name="connector_heldrecord_unique"
            )
        ]
        indexes = [models.Index(fields=["organisation", "state", "waiting_on_type", "waiting_on_key"])]

    def __str__(self) -> str:
        return f"{self.object_type} {self.procurify_id} {self.state}: {self.reason_code}"


class AuditEvent(models.Model):
    """Append-only: every read, decision, mapping used, request and response, per record and run."""

    class Kind(models.TextChoices):
        READ = "read", "Read"
        DECISION = "decision", "Decision"
        MAPPING = "mapping", "Mapping used"
        REQUEST = "request", "Request"
        RESPONSE = "response", "Response"
        HOLD = "hold", "Held"
        ERROR = "error", "Error"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="audit_events")
    run = models.ForeignKey(
        SyncRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_events"
    )
    object_type = models.CharField(max_length=20, blank=True)
    procurify_id = models.CharField(max_length=64, blank=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    message = models.CharField(max_length=500)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["organisation", "object_type", "procurify_id", "created_at"])]

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # The trail is evidence: a row, once written, is never changed.
        if self.pk is not None:
            raise ValueError("AuditEvent rows are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ValueError("AuditEvent rows are append-only.")


class QBODrift(models.Model):
    """An object we wrote that someone changed, deleted or paid in QuickBooks (connector/sync/drift.py).

    One row per record, reopened when it drifts again; `changes` is the field diff (before = as we left
    it in QuickBooks, after = what it holds now).
    """

    class Kind(models.TextChoices):
        CHANGED = "changed", "Changed in QuickBooks"
        DELETED = "deleted", "Deleted in QuickBooks"
        PAID = "paid", "Paid in QuickBooks"

    class State(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="qbo_drifts")
    object_type = models.CharField(max_length=20, choices=RecordKind.choices)
    procurify_id = models.CharField(max_length=64)
    label = models.CharField(max_length=200, blank=True)
    qbo_entity = models.CharField(max_length=20)
    qbo_id = models.CharField(max_length=40)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    qbo_sync_token = models.CharField(max_length=20, blank=True, help_text="QuickBooks' SyncToken now.")
    qbo_updated_at = models.CharField(max_length=40, blank=True, help_text="QuickBooks' LastUpdatedTime.")
    changes = models.JSONField(default=list, blank=True)
    qbo_now = models.JSONField(default=dict, blank=True, help_text="Our fields as QuickBooks holds them now.")
    # A Procurify change that waits on a person ("changed on both sides"): its hash, diff and fields.
    procurify = models.JSONField(default=dict, blank=True)
    metered_reads = models.PositiveIntegerField(
        default=0, help_text="Metered reads of the sweep that found it."
    )
    run = models.ForeignKey(SyncRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    detected_at = models.DateTimeField()
    resolution = models.CharField(max_length=30, blank=True)
    resolved_by = models.CharField(max_length=254, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-detected_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "object_type", "procurify_id"],
                name="connector_qbodrift_one_per_record",
            )
        ]
        indexes = [models.Index(fields=["organisation", "state"])]

    def __str__(self) -> str:
        return f"{self.object_type} {self.procurify_id} {self.kind} ({self.state})"


class MeteredUsage(models.Model):
    """QuickBooks calls Intuit meters (reads, queries, change data capture, batches: docs/qbo-facts.md,
    "Limits per company, and what is metered"), per organisation and calendar month (UTC)."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="metered_usage")
    month = models.DateField(help_text="The first day of the month (UTC).")
    reads = models.PositiveBigIntegerField(default=0)
    queries = models.PositiveBigIntegerField(default=0)
    batches = models.PositiveBigIntegerField(default=0)
    cdc = models.PositiveBigIntegerField(default=0)
    alerted_percent = models.PositiveSmallIntegerField(
        default=0, help_text="The highest budget threshold already mailed this month (0, 70 or 90)."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-month"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "month"], name="connector_meteredusage_one_per_month"
            )
        ]

    def __str__(self) -> str:
        return f"{self.organisation_id} {self.month:%Y-%m}: {self.calls} metered calls"

    @property
    def calls(self) -> int:
        return self.reads + self.queries + self.batches + self.cdc


from connector.document_summary import DocumentSummary  # noqa: E402,F401  (the finance pages' summary)
