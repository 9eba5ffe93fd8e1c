"""Factories that turn an organisation's Connection row into a ready API client.

Clients are built only here. The entry points (Celery tasks, management commands, the views that
start work) hand ``CLIENTS`` to the engine and the services (connector/client_factory.py), so
there is one seam for tests and the demo: ``use_transport(sb.transport())`` (connector/seam.py)
routes every client built here through an in-process httpx transport (style.md item 2).
"""

from __future__ import annotations

import httpx
from django.conf import settings
from django.utils import timezone

from connector import netguard
from connector.client_factory import ClientFactory
from connector.errors import ConnectorError, NotConnected, ReauthRequired, Retryable
from connector.metering import meter_for
from connector.procurify.auth import AccessToken, BadCredentials
from connector.procurify.client import ProcurifyClient
from connector.qbo.client import QBOClient
from connector.qbo.governor import shared_governor
from connector.qbo_tokens import qbo_oauth_config, qbo_token_provider
from connector.seam import INTERACTIVE_TIMEOUT, http_client, now, pause, set_transport, use_transport
from tenants.models import Connection, Organisation, Provider

# Callers and tests reach the seam and the OAuth app settings through this module too.
__all__ = [
    "CLIENTS",
    "INTERACTIVE_TIMEOUT",
    "ConnectionClients",
    "NotConnected",
    "check_procurify",
    "check_qbo",
    "get_connection",
    "http_client",
    "now",
    "procurify_client_for",
    "qbo_client_for",
    "qbo_oauth_config",
    "set_transport",
    "use_transport",
]


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
        sleep=pause(),
    )


# ---- QuickBooks -----------------------------------------------------------------------------


def qbo_client_for(
    connection_or_org: Connection | Organisation, *, http: httpx.Client | None = None, max_attempts: int = 4
) -> QBOClient:
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
        sleep=pause(),
        governor=shared_governor(),  # one budget per company across every worker process
        on_metered=meter_for(connection.organisation_id),
    )


# ---- the factory the entry points hand down -------------------------------------------------


class ConnectionClients:
    """Clients from the organisation's stored connections, through the seam (connector/seam.py)."""

    def procurify(self, organisation: Organisation) -> ProcurifyClient:
        return procurify_client_for(organisation)

    def qbo(self, organisation: Organisation) -> QBOClient:
        return qbo_client_for(organisation)


CLIENTS: ClientFactory = ConnectionClients()


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
