from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from tenants.models import Membership


def organisations(request: HttpRequest) -> dict[str, Any]:
    """The current organisation and the user's other ones, for the switcher in the header."""
    current = getattr(request, "current_membership", None)
    if not request.user.is_authenticated:
        return {"current_membership": None, "user_memberships": []}
    memberships = Membership.objects.select_related("organisation").filter(user=request.user)
    return {
        "current_membership": current,
        "user_memberships": list(memberships.order_by("organisation__name")),
    }
