"""Organisation pages: create, dashboard, settings, members and invitations. Thin: access → form → render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from connector import activity
from connector.dashboard import context as dashboard_context
from tenants.access import OrgRequest, SignedInRequest, org_view
from tenants.emails import send_invitation
from tenants.forms import InvitationForm, MembershipRoleForm, NotificationPreferencesForm, OrganisationForm
from tenants.middleware import MembershipRequest
from tenants.models import (
    Invitation,
    Membership,
    Role,
    notification_choices,
    set_notification_choices,
)


def home(request: MembershipRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return render(request, "tenants/landing.html")
    current = request.current_membership
    if current is None:
        return redirect("tenants-create")
    return redirect("tenants-dashboard", org_id=current.organisation.public_id)


@login_required
def organisation_create(request: SignedInRequest) -> HttpResponse:
    form = OrganisationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            organisation = form.save()
            Membership.objects.create(organisation=organisation, user=request.user, role=Role.OWNER)
        messages.success(request, f"{organisation.name} is ready. Next: connect Procurify and QuickBooks.")
        return redirect("tenants-dashboard", org_id=organisation.public_id)
    return render(request, "tenants/organisation_create.html", {"form": form})


@org_view
def dashboard(request: OrgRequest) -> HttpResponse:
    organisation = request.organisation
    context = {"organisation": organisation, "org": organisation, **dashboard_context(organisation)}
    return render(request, "tenants/dashboard.html", context)


@org_view
def organisation_settings(request: OrgRequest) -> HttpResponse:
    organisation = request.organisation
    form = OrganisationForm(
        request.POST or None,
        instance=organisation,
        user=request.user,
        is_owner=request.membership.role == Role.OWNER,
    )
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Settings saved.")
        return redirect("tenants-settings", org_id=organisation.public_id)
    return render(request, "tenants/settings.html", {"organisation": organisation, "form": form})


@org_view
def members(request: OrgRequest) -> HttpResponse:
    organisation = request.organisation
    form = InvitationForm(request.POST or None, organisation=organisation)
    if request.method == "POST" and form.is_valid():
        invitation = form.save(commit=False)
        invitation.organisation = organisation
        invitation.invited_by = request.user
        invitation.save()
        send_invitation(invitation)
        messages.success(request, f"Invitation sent to {invitation.email}.")
        return redirect("tenants-members", org_id=organisation.public_id)
    context = {
        "organisation": organisation,
        "form": form,
        "members": organisation.memberships.select_related("user").order_by("user__email"),
        "invitations": organisation.invitations.filter(accepted_at__isnull=True),
        "roles": Role.choices,
    }
    return render(request, "tenants/members.html", context)


@org_view
@require_POST
def member_update(request: OrgRequest, membership_id: str) -> HttpResponse:
    organisation = request.organisation
    membership = get_object_or_404(Membership, organisation=organisation, public_id=membership_id)
    owners = organisation.memberships.filter(role=Role.OWNER)
    last_owner = membership.role == Role.OWNER and owners.count() == 1
    if request.POST.get("action") == "remove":
        if last_owner:
            messages.error(
                request, "An organisation needs at least one owner. Make someone else owner first."
            )
        else:
            membership.delete()
            activity.record(
                organisation, request.user, f"Removed {membership.user.email}", action="member_removed"
            )
            messages.success(request, f"{membership.user.email} no longer has access.")
        return redirect("tenants-members", org_id=organisation.public_id)
    form = MembershipRoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose owner, admin or viewer.")
    elif last_owner and form.cleaned_data["role"] != Role.OWNER:
        messages.error(request, "An organisation needs at least one owner. Make someone else owner first.")
    elif form.cleaned_data["role"] == Role.OWNER and request.membership.role != Role.OWNER:
        messages.error(request, "Only an owner can make someone else an owner.")
    else:
        membership.role = form.cleaned_data["role"]
        membership.save(update_fields=["role"])
        activity.record(
            organisation,
            request.user,
            f"Made {membership.user.email} {membership.get_role_display().lower()}",
            action="role_changed",
            role=membership.role,
        )
        messages.success(request, f"{membership.user.email} is now {membership.get_role_display().lower()}.")
    return redirect("tenants-members", org_id=organisation.public_id)


@org_view
@require_POST
def invitation_revoke(request: OrgRequest, invitation_id: str) -> HttpResponse:
    organisation = request.organisation
    invitation = get_object_or_404(Invitation, organisation=organisation, public_id=invitation_id)
    invitation.delete()
    messages.success(request, f"Invitation for {invitation.email} withdrawn.")
    return redirect("tenants-members", org_id=organisation.public_id)


@login_required
def invitation_accept(request: SignedInRequest, token: str) -> HttpResponse:
    invitation = get_object_or_404(Invitation.objects.select_related("organisation"), token=token)
    email_matches = request.user.email.lower() == invitation.email.lower()
    if request.method == "POST" and invitation.is_open and email_matches:
        with transaction.atomic():
            Membership.objects.get_or_create(
                organisation=invitation.organisation, user=request.user, defaults={"role": invitation.role}
            )
            invitation.accepted_at = timezone.now()
            invitation.accepted_by = request.user
            invitation.save(update_fields=["accepted_at", "accepted_by"])
        messages.success(request, f"Welcome to {invitation.organisation.name}.")
        return redirect("tenants-dashboard", org_id=invitation.organisation.public_id)
    context = {"invitation": invitation, "email_matches": email_matches}
    return render(request, "tenants/invitation.html", context)


@login_required
def organisation_list(request: SignedInRequest) -> HttpResponse:
    memberships = Membership.objects.select_related("organisation").filter(user=request.user)
    return render(request, "tenants/organisation_list.html", {"memberships": memberships})


@org_view(viewer_may_post=True)
def notifications(request: OrgRequest) -> HttpResponse:
    """Each member switches their own alert e-mails on or off; nobody else's."""
    organisation = request.organisation
    membership = request.membership
    # With every box unticked only the CSRF token is posted: bind on the method, not `request.POST or None`.
    data = request.POST if request.method == "POST" else None
    form = NotificationPreferencesForm(data, choices=notification_choices(membership))
    if request.method == "POST" and form.is_valid():
        set_notification_choices(membership, form.cleaned_data)
        messages.success(request, "Your e-mail choices are saved.")
        return redirect("tenants-notifications", org_id=organisation.public_id)
    context = {"organisation": organisation, "form": form, "membership": membership}
    return render(request, "tenants/notifications.html", context)
