"""Connection pages: overview, Procurify credentials and test, QuickBooks connect/callback/disconnect.

Thin: access helper → form/service (connector.clients, connector.oauth) → render. Secrets never go
into a template context, a message or a log line; only plain sentences about what went wrong.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_POST

from connector import activity, clients, dispatch, oauth
from connector.errors import ConnectorError
from tenants import limits
from tenants.access import OrgRequest, SignedInRequest, get_membership, org_view
from tenants.connection_forms import ProcurifyConnectionForm
from tenants.models import Connection, Organisation, Provider

# Intuit returns these on the callback when the person cancels (quickbooks-online.md §1).
_DENIED = {"access_denied", "user_denied", "consent_required"}


def _connection(organisation: Organisation, provider: str) -> Connection | None:
    return Connection.objects.filter(organisation=organisation, provider=provider).first()


def _to_overview(organisation: Organisation) -> HttpResponse:
    return redirect("tenants-connections", org_id=organisation.public_id)


@org_view
@require_GET
def overview(request: OrgRequest) -> HttpResponse:
    organisation = request.organisation
    context = {
        "organisation": organisation,
        "procurify": _connection(organisation, Provider.PROCURIFY),
        "qbo": _connection(organisation, Provider.QBO),
        "can_write": request.membership.can_write,
    }
    return render(request, "tenants/connections.html", context)


# Outermost, so even a crash inside the access check never puts the secret in an error report.
@sensitive_post_parameters("client_secret")
@org_view(writers_only=True)
def procurify_settings(request: OrgRequest) -> HttpResponse:
    organisation = request.organisation
    connection = _connection(organisation, Provider.PROCURIFY)
    data = request.POST if request.method == "POST" else None
    form = ProcurifyConnectionForm(data, connection=connection)
    if request.method == "POST" and form.is_valid():
        connection = connection or Connection(organisation=organisation, provider=Provider.PROCURIFY)
        connection.connected_by = connection.connected_by or request.user
        form.save(connection)
        activity.record(
            organisation,
            request.user,
            f"Saved the Procurify connection to {connection.site_url}",
            action="procurify_saved",
        )
        if _saved_and_tested(request, organisation, connection):
            _propose_mappings(request, organisation)
        return redirect("tenants-connections-procurify", org_id=organisation.public_id)
    context = {"organisation": organisation, "form": form, "connection": connection}
    return render(request, "tenants/connections_procurify.html", context)


def _saved_and_tested(request: HttpRequest, organisation: Organisation, connection: Connection) -> bool:
    """Saving tests the credentials at once and says what happened; a failed test still saves.

    The sentence comes from clients.check_procurify, which never includes the secret.
    """
    if refused := limits.allow(organisation, limits.TEST_CONNECTION):
        messages.warning(request, f"Procurify details saved, but not tested: {refused}")
        return False
    error = clients.check_procurify(connection)
    if error:
        messages.error(request, f"Procurify details saved, but the test failed: {error}")
        return False
    messages.success(request, "Procurify details saved and tested: the site, client ID and secret work.")
    return True


@org_view
@require_POST
def procurify_test(request: OrgRequest) -> HttpResponse:
    organisation = request.organisation
    connection = _connection(organisation, Provider.PROCURIFY)
    if connection is None:
        messages.error(request, "Enter the Procurify details first.")
        return redirect("tenants-connections-procurify", org_id=organisation.public_id)
    if refused := limits.allow(organisation, limits.TEST_CONNECTION):
        messages.warning(request, refused)
        return _to_overview(organisation)
    error = clients.check_procurify(connection)
    if error:
        messages.error(request, f"Procurify test failed: {error}")
    else:
        messages.success(request, "Procurify answered: the site, client ID and secret work.")
    # The overview and the Procurify page both carry the button; go back where it was pressed.
    target = (
        "tenants-connections" if request.POST.get("next") == "overview" else "tenants-connections-procurify"
    )
    return redirect(target, org_id=organisation.public_id)


@org_view
@require_POST
def qbo_connect(request: OrgRequest) -> HttpResponse:
    organisation = request.organisation
    if not clients.qbo_oauth_config().client_id:
        messages.error(request, "QuickBooks is not configured on this server (QBO_CLIENT_ID is missing).")
        return _to_overview(organisation)
    return redirect(oauth.authorization_redirect(request.session, organisation, request.user.pk))


@login_required
@require_GET
def qbo_callback(request: SignedInRequest) -> HttpResponse:
    """Intuit sends the browser back here (one URL for all organisations; the state says which)."""
    org_public_id = oauth.consume_authorization_state(
        request.session, request.GET.get("state", ""), request.user.pk
    )
    if org_public_id is None:
        return render(request, "tenants/connections_callback_error.html", status=400)
    # Re-check the role now: it may have changed while the person was at Intuit.
    membership = get_membership(request.user, org_public_id)
    organisation = membership.organisation
    if not membership.can_write:
        return render(request, "tenants/connections_callback_error.html", status=403)
    if request.GET.get("error"):
        if request.GET["error"] in _DENIED:
            messages.info(request, "You cancelled the connection in QuickBooks. Nothing was changed.")
        else:
            messages.error(request, "QuickBooks did not complete the connection. Please try again.")
        return _to_overview(organisation)
    try:
        outcome = oauth.complete_qbo_authorization(
            organisation, request.user, request.GET.get("code", ""), request.GET.get("realmId", "")
        )
    except ConnectorError as exc:
        messages.error(request, f"QuickBooks could not be connected: {exc.message}")
        return _to_overview(organisation)
    if outcome.warning:
        messages.warning(
            request, f"QuickBooks is connected, but reading the company failed: {outcome.warning}"
        )
    else:
        messages.success(request, f"Connected to QuickBooks company “{outcome.connection.company_name}”.")
    activity.record(
        organisation,
        request.user,
        f"Connected QuickBooks company {outcome.connection.company_name or outcome.connection.realm_id}",
        action="qbo_connected",
        realm_id=outcome.connection.realm_id,
    )
    _propose_mappings(request, organisation)
    return _to_overview(organisation)


def _propose_mappings(request: HttpRequest, organisation: Organisation) -> None:
    """Both systems connected: read their vendors and accounts now, so mappings are proposed before
    any sync (connector/sync/first_mapping.py)."""
    if dispatch.queue_reference_read(organisation):
        messages.info(
            request,
            "Reading vendors and account codes from both systems to propose mappings. "
            "Review them before you start syncing.",
        )


@login_required
@require_GET
def qbo_disconnected(request: SignedInRequest) -> HttpResponse:
    """Intuit's Disconnect URL: where the browser lands after someone disconnects us inside QuickBooks."""
    realm_id = request.GET.get("realmId", "")
    connections = oauth.check_disconnected_in_qbo(request.user, realm_id) if realm_id.isalnum() else []
    return render(request, "tenants/connections_disconnected.html", {"connections": connections})


