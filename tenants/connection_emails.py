"""E-mails about connections: QuickBooks needs reconnecting, and its sign-in is about to expire.

They go to the members who want them (tenants.models.NotificationPreference; by default the
owners and admins, the people who can reconnect). No token or secret is ever put in the context.
"""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from tenants.emails import send_templated
from tenants.models import Connection, NotificationKind, Organisation, subscribed_emails


def notifications_context(organisation: Organisation) -> dict[str, object]:
    """What every alert's footer needs: the page where a member changes which e-mails they get."""
    path = reverse("tenants-notifications", args=[organisation.public_id])
    return {"notifications_url": settings.SITE_URL + path}


def _context(connection: Connection, reason: str = "") -> dict[str, object]:
    organisation = connection.organisation
    url = settings.SITE_URL + reverse("tenants-connections", args=[organisation.public_id])
    return {
        "organisation": organisation,
        "company_name": connection.company_name or "your QuickBooks company",
        "url": url,
        "expires_at": connection.refresh_expires_at,
        "reason": reason,
        **notifications_context(organisation),
    }


def send_qbo_reauth_needed(connection: Connection, reason: str = "") -> None:
    """reason: a sentence saying why, when it is not the usual (disconnected, expired or revoked)."""
    recipients = subscribed_emails(connection.organisation, NotificationKind.REAUTH_NEEDED)
    if recipients:
        send_templated("connection_reauth", _context(connection, reason), recipients)


def send_qbo_expiry_warning(connection: Connection) -> None:
    recipients = subscribed_emails(connection.organisation, NotificationKind.TOKEN_EXPIRY)
    if recipients:
        send_templated("connection_expiry", _context(connection), recipients)
