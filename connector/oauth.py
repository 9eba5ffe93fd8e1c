"""QuickBooks connect, disconnect and the daily token keeper, above the client factory.

The refresh path itself (single-flight under a row lock, reauth bookkeeping) lives below the
factory in connector/qbo_tokens.py; its two entry points are re-exported here for existing callers.
Call these outside an enclosing transaction: a rotated refresh token saved inside a transaction
that later rolls back is lost for good.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import MutableMapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from connector import seam
from connector.clients import check_qbo
from connector.errors import ConnectorError, Permanent, ReauthRequired
from connector.qbo import auth as qbo_auth
from connector.qbo_tokens import EXPIRY_WARNING_WINDOW, PAUSED_REASON, qbo_oauth_config, store_tokens
from connector.qbo_tokens import ensure_fresh_qbo_token as ensure_fresh_qbo_token
from connector.qbo_tokens import qbo_token_provider as qbo_token_provider
from tenants.connection_emails import send_qbo_expiry_warning
from tenants.models import WRITER_ROLES, Connection, Organisation, Provider, SyncSchedule

logger = logging.getLogger("connector.oauth")

# The refresh token's 100-day window rolls on every use; refresh idle connections well before.
IDLE_REFRESH_AFTER = timedelta(days=7)
STATE_TTL_SECONDS = 600
STATE_SESSION_KEY = "qbo_oauth_states"
MAX_PENDING_STATES = 5


# ---- connect: state bound to the session, the user and the organisation --------------------


def new_authorization_state(
    session: MutableMapping[str, Any], organisation: Organisation, user_id: int
) -> str:
    """A single-use random state, remembered in the session with its organisation and user."""
    state = secrets.token_urlsafe(32)
    pending = dict(session.get(STATE_SESSION_KEY, {}))
    # Keep only the newest few, so abandoned attempts do not pile up in the session.
    newest = sorted(pending.items(), key=lambda item: item[1]["expires"])[-(MAX_PENDING_STATES - 1) :]
    pending = dict(newest)
    pending[state] = {
        "org": str(organisation.public_id),
        "user": user_id,
        "expires": time.time() + STATE_TTL_SECONDS,
    }
    session[STATE_SESSION_KEY] = pending
    return state


def authorization_redirect(
    session: MutableMapping[str, Any], organisation: Organisation, user_id: int
) -> str:
    state = new_authorization_state(session, organisation, user_id)
    return qbo_auth.authorization_url(qbo_oauth_config(), state)


def consume_authorization_state(session: MutableMapping[str, Any], state: str, user_id: int) -> str | None:
    """The organisation public id the state was issued for, or None if forged, replayed, expired or
    issued to someone else. The state is removed either way (single use)."""
    pending = dict(session.get(STATE_SESSION_KEY, {}))
    entry = pending.pop(state, None) if state else None
    session[STATE_SESSION_KEY] = pending
    if entry is None or entry.get("user") != user_id or entry.get("expires", 0) < time.time():
        return None
    return str(entry["org"])


@dataclass(frozen=True)
class ConnectOutcome:
    connection: Connection
    warning: str | None = None


def complete_qbo_authorization(
    organisation: Organisation, user: Any, code: str, realm_id: str
) -> ConnectOutcome:
    """Exchange the code, store realm and tokens, read the company's name."""
    if not realm_id.isalnum():
        raise Permanent("QuickBooks did not say which company was chosen. Please try again.", code="no_realm")
    existing = Connection.objects.filter(organisation=organisation, provider=Provider.QBO).first()
    if existing and existing.realm_id and existing.realm_id != realm_id:
        # Records already synced carry ids from the first company; mixing companies corrupts both.
        raise Permanent(
            "This organisation is linked to the QuickBooks company "
            f"'{existing.company_name or existing.realm_id}'. "
            "Reconnect that same company, or disconnect it first to switch companies.",
            code="other_realm",
        )
    _refuse_shared_company(organisation, realm_id)
    with seam.http_client(interactive=True) as http:
        tokens = qbo_auth.exchange_code(http, qbo_oauth_config(), code, clock=seam.now)
    try:
        with transaction.atomic():
            # Lock like a refresh does, so a worker mid-refresh cannot overwrite the new grant's tokens.
            connection, _ = Connection.objects.get_or_create(organisation=organisation, provider=Provider.QBO)
            connection = Connection.objects.select_for_update().get(pk=connection.pk)
            connection.realm_id = realm_id
            connection.environment = qbo_oauth_config().environment
            connection.connected_by = user
            connection.connected_at = timezone.now()
            connection.expiry_warned_at = None
            store_tokens(connection, tokens)
    except IntegrityError:
        # Another organisation connected this company between our check and our save.
        _refuse_shared_company(organisation, realm_id)
        raise
    SyncSchedule.objects.filter(organisation=organisation, paused_reason=PAUSED_REASON).update(
        paused_reason=""
    )
    warning = check_qbo(connection)
    connection.refresh_from_db()
    return ConnectOutcome(connection, warning)


