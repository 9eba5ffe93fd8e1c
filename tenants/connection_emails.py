"""E-mails about connections: QuickBooks needs reconnecting, and its sign-in is about to expire.

They go to the organisation's owners and admins, the people who can reconnect. No token or
secret is ever put in the context.
"""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from tenants.emails import send_templated
from tenants.models import WRITER_ROLES, Connection


def writer_emails(connection: Connection) -> list[str]:
    memberships = connection.organisation.memberships.filter(role__in=WRITER_ROLES).select_related("user")
    return sorted({m.user.email for m in memberships if m.user.email})


def _context(connection: Connection) -> dict[str, object]:
    organisation = connection.organisation
    url = settings.SITE_URL + reverse("tenants-connections", args=[organisation.public_id])
    return {
        "organisation": organisation,
        "company_name": connection.company_name or "your QuickBooks company",
        "url": url,
        "expires_at": connection.refresh_expires_at,
    }


def send_qbo_reauth_needed(connection: Connection) -> None:
    recipients = writer_emails(connection)
    if recipients:
        send_templated("connection_reauth", _context(connection), recipients)


def send_qbo_expiry_warning(connection: Connection) -> None:
    recipients = writer_emails(connection)
    if recipients:
        send_templated("connection_expiry", _context(connection), recipients)
