"""Admin for organisations. Encrypted fields are excluded: secrets are never shown, not even masked."""

from __future__ import annotations

from django.contrib import admin
from django.db import models

from tenants.fields import EncryptedTextField
from tenants.models import Connection, Invitation, Membership, Organisation, SyncSchedule


def _secret_fields(model: type[models.Model]) -> list[str]:
    return [f.name for f in model._meta.get_fields() if isinstance(f, EncryptedTextField)]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "time_zone", "created_at"]
    search_fields = ["name", "slug"]
    inlines = [MembershipInline]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "organisation", "role", "created_at", "accepted_at"]
    exclude = ["token"]


@admin.register(Connection)
class ConnectionAdmin(admin.ModelAdmin):
    list_display = ["organisation", "provider", "realm_id", "needs_reauth", "access_expires_at"]
    list_filter = ["provider", "needs_reauth"]
    exclude = _secret_fields(Connection)
    readonly_fields = ["last_error", "last_refresh_success", "last_refresh_failure"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


admin.site.register(SyncSchedule)
