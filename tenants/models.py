"""Who the customer is (Organisation), who works in it (Membership, Invitation) and what it has connected."""

from __future__ import annotations

import secrets
import uuid
import zoneinfo
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from tenants.fields import EncryptedTextField


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"'{value}' is not a time zone we know. Use a name like 'America/Vancouver'.")


class Organisation(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60, unique=True)
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    create_missing_vendors = models.BooleanField(
        default=True, help_text="Create a QuickBooks vendor when a Procurify vendor has no match."
    )
    closed_period_policy = models.CharField(
        max_length=30,
        default="hold",
        choices=[("hold", "Hold the bill"), ("post_on_first_open_day", "Post on the first open day")],
        help_text="A bill dated in QuickBooks' closed books: hold it, or post it on the first open day.",
    )
    require_two_factor = models.BooleanField(
        default=False,
        help_text="Every member must sign in with two-factor authentication to open this organisation.",
    )
    # The first write to QuickBooks waits for a person (connector/sync/start_gate.py): who pressed
    # "Start syncing" after a preview, and when. Empty: nothing is dispatched or queued by Sync now.
    syncing_started_at = models.DateTimeField(null=True, blank=True)
    syncing_started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    VIEWER = "viewer", "Viewer"


WRITER_ROLES = frozenset({Role.OWNER, Role.ADMIN})


class Membership(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "user"], name="tenants_membership_one_per_user")
        ]
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.user} in {self.organisation} ({self.role})"

    @property
    def can_write(self) -> bool:
        return self.role in WRITER_ROLES


def _invitation_token() -> str:
    return secrets.token_urlsafe(32)


def _invitation_expiry() -> datetime:
    return timezone.now() + timedelta(days=14)


class Invitation(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.VIEWER)
    token = models.CharField(max_length=64, unique=True, default=_invitation_token, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(default=_invitation_expiry)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Invitation for {self.email} to {self.organisation}"

    @property
    def is_open(self) -> bool:
        return self.accepted_at is None and self.expires_at > timezone.now()


class Provider(models.TextChoices):
    PROCURIFY = "procurify", "Procurify"
    QBO = "qbo", "QuickBooks Online"


class Connection(models.Model):
    """One external system of one organisation, with its credentials and refresh history together."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="connections")
    provider = models.CharField(max_length=12, choices=Provider.choices)
    environment = models.CharField(max_length=12, default="production")
    # Procurify: the customer's site and API application credentials.
    site_url = models.URLField(blank=True)
    client_id = models.CharField(max_length=200, blank=True)
    client_secret = EncryptedTextField(blank=True)
    # QBO: the company (realm) chosen during consent.
    realm_id = models.CharField(max_length=40, blank=True)
    company_name = models.CharField(max_length=200, blank=True)
    # Tokens, encrypted at rest; expiries in clear so schedulers can query them.
    access_token = EncryptedTextField(blank=True)
    access_expires_at = models.DateTimeField(null=True, blank=True)
    refresh_token = EncryptedTextField(blank=True)
    refresh_expires_at = models.DateTimeField(null=True, blank=True)
    last_refresh_success = models.DateTimeField(null=True, blank=True)
    last_refresh_failure = models.DateTimeField(null=True, blank=True)
    first_refresh_failure_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Start of the current streak of failed refreshes; cleared on success.",
    )
    refresh_fail_count = models.PositiveIntegerField(default=0)
    needs_reauth = models.BooleanField(default=False)
    reauth_notified_at = models.DateTimeField(null=True, blank=True)
    expiry_warned_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True, help_text="A sentence for the UI.")
    last_checked_at = models.DateTimeField(null=True, blank=True)
    connected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    connected_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "provider"], name="tenants_connection_one_per_provider"
            ),
            # One QuickBooks company, one organisation: two would write the same records twice. The
            # database enforces it, so two consent callbacks racing cannot both win (connector/oauth.py).
            models.UniqueConstraint(
                fields=["provider", "realm_id"],
                condition=~models.Q(realm_id=""),
                name="tenants_connection_one_org_per_realm",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_provider_display()} for {self.organisation}"

    def __repr__(self) -> str:
        # Never include secrets, even by accident in a log line or a traceback.
        return f"<Connection {self.provider} org={self.organisation_id} realm={self.realm_id or '-'}>"

    @property
    def is_connected(self) -> bool:
        if self.provider == Provider.QBO:
            return bool(self.realm_id and self.refresh_token) and not self.needs_reauth
        return bool(self.site_url and self.client_id and self.client_secret) and not self.needs_reauth


class SyncSchedule(models.Model):
    """When an organisation's pipeline runs. The beat dispatcher enqueues what is due."""

    class Mode(models.TextChoices):
        INTERVAL = "interval", "Every N minutes"
        DAILY = "daily", "Once a day at a set time"

    organisation = models.OneToOneField(Organisation, on_delete=models.CASCADE, related_name="schedule")
    enabled = models.BooleanField(default=False)
    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.INTERVAL)
    interval_minutes = models.PositiveIntegerField(default=60)
    daily_time = models.TimeField(null=True, blank=True, help_text="In the organisation's time zone.")
    # ISO weekdays a daily schedule runs on, Monday = 1 ("2,4"); empty = every day (schedule_days.py).
    weekdays = models.CharField(max_length=20, blank=True, default="")
    next_run_at = models.DateTimeField(null=True, blank=True)
    paused_reason = models.CharField(max_length=300, blank=True)

    def __str__(self) -> str:
        return f"Schedule for {self.organisation}"


