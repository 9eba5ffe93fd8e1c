"""Makes the user's current organisation (from the session) available to every template."""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from django.http import HttpRequest, HttpResponse

from tenants.access import SESSION_KEY
from tenants.models import Membership


class MembershipRequest(HttpRequest):
    """Every request after this middleware: the signed-in user's current membership, or None (a type only)."""

    current_membership: Membership | None


class CurrentOrganisationMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        cast(MembershipRequest, request).current_membership = _current_membership(request)
        return self.get_response(request)


def _current_membership(request: HttpRequest) -> Membership | None:
    if not request.user.is_authenticated:
        return None
    memberships = Membership.objects.select_related("organisation").filter(user=request.user)
    wanted = request.session.get(SESSION_KEY)
    if wanted:
        membership = memberships.filter(organisation__public_id=wanted).first()
        if membership:
            return membership
    return memberships.order_by("created_at").first()
