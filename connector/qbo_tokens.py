"""QuickBooks tokens: single-flight refresh and reauth bookkeeping, below the client factory.

Intuit rotates refresh tokens and the previous one may die the moment a new one is issued
(quickbooks-online.md §1, "Rotation behaviour"). Two workers refreshing at once can therefore
lose the connection, so every refresh runs under a row lock on the Connection, re-reads the row
after taking it, and saves the new tokens before the lock is released (style.md item 9).

The client factory (connector/clients.py) hands ``qbo_token_provider`` to every QBOClient; the
connect, disconnect and keeper flows (connector/oauth.py) sit above the factory. Call these outside
an enclosing transaction: a rotated refresh token saved inside a transaction that later rolls back
is lost for good.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from connector import seam
from connector.errors import ConnectorError, NotConnected, Permanent, ReauthRequired, Retryable
from connector.qbo import auth as qbo_auth
from connector.qbo.auth import QBOOAuthConfig, TokenSet
from tenants.connection_emails import send_qbo_reauth_needed
from tenants.models import Connection, Provider, SyncSchedule

logger = logging.getLogger("connector.oauth")  # the name operators filter on; kept from before the split

# Refresh a little before expiry so a request never leaves with a token that dies in flight.
REFRESH_MARGIN = timedelta(minutes=5)
# After a transient refresh failure, wait before hammering Intuit again; doubles per failure.
FAILURE_COOLDOWN = timedelta(minutes=2)
MAX_COOLDOWN = timedelta(hours=2)
EXPIRY_WARNING_WINDOW = timedelta(days=14)

REAUTH_SENTENCE = (
    "QuickBooks no longer accepts this connection (it was disconnected in QuickBooks, expired or was "
    "revoked). Syncing is paused until an owner or admin reconnects QuickBooks."
)
PAUSED_REASON = "QuickBooks needs reconnecting."
FAILING_DAYS_SENTENCE = (
    "Refreshing the QuickBooks sign-in has failed for {days} days in a row (last error: {detail}). "
    "Syncing is paused until an owner or admin reconnects QuickBooks."
)


def qbo_oauth_config() -> QBOOAuthConfig:
    return QBOOAuthConfig(
        client_id=settings.QBO_CLIENT_ID,
        client_secret=settings.QBO_CLIENT_SECRET,
        redirect_uri=settings.QBO_REDIRECT_URI,
        authorize_url=settings.QBO_AUTHORIZE_URL,
        token_url=settings.QBO_TOKEN_URL,
        revoke_url=settings.QBO_REVOKE_URL,
        api_base=settings.QBO_API_BASE,
        environment=settings.QBO_ENVIRONMENT,
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
        and (row.access_expires_at - REFRESH_MARGIN > seam.now())
    )


def _raise_unless_usable(row: Connection) -> None:
    if row.needs_reauth:
        raise ReauthRequired(row.last_error or REAUTH_SENTENCE, code="needs_reauth")
    if not (row.realm_id and row.refresh_token):
        raise NotConnected(
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
            with seam.http_client() as http:
                tokens = qbo_auth.refresh(http, qbo_oauth_config(), row.refresh_token, clock=seam.now)
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
            store_tokens(row, tokens)
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
    wait = (row.last_refresh_failure + cooldown - seam.now()).total_seconds()
    if wait > 0:
        raise Retryable(
            "QuickBooks sign-in failed a moment ago; we will try again shortly.",
            retry_after=wait,
            code="qbo_refresh_cooldown",
        )


def store_tokens(row: Connection, tokens: TokenSet) -> None:
    """Persist a token set (rotated refresh token included) and clear failure bookkeeping."""
    now = timezone.now()
    row.access_token = tokens.access_token
    row.access_expires_at = tokens.access_expires_at
    row.refresh_token = tokens.refresh_token
    if tokens.refresh_expires_at is not None:
        row.refresh_expires_at = tokens.refresh_expires_at
        if tokens.refresh_expires_at - EXPIRY_WARNING_WINDOW > seam.now():
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
    row.last_refresh_failure = seam.now()
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
    (connector.seam.now), like token expiries, so the sandbox clock can move a streak forward.
    """
    now = seam.now()
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
