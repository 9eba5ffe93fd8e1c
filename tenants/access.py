"""The one way views reach tenant data.

`org_view` resolves the organisation from the URL's public UUID and the signed-in user's membership:
an outsider gets 404 (we do not confirm the organisation exists), a viewer attempting a write
(any unsafe HTTP method) gets 403. The decorator marks the view so the tenant-wall test can
prove every organisation URL is protected.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any, cast, overload

from allauth.mfa.models import Authenticator
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.utils import timezone

from accounts.models import User
from tenants.models import Membership, Organisation

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SESSION_KEY = "current_organisation"


class SignedInRequest(HttpRequest):
    """The request `login_required` (or `org_view`) lets through: its user is a real User, never anonymous.

    Like OrgRequest, a type only: at run time it is the ordinary HttpRequest.
    """

    user: User


class OrgRequest(SignedInRequest):
    """The request an `org_view` hands its view: signed in, its organisation and membership resolved.

    A type only: at run time it is the ordinary HttpRequest, on which `org_view` sets the two attributes.
    """

    organisation: Organisation
    membership: Membership


def get_membership(user: Any, org_id: uuid.UUID | str) -> Membership:
    """The user's membership of the organisation, or 404 for anyone who is not a member."""
    if not getattr(user, "is_authenticated", False):
        raise Http404("No such organisation.")
    membership = (
        Membership.objects.select_related("organisation")
        .filter(user=user, organisation__public_id=org_id)
        .first()
    )
    if membership is None:
        raise Http404("No such organisation.")
    return membership


def get_org_for_user(user: Any, org_id: uuid.UUID | str) -> Organisation:
    return get_membership(user, org_id).organisation


def get_writable_org_for_user(user: Any, org_id: uuid.UUID | str) -> Organisation:
    membership = get_membership(user, org_id)
    if not membership.can_write:
        raise PermissionDenied("Only owners and admins can change this organisation.")
    return membership.organisation


def has_two_factor(user: Any) -> bool:
    """The user has an authenticator app (TOTP) set up with allauth.mfa."""
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def _two_factor_first(request: HttpRequest, organisation: Organisation) -> HttpResponse | None:
    """An organisation that requires two-factor sends a member without it to set it up first."""
    if not organisation.require_two_factor or has_two_factor(request.user):
        return None
    messages.warning(
        request, f"{organisation.name} requires two-factor authentication. Set it up to continue."
    )
    return redirect("mfa_activate_totp")


View = Callable[..., HttpResponseBase]


@overload
def org_view(view: View, *, viewer_may_post: bool = False, writers_only: bool = False) -> View: ...


@overload
def org_view(
    view: None = None, *, viewer_may_post: bool = False, writers_only: bool = False
) -> Callable[[View], View]: ...


def org_view(
    view: View | None = None,
    *,
    viewer_may_post: bool = False,
    writers_only: bool = False,
) -> View | Callable[[View], View]:
    """Protect a view whose URL carries `org_id`; sets request.organisation and request.membership.

    viewer_may_post: a viewer may POST here (e.g. their own notification preferences).
    writers_only: even reading the page needs owner/admin (e.g. connection set-up forms).
    """

    def decorate(func: View) -> View:
        @wraps(func)
        def wrapper(request: HttpRequest, org_id: uuid.UUID, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            membership = get_membership(request.user, org_id)
            if needs := _two_factor_first(request, membership.organisation):
                return needs
            is_write = request.method not in SAFE_METHODS and not viewer_may_post
            if (is_write or writers_only) and not membership.can_write:
                raise PermissionDenied("Only owners and admins can do this.")
            org_request = cast(OrgRequest, request)
            org_request.organisation = membership.organisation
            org_request.membership = membership
            request.session[SESSION_KEY] = str(membership.organisation.public_id)
            # Finance people read dates in their books' time zone, not the server's.
            with timezone.override(membership.organisation.time_zone):
                return func(request, *args, **kwargs)

        wrapper.tenant_access = {  # type: ignore[attr-defined]  # a function marker the tenant-wall test reads
            "viewer_may_post": viewer_may_post,
            "writers_only": writers_only,
        }
        return wrapper

    if view is not None:
        return decorate(view)
    return decorate
