"""QuickBooks token lifecycle: connect, single-flight refresh, reauth bookkeeping, disconnect.

Intuit rotates refresh tokens and the previous one may die the moment a new one is issued
(quickbooks-online.md §1, "Rotation behaviour"). Two workers refreshing at once can therefore
lose the connection, so every refresh runs under a row lock on the Connection, re-reads the row
after taking it, and saves the new tokens before the lock is released (style.md item 9).

Call these outside an enclosing transaction: a rotated refresh token saved inside a transaction
that later rolls back is lost for good.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from connector import clients
from connector.errors import ConnectorError, Permanent, ReauthRequired, Retryable
from connector.qbo import auth as qbo_auth
from connector.qbo.auth import TokenSet
from tenants.connection_emails import send_qbo_expiry_warning, send_qbo_reauth_needed
from tenants.models import WRITER_ROLES, Connection, Organisation, Provider, SyncSchedule

logger = logging.getLogger("connector.oauth")

# Refresh a little before expiry so a request never leaves with a token that dies in flight.
REFRESH_MARGIN = timedelta(minutes=5)
# After a transient refresh failure, wait before hammering Intuit again; doubles per failure.
FAILURE_COOLDOWN = timedelta(minutes=2)
MAX_COOLDOWN = timedelta(hours=2)
# The refresh token's 100-day window rolls on every use; refresh idle connections well before.
IDLE_REFRESH_AFTER = timedelta(days=7)
EXPIRY_WARNING_WINDOW = timedelta(days=14)
STATE_TTL_SECONDS = 600
STATE_SESSION_KEY = "qbo_oauth_states"
MAX_PENDING_STATES = 5

REAUTH_SENTENCE = (
    "QuickBooks no longer accepts this connection (it was disconnected in QuickBooks, expired or was "
    "revoked). Syncing is paused until an owner or admin reconnects QuickBooks."
)
PAUSED_REASON = "QuickBooks needs reconnecting."
FAILING_DAYS_SENTENCE = (
    "Refreshing the QuickBooks sign-in has failed for {days} days in a row (last error: {detail}). "
    "Syncing is paused until an owner or admin reconnects QuickBooks."
)


# ---- the refresh path ----------------------------------------------------------------------


def ensure_fresh_qbo_token(
    connection_id: int, *, force: bool = False, failed_token: str | None = None
) -> str:
    """A QBO access token good for at least REFRESH_MARGIN; refreshes under a row lock when needed.

    force=True (after a 401) refreshes even if the stored token looks fresh, unless another worker
    has already replaced ``failed_token`` (the one that got the 401) meanwhile.
    """
    row = Connection.objects.get(pk=connection_id, provider=Provider.QBO)
    _raise_unless_usable(row)
    if not force and _is_fresh(row):
        return row.access_token
    return _refresh_locked(connection_id, force=force, failed_token=failed_token or row.access_token)


def qbo_token_provider(connection_id: int) -> Callable[[bool], str]:
    """The ``token_provider`` QBOClient calls: remembers the token it handed out, so a 401 on it
    forces a refresh while a token another worker just rotated in is reused."""
    last: dict[str, str] = {}

    def provide(force_refresh: bool) -> str:
        token = ensure_fresh_qbo_token(connection_id, force=force_refresh, failed_token=last.get("token"))
        last["token"] = token
        return token

    return provide


def _is_fresh(row: Connection) -> bool:
    return (
        bool(row.access_token)
        and row.access_expires_at is not None
        and (row.access_expires_at - REFRESH_MARGIN > clients.now())
    )


def _raise_unless_usable(row: Connection) -> None:
    if row.needs_reauth:
        raise ReauthRequired(row.last_error or REAUTH_SENTENCE, code="needs_reauth")
    if not (row.realm_id and row.refresh_token):
        raise clients.NotConnected(
            "QuickBooks is not connected yet. Connect it on the Connections page.", code="not_connected"
        )


def _refresh_locked(connection_id: int, *, force: bool, failed_token: str) -> str:
    error: ConnectorError | None = None
    notify, reason = False, ""
    with transaction.atomic():
        row = Connection.objects.select_for_update().get(pk=connection_id)
        # Re-read under the lock: another worker may have refreshed while we waited.
        _raise_unless_usable(row)
        rotated_by_someone_else = row.access_token != failed_token
        if _is_fresh(row) and (not force or rotated_by_someone_else):
            return row.access_token
        _raise_if_cooling_down(row)
        try:
            with clients.http_client() as http:
                tokens = qbo_auth.refresh(
                    http, clients.qbo_oauth_config(), row.refresh_token, clock=clients.now
                )
        except ReauthRequired as exc:
            notify = _mark_needs_reauth(row)
            error = exc
        except (Retryable, Permanent) as exc:
            notify = _record_refresh_failure(row, exc)
            error = exc
            if row.needs_reauth:  # the failing-days rule gave up on this connection
                error = ReauthRequired(row.last_error, code="qbo_refresh_failing_days")
                reason = row.last_error
        else:
            _store_tokens(row, tokens)
            return tokens.access_token
    # Outside the lock: the bookkeeping above is committed; e-mail at most once per lapse.
    if notify:
        send_qbo_reauth_needed(row, reason=reason)
    assert error is not None
    raise error


def _raise_if_cooling_down(row: Connection) -> None:
    if not row.refresh_fail_count or row.last_refresh_failure is None:
        return
    cooldown = min(FAILURE_COOLDOWN * 2 ** (row.refresh_fail_count - 1), MAX_COOLDOWN)
    wait = (row.last_refresh_failure + cooldown - clients.now()).total_seconds()
    if wait > 0:
        raise Retryable(
            "QuickBooks sign-in failed a moment ago; we will try again shortly.",
            retry_after=wait,
            code="qbo_refresh_cooldown",
        )


def _store_tokens(row: Connection, tokens: TokenSet) -> None:
    """Persist a token set (rotated refresh token included) and clear failure bookkeeping."""
    now = timezone.now()
    row.access_token = tokens.access_token
    row.access_expires_at = tokens.access_expires_at
    row.refresh_token = tokens.refresh_token
    if tokens.refresh_expires_at is not None:
        row.refresh_expires_at = tokens.refresh_expires_at
        if tokens.refresh_expires_at - EXPIRY_WARNING_WINDOW > clients.now():
            row.expiry_warned_at = None  # the window rolled forward; warn again next time it closes in
    row.last_refresh_success = now
    row.last_refresh_failure = None
    row.first_refresh_failure_at = None
    row.refresh_fail_count = 0
    row.needs_reauth = False
    row.reauth_notified_at = None
    row.last_error = ""
    row.save()


def _mark_needs_reauth(row: Connection, sentence: str = REAUTH_SENTENCE) -> bool:
    """Flag the connection, pause its syncs; True when the owners have not been told yet."""
    now = timezone.now()
    first_time = row.reauth_notified_at is None
    row.needs_reauth = True
    row.last_error = sentence[:500]
    row.last_refresh_failure = clients.now()
    row.access_token = ""
    row.access_expires_at = None
    if first_time:
        row.reauth_notified_at = now
    row.save()
    SyncSchedule.objects.filter(organisation_id=row.organisation_id).update(paused_reason=PAUSED_REASON)
    logger.warning("QBO connection %s needs reauthorisation", row.pk)
    return first_time


def _record_refresh_failure(row: Connection, exc: ConnectorError) -> bool:
    """Count a failed refresh that Intuit did not call final (5xx, timeout, other 4xx).

    A streak that has lasted QBO_REFRESH_FAIL_DAYS with no success in between is treated like
    invalid_grant (style.md item 9): needs_reauth, syncs paused. Returns True when the owners and
    admins should be e-mailed (once per lapse). Failure times follow the API clock
    (connector.clients.now), like token expiries, so the sandbox clock can move a streak forward.
    """
    now = clients.now()
    row.last_refresh_failure = now
    row.first_refresh_failure_at = row.first_refresh_failure_at or now
    row.refresh_fail_count += 1
    row.last_error = f"Refreshing the QuickBooks sign-in failed: {exc.message}"[:500]
    row.save(
        update_fields=[
            "last_refresh_failure",
            "first_refresh_failure_at",
            "refresh_fail_count",
            "last_error",
            "updated_at",
        ]
    )
    logger.warning("QBO refresh failed for connection %s (%s)", row.pk, exc.code)
    days = settings.QBO_REFRESH_FAIL_DAYS
    if now - row.first_refresh_failure_at < timedelta(days=days):
        return False
    return _mark_needs_reauth(row, FAILING_DAYS_SENTENCE.format(days=days, detail=exc.message))


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
    return qbo_auth.authorization_url(clients.qbo_oauth_config(), state)


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
    with clients.http_client(interactive=True) as http:
        tokens = qbo_auth.exchange_code(http, clients.qbo_oauth_config(), code, clock=clients.now)
    try:
        with transaction.atomic():
            # Lock like a refresh does, so a worker mid-refresh cannot overwrite the new grant's tokens.
            connection, _ = Connection.objects.get_or_create(organisation=organisation, provider=Provider.QBO)
            connection = Connection.objects.select_for_update().get(pk=connection.pk)
            connection.realm_id = realm_id
            connection.environment = clients.qbo_oauth_config().environment
            connection.connected_by = user
            connection.connected_at = timezone.now()
            connection.expiry_warned_at = None
            _store_tokens(connection, tokens)
    except IntegrityError:
        # Another organisation connected this company between our check and our save.
        _refuse_shared_company(organisation, realm_id)
        raise
    SyncSchedule.objects.filter(organisation=organisation, paused_reason=PAUSED_REASON).update(
        paused_reason=""
    )
    warning = clients.check_qbo(connection)
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
            with clients.http_client(interactive=True) as http:
                qbo_auth.revoke(http, clients.qbo_oauth_config(), token)
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
        refresh_expires_at__lte=clients.now() + EXPIRY_WARNING_WINDOW,
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
