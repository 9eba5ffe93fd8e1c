"""Factories that turn an organisation's Connection row into a ready API client.

The sync engine and the connection pages build clients only here, so there is one seam for tests
and the demo: ``use_transport(sb.transport())`` routes every client these factories build through
an in-process httpx transport (style.md item 2), and its optional ``clock`` lets token-expiry maths
follow the sandbox's clock.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import httpx
from django.conf import settings
from django.utils import timezone

from connector import netguard
from connector.errors import ConnectorError, Permanent, ReauthRequired, Retryable
from connector.http import DEFAULT_TIMEOUT, build_client
from connector.metering import meter_for
from connector.procurify.auth import AccessToken, BadCredentials
from connector.procurify.client import ProcurifyClient
from connector.qbo.auth import QBOOAuthConfig
from connector.qbo.client import QBOClient
from connector.qbo.governor import shared_governor
from tenants.models import Connection, Organisation, Provider

# Interactive checks ("Test connection") must answer while the person waits: no retry loop,
# a short timeout. The sync engine keeps the client defaults.
INTERACTIVE_TIMEOUT = httpx.Timeout(connect=5.0, read=15.0, write=10.0, pool=5.0)


class NotConnected(Permanent):
    """The organisation has no usable connection for this system; a person has to set it up."""


@dataclass
class _Seam:
    transport: httpx.BaseTransport | None = None
    clock: Callable[[], datetime] | None = None
    sleep: Callable[[float], None] | None = None  # tests skip real back-off waits


_seam = _Seam()
_seam_lock = threading.Lock()


def set_transport(
    transport: httpx.BaseTransport | None,
    *,
    clock: Callable[[], datetime] | None = None,
    sleep: Callable[[float], None] | None = None,
) -> None:
    """Route every client built here through ``transport`` (None: the real network)."""
    with _seam_lock:
        _seam.transport = transport
        _seam.clock = clock
        _seam.sleep = sleep


@contextmanager
def use_transport(
    transport: httpx.BaseTransport,
    *,
    clock: Callable[[], datetime] | None = None,
    sleep: Callable[[float], None] | None = None,
) -> Iterator[httpx.BaseTransport]:
    previous = (_seam.transport, _seam.clock, _seam.sleep)
    set_transport(transport, clock=clock, sleep=sleep)
    try:
        yield transport
    finally:
        set_transport(previous[0], clock=previous[1], sleep=previous[2])


def now() -> datetime:
    """The time token expiries are judged by: the seam's clock in tests, else Django's."""
    return _seam.clock() if _seam.clock is not None else timezone.now()


def http_client(*, interactive: bool = False, procurify: bool = False) -> httpx.Client:
    """An httpx client from the one HTTP seam; callers close it (use it as a context manager).

    ``procurify``: the address is tenant-typed, so the SSRF guard (connector.netguard) applies.
    """
    timeout = INTERACTIVE_TIMEOUT if interactive else DEFAULT_TIMEOUT
    guard = netguard.Policy.from_settings() if procurify else None
    return build_client(transport=_seam.transport, timeout=timeout, guard=guard)


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


def get_connection(connection_or_org: Connection | Organisation, provider: str) -> Connection:
    """The organisation's connection for ``provider``, or NotConnected."""
    if isinstance(connection_or_org, Connection):
        if connection_or_org.provider != provider:
            raise ValueError(f"expected a {provider} connection, got {connection_or_org.provider}")
        return connection_or_org
    connection = Connection.objects.filter(organisation=connection_or_org, provider=provider).first()
    if connection is None:
        name = Provider(provider).label
        raise NotConnected(
            f"{name} is not connected yet. Connect it on the Connections page.", code="not_connected"
        )
    return connection


# ---- Procurify ------------------------------------------------------------------------------


class ConnectionTokenStore:
    """Procurify's 24-hour access token, cached encrypted on the Connection row with its expiry."""

    def __init__(self, connection_id: int) -> None:
        self.connection_id = connection_id

    def load(self) -> AccessToken | None:
        row = (
            Connection.objects.filter(pk=self.connection_id).only("access_token", "access_expires_at").first()
        )
        if row is None or not row.access_token or row.access_expires_at is None:
            return None
        return AccessToken(value=row.access_token, expires_at=row.access_expires_at)

    def save(self, token: AccessToken) -> None:
        # .update() goes through EncryptedTextField.get_prep_value, so the token is stored encrypted.
        Connection.objects.filter(pk=self.connection_id).update(
            access_token=token.value, access_expires_at=token.expires_at
        )


def procurify_client_for(
    connection_or_org: Connection | Organisation, *, http: httpx.Client | None = None, max_attempts: int = 4
) -> ProcurifyClient:
    connection = get_connection(connection_or_org, Provider.PROCURIFY)
    if not (connection.site_url and connection.client_id and connection.client_secret):
        raise NotConnected(
            "Procurify is not set up yet. Enter the site address, client ID and secret on the "
            "Connections page.",
            code="not_connected",
        )
    # Fail fast, whatever ``http`` the caller passed: the stored address must still be allowed
    # (it may predate the guard); the guarded transport checks every request again.
    policy = netguard.Policy.from_settings()
    netguard.check_url(connection.site_url, policy)
    if settings.PROCURIFY_TOKEN_URL:
        netguard.check_url(settings.PROCURIFY_TOKEN_URL, policy)
    return ProcurifyClient(
        connection.site_url,
        connection.client_id,
        connection.client_secret,
        ConnectionTokenStore(connection.pk),
        http=http or http_client(procurify=True),
        token_url=settings.PROCURIFY_TOKEN_URL or None,
        clock=now,
        max_attempts=max_attempts,
        sleep=_seam.sleep or time.sleep,
    )


