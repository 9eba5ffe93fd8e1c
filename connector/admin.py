"""Read-only admin for runs, cursors, external records, holds and the audit trail."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from connector.models import AuditEvent, ExternalRecord, HeldRecord, SyncCursor, SyncRun


class ReadOnlyAdmin(admin.ModelAdmin):
    # Sync state is written by the engine only; editing it by hand breaks exactly-once.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyAdmin):
    list_display = ("public_id", "organisation", "status", "trigger", "step", "started_at", "finished_at")
    list_filter = ("status", "trigger")


@admin.register(SyncCursor)
class SyncCursorAdmin(ReadOnlyAdmin):
    list_display = ("organisation", "stream", "value", "version", "updated_at")


@admin.register(ExternalRecord)
class ExternalRecordAdmin(ReadOnlyAdmin):
    list_display = (
        "organisation",
        "object_type",
        "procurify_id",
        "qbo_entity",
        "qbo_id",
        "state",
        "last_synced_at",
    )
    list_filter = ("object_type", "state")
    search_fields = ("procurify_id", "qbo_id", "label")


@admin.register(HeldRecord)
class HeldRecordAdmin(ReadOnlyAdmin):
    list_display = (
        "organisation",
        "object_type",
        "label",
        "reason_code",
        "state",
        "attempts",
        "last_held_at",
    )
    list_filter = ("state", "reason_code")
    search_fields = ("procurify_id", "label")


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "organisation", "kind", "object_type", "procurify_id", "message")
    list_filter = ("kind", "object_type")
    search_fields = ("procurify_id", "message")
