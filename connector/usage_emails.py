"""The metered-usage alert (connector/metering.py): sent from inside a QuickBooks call's bookkeeping, so
it sits beside the clients and needs nothing from the pages or the engine."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from connector.models import MeteredUsage
from tenants.connection_emails import notifications_context
from tenants.emails import send_templated
from tenants.models import NotificationKind, subscribed_emails


def send_metered_usage(usage: MeteredUsage, percent: int, budget: int) -> bool:
    """The organisation used ``percent``% of its monthly metered QuickBooks calls.

    Sent to the members who want "Syncs keep failing" mail: an exhausted budget stops syncs.
    """
    organisation = usage.organisation
    to = subscribed_emails(organisation, NotificationKind.RUN_FAILED)
    if not to:
        return False
    context = {
        **notifications_context(organisation),
        "organisation": organisation,
        "usage": usage,
        "percent": percent,
        "budget": budget,
        "usage_url": settings.SITE_URL + reverse("connector-usage", args=[organisation.public_id]),
    }
    send_templated("metered_usage", context, to)
    return True
