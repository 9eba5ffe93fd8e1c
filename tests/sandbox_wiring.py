"""Wiring an organisation to the sandbox the way the product does it: settings pointed at the fake endpoints,
Procurify credentials on a Connection row, QuickBooks through the consent callback's own code path.
Shared by the suites that need a connected organisation (import as `from sandbox_wiring import ...`)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from django.conf import settings

from connector.oauth import complete_qbo_authorization
from sandbox import Sandbox
from tenants.models import Connection, Organisation, Provider

DOMAIN = "northwind"
REDIRECT_URI = "http://testserver/connections/qbo/callback/"


def point_settings_at(sb: Sandbox, base_url: str = "http://sandbox.test") -> None:
    """Every QBO endpoint setting at the sandbox (call inside a test using the `settings` fixture)."""
    urls = sb.qbo_urls(base_url)
    settings.QBO_CLIENT_ID = sb.credentials["qbo"]["client_id"]
    settings.QBO_CLIENT_SECRET = sb.credentials["qbo"]["client_secret"]
    settings.QBO_REDIRECT_URI = REDIRECT_URI
    settings.QBO_AUTHORIZE_URL = urls["authorize_url"]
    settings.QBO_TOKEN_URL = urls["token_url"]
    settings.QBO_REVOKE_URL = urls["revoke_url"]
    settings.QBO_API_BASE = urls["api_base"]
    settings.PROCURIFY_TOKEN_URL = ""


def connect_procurify(
    organisation: Organisation, sb: Sandbox, base_url: str = "http://sandbox.test", domain: str = DOMAIN
) -> None:
    creds = sb.credentials["procurify"][domain]
    Connection.objects.create(
        organisation=organisation,
        provider=Provider.PROCURIFY,
        site_url=sb.procurify_site_url(domain, base_url),
        client_id=creds["client_id"],
        client_secret=creds["client_secret"],
    )


def connect_qbo(organisation: Organisation, user: object, sb: Sandbox) -> str:
    """Consent approved in the sandbox, then our callback's code path; returns the realm id."""
    realm_id = sb.realm_ids[0]
    callback = sb.qbo.approve_for_tests(settings.QBO_CLIENT_ID, REDIRECT_URI, "state", realm_id)
    query = parse_qs(urlsplit(callback).query)
    complete_qbo_authorization(organisation, user, query["code"][0], query["realmId"][0])
    return realm_id


def connect(
    organisation: Organisation, user: object, sb: Sandbox, base_url: str = "http://sandbox.test"
) -> str:
    """Both systems connected; returns the QBO realm id. Needs the sandbox's transport or server in reach."""
    connect_procurify(organisation, sb, base_url)
    return connect_qbo(organisation, user, sb)