# ---- QuickBooks -----------------------------------------------------------------------------


def qbo_client_for(
    connection_or_org: Connection | Organisation, *, http: httpx.Client | None = None, max_attempts: int = 4
) -> QBOClient:
    from connector.oauth import qbo_token_provider  # oauth imports this module

    connection = get_connection(connection_or_org, Provider.QBO)
    if not (connection.realm_id and connection.refresh_token):
        raise NotConnected(
            "QuickBooks is not connected yet. Connect it on the Connections page.", code="not_connected"
        )
    if connection.needs_reauth:
        raise ReauthRequired(
            "QuickBooks needs reconnecting. Use Reconnect on the Connections page.", code="needs_reauth"
        )
    return QBOClient(
        qbo_oauth_config().api_base,
        connection.realm_id,
        qbo_token_provider(connection.pk),
        http=http or http_client(),
        max_attempts=max_attempts,
        clock=now,
        sleep=_seam.sleep or time.sleep,
        governor=shared_governor(),  # one budget per company across every worker process
        on_metered=meter_for(connection.organisation_id),
    )


# ---- "Test connection": one call, an answer in plain words ------------------------------


def explain_procurify_error(exc: Exception, site_url: str) -> str:
    """A sentence a finance admin can act on, for each way a Procurify check can fail.

    It names the kind of failure and never repeats what the remote server said (issue 12: an
    internal service's reply must not reach the page).
    """
    status = getattr(exc, "status", None)
    code = getattr(exc, "code", None) or ""
    if isinstance(exc, netguard.BlockedAddress):
        return f"We did not contact {site_url}: {exc.clause}"
    if isinstance(exc, BadCredentials):
        return (
            f"Procurify did not accept the client ID and secret (HTTP {status}). Check that you copied both "
            "from Settings → Integrations → Procurify API, and that the user who created the application "
            "is active."
        )
    if code == "redirect_refused":
        return (
            f"The site at {site_url} answered with a redirect (HTTP {status}), which we do not follow. Check "
            "the address: it looks like https://yourcompany.procurify.com."
        )
    if status == 404:
        return (
            f"We could not find a Procurify site at {site_url}. Check the address: it looks like "
            "https://yourcompany.procurify.com."
        )
    if status == 403:
        return (
            "Procurify accepted the credentials but refused to share data (no API access). The user who "
            "created the API application needs a role that can see vendors, account codes and bills."
        )
    if isinstance(exc, ReauthRequired):
        return "Procurify issued a token but then refused it. Check that the API application is still active."
    if isinstance(exc, Retryable) and code == "network":
        return f"We could not reach {site_url}. Check the address, or try again in a few minutes."
    if isinstance(exc, Retryable):
        return "Procurify is busy or unavailable at the moment. Try again in a few minutes."
    if code.startswith("malformed") or isinstance(exc, ValueError):
        return (
            f"The site at {site_url} answered, but not the way Procurify's API does. Check that the address "
            "is your Procurify site."
        )
    if status is not None:
        return f"Procurify refused the request (HTTP {status}). Check the site address, client ID and secret."
    if isinstance(exc, ConnectorError):
        return exc.message
    return f"We could not reach {site_url}. Check the address, or try again in a few minutes."


def check_procurify(connection: Connection) -> str | None:
    """Fetch a token and one page of vendors; store and return the failure sentence (None when fine)."""
    error: str | None = None
    try:
        with http_client(interactive=True, procurify=True) as http:
            procurify_client_for(connection, http=http, max_attempts=1).ping()
    except NotConnected as exc:
        error = exc.message
    except (ConnectorError, httpx.HTTPError, ValueError) as exc:
        error = explain_procurify_error(exc, connection.site_url)
    _record_check(connection, error)
    return error


def check_qbo(connection: Connection) -> str | None:
    """Read the company's name with the stored tokens; store and return the failure sentence."""
    error: str | None = None
    try:
        with http_client(interactive=True) as http:
            info = qbo_client_for(connection, http=http, max_attempts=1).company_info()
        connection.company_name = (info.CompanyName or info.LegalName or "")[:200]
        connection.save(update_fields=["company_name", "updated_at"])
    except ConnectorError as exc:
        error = exc.message
    except httpx.HTTPError:
        error = "We could not reach QuickBooks. Try again in a few minutes."
    connection.refresh_from_db()  # the token provider may have rotated tokens meanwhile
    _record_check(connection, error)
    return error


def _record_check(connection: Connection, error: str | None) -> None:
    connection.last_error = (error or "")[:500]
    connection.last_checked_at = timezone.now()
    connection.save(update_fields=["last_error", "last_checked_at", "updated_at"])