class NotificationKind(models.TextChoices):
    HELD_DIGEST = "held_digest", "Records held after a sync"
    RUN_FAILED = "run_failed", "Syncs keep failing"
    REAUTH_NEEDED = "reauth_needed", "QuickBooks needs reconnecting"
    TOKEN_EXPIRY = "token_expiry", "QuickBooks sign-in expires soon"
    FIRST_SYNC = "first_sync", "The first sync finished"


class NotificationPreference(models.Model):
    """One member's explicit choice for one kind of e-mail.

    No row means the default: owners and admins (who can fix what the mail reports) get every kind,
    viewers get none until they switch one on.
    """

    membership = models.ForeignKey(
        Membership, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    kind = models.CharField(max_length=20, choices=NotificationKind.choices)
    enabled = models.BooleanField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["membership", "kind"], name="tenants_notificationpreference_one_per_kind"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {'on' if self.enabled else 'off'} for {self.membership}"


def default_enabled(membership: Membership) -> bool:
    return membership.can_write


def notification_choices(membership: Membership) -> dict[str, bool]:
    """Every kind with whether this member gets it (their choice, else the default for their role)."""
    chosen = dict(membership.notification_preferences.values_list("kind", "enabled"))
    return {kind: chosen.get(kind, default_enabled(membership)) for kind in NotificationKind.values}


def set_notification_choices(membership: Membership, choices: dict[str, bool]) -> None:
    """Store only the choices that differ from the role's default, so a role change moves the rest."""
    default = default_enabled(membership)
    for kind in NotificationKind.values:
        if kind not in choices:
            continue
        if bool(choices[kind]) == default:
            NotificationPreference.objects.filter(membership=membership, kind=kind).delete()
        else:
            NotificationPreference.objects.update_or_create(
                membership=membership, kind=kind, defaults={"enabled": bool(choices[kind])}
            )


def subscribed_members(organisation: Organisation, kind: str) -> QuerySet[Membership]:
    """Members of the organisation who want e-mails of this kind."""
    choice = NotificationPreference.objects.filter(membership=OuterRef("pk"), kind=kind).values("enabled")[:1]
    return (
        Membership.objects.filter(organisation=organisation)
        .annotate(choice=Subquery(choice))
        .filter(Q(choice=True) | Q(choice__isnull=True, role__in=WRITER_ROLES))
        .select_related("user")
    )


def subscribed_emails(organisation: Organisation, kind: str) -> list[str]:
    return sorted({m.user.email for m in subscribed_members(organisation, kind) if m.user.email})