@org_view
@require_POST
def qbo_disconnect(request: OrgRequest) -> HttpResponse:
    organisation = request.organisation
    connection = _connection(organisation, Provider.QBO)
    if connection is None or not connection.realm_id:
        messages.info(request, "QuickBooks was not connected.")
        return _to_overview(organisation)
    warning = oauth.disconnect_qbo(connection)
    activity.record(organisation, request.user, "Disconnected QuickBooks", action="qbo_disconnected")
    if warning:
        messages.warning(request, warning)
    else:
        messages.success(request, "QuickBooks is disconnected. Syncing to QuickBooks has stopped.")
    return _to_overview(organisation)


@org_view
@require_POST
def qbo_test(request: OrgRequest) -> HttpResponse:
    organisation = request.organisation
    connection = _connection(organisation, Provider.QBO)
    if connection is None or not connection.realm_id:
        messages.error(request, "Connect QuickBooks first.")
        return _to_overview(organisation)
    if refused := limits.allow(organisation, limits.TEST_CONNECTION):
        messages.warning(request, refused)
        return _to_overview(organisation)
    error = clients.check_qbo(connection)
    if error:
        messages.error(request, f"QuickBooks test failed: {error}")
    else:
        messages.success(request, f"QuickBooks answered for “{connection.company_name}”.")
    return _to_overview(organisation)