def _refuse_shared_company(organisation: Organisation, realm_id: str) -> None:
    """One QuickBooks company, one organisation: two organisations polling into one company write
    the same purchase orders and bills twice (issue 11)."""
    other = (
        Connection.objects.filter(provider=Provider.QBO, realm_id=realm_id)
        .exclude(organisation=organisation)
        .select_related("organisation")
        .first()
    )
    if other is None:
        return
    company = other.company_name or "this QuickBooks company"
    raise Permanent(
        f"{company} is already connected to the organisation '{other.organisation.name}' here. Two "
        "organisations writing into one QuickBooks company would enter the same bills twice. Disconnect "
        "it there first, or connect a different company.",
        code="company_in_use",
    )


# ---- disconnect ----------------------------------------------------------------------------


def disconnect_qbo(connection: Connection) -> str | None:
    """Revoke at Intuit, then clear local tokens whatever Intuit said; a warning if revoking failed."""
    token = connection.refresh_token or connection.access_token
    warning: str | None = None
    if token:
        try:
            with seam.http_client(interactive=True) as http:
                qbo_auth.revoke(http, qbo_oauth_config(), token)
        except ConnectorError as exc:
            warning = (
                "We removed the connection here, but QuickBooks did not confirm the disconnection "
                f"({exc.message}). You can also remove the app in QuickBooks under Apps → My apps."
            )
    Connection.objects.filter(pk=connection.pk).update(
        access_token="",
        access_expires_at=None,
        refresh_token="",
        refresh_expires_at=None,
        realm_id="",
        company_name="",
        needs_reauth=False,
        reauth_notified_at=None,
        expiry_warned_at=None,
        refresh_fail_count=0,
        last_refresh_failure=None,
        first_refresh_failure_at=None,
        last_error="",
        updated_at=timezone.now(),
    )
    return warning


# ---- the daily keeper ----------------------------------------------------------------------


def keep_qbo_tokens_alive() -> dict[str, int]:
    """Refresh idle connections before their rolling window lapses; warn once when hard expiry nears."""
    counts = {"refreshed": 0, "failed": 0, "warned": 0}
    # Bookkeeping times are wall-clock; token expiries follow the (possibly fake) API clock.
    idle_since = timezone.now() - IDLE_REFRESH_AFTER
    live = Connection.objects.filter(provider=Provider.QBO, needs_reauth=False).exclude(realm_id="")
    for row in live:
        last_used = row.last_refresh_success or row.connected_at
        if last_used is None or last_used <= idle_since:
            try:
                ensure_fresh_qbo_token(row.pk, force=True)
                counts["refreshed"] += 1
            except ConnectorError:
                counts["failed"] += 1  # recorded on the row; one tenant must not stop the others
    soon = Connection.objects.filter(
        provider=Provider.QBO,
        needs_reauth=False,
        expiry_warned_at__isnull=True,
        refresh_expires_at__lte=seam.now() + EXPIRY_WARNING_WINDOW,
    ).exclude(realm_id="")
    for row in soon:
        # Claim the warning first so two keepers running at once send one e-mail.
        if Connection.objects.filter(pk=row.pk, expiry_warned_at__isnull=True).update(
            expiry_warned_at=timezone.now()
        ):
            send_qbo_expiry_warning(row)
            counts["warned"] += 1
    return counts


# ---- Intuit's "Disconnect URL" ---------------------------------------------------------------


def check_disconnected_in_qbo(user: Any, realm_id: str) -> list[Connection]:
    """Someone disconnected the app inside QuickBooks and Intuit sent their browser to us.

    The visit itself proves nothing (anyone can open the URL), so nothing is flagged on its say-so:
    for each of the visitor's own organisations linked to that company we force one refresh, and only
    Intuit's invalid_grant marks the connection as needing reconnecting (with the usual one e-mail).
    Returns the connections that turned out to be disconnected.
    """
    candidates = Connection.objects.filter(
        provider=Provider.QBO,
        realm_id=realm_id,
        organisation__memberships__user=user,
        organisation__memberships__role__in=WRITER_ROLES,
    ).select_related("organisation")
    disconnected = []
    for connection in candidates:
        if connection.needs_reauth:
            disconnected.append(connection)
            continue
        try:
            ensure_fresh_qbo_token(connection.pk, force=True, failed_token=connection.access_token)
        except ReauthRequired:
            connection.refresh_from_db()
            disconnected.append(connection)
        except ConnectorError:
            logger.warning("Could not check QBO connection %s after a disconnect notice", connection.pk)
    return disconnected
