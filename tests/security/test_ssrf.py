"""Issue 12: a tenant-typed Procurify address cannot reach inside.

Hostile addresses are refused when the form is saved *and* when each connection is made, before any
request leaves: a recording transport (the test seam) and a fake socket layer under the real
httpx → httpcore → PinnedBackend stack both prove nothing was sent, least of all the client secret.
DNS is the resolver seam (``netguard.use_resolver``), so rebinding is simulated without real DNS.
"""

from __future__ import annotations

import html
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from ssrf_support import PUBLIC_IP, PUBLIC_IP6, FakeNetwork, FakeResolver, RecordingTransport, http_response

from connector import netguard
from connector.clients import procurify_client_for, use_transport
from connector.errors import Permanent
from connector.procurify.streams import same_origin
from tenants.models import Connection, Provider

SECRET = "s3cr3t-never-leaves-Zq9xW"
CLIENT_ID = "client-id-123"

RESOLVES = {
    "acme.procurify.com": [PUBLIC_IP],
    "v6.procurify.com": [PUBLIC_IP6],
    "internal.procurify.com": ["10.0.0.7"],
    "private172.procurify.com": ["172.16.5.4"],
    "private192.procurify.com": ["192.168.1.10"],
    "loopback.procurify.com": ["127.0.0.1"],
    "metadata.procurify.com": ["169.254.169.254"],
    "mapped.procurify.com": ["::ffff:127.0.0.1"],
    "mapped-meta.procurify.com": ["::ffff:169.254.169.254"],
    "nat64.procurify.com": ["64:ff9b::a9fe:a9fe"],
    "sixtofour.procurify.com": ["2002:7f00:1::1"],
    "compat.procurify.com": ["::127.0.0.1"],
    "loop6.procurify.com": ["::1"],
    "linklocal6.procurify.com": ["fe80::1"],
    "ula.procurify.com": ["fc00::1"],
    "ula-d.procurify.com": ["fd12:3456::1"],
    "mixed.procurify.com": [PUBLIC_IP, "10.0.0.7"],
    "multicast.procurify.com": ["224.0.0.1"],
    "multicast6.procurify.com": ["ff02::1"],
    "zero.procurify.com": ["0.0.0.0"],
    "unspecified6.procurify.com": ["::"],
    "cgnat.procurify.com": ["100.64.0.1"],
    "reserved.procurify.com": ["240.0.0.1"],
    "broadcast.procurify.com": ["255.255.255.255"],
    "metadata.google.internal": ["169.254.169.254"],
    "localhost": ["127.0.0.1", "::1"],
    "procurify.corp.example": [PUBLIC_IP],
    "private.corp.example": ["10.1.1.1"],
}

NOT_A_SITE = "not a Procurify site"
INTERNAL = "private or internal network"
NUMERIC = "numeric IP address"
HTTPS = "must start with https://"
PORT = "do not use a port number"
SHAPE = "Enter your Procurify site address"

# (address, what the person is told). Every one is refused in production; nothing is contacted.
HOSTILE: list[tuple[str, str]] = [
    # loopback and internal services, by number
    ("http://127.0.0.1:6379", NUMERIC),
    ("https://127.0.0.1", NUMERIC),
    ("https://127.0.0.2:8443", NUMERIC),
    ("https://10.0.0.5", NUMERIC),
    ("https://172.16.0.1", NUMERIC),
    ("https://192.168.1.1", NUMERIC),
    ("https://0.0.0.0", NUMERIC),
    ("https://100.64.0.1", NUMERIC),
    # cloud metadata, by number and by name
    ("http://169.254.169.254/latest/meta-data/", NUMERIC),
    ("https://169.254.169.254", NUMERIC),
    ("http://metadata.google.internal/computeMetadata/v1/", NOT_A_SITE),
    ("https://metadata.google.internal", NOT_A_SITE),
    ("https://metadata", NOT_A_SITE),
    ("https://instance-data.ec2.internal", NOT_A_SITE),
    # decimal, hex, octal and short IPv4 forms
    ("https://2130706433", NUMERIC),
    ("https://0x7f000001", NUMERIC),
    ("https://0x7f.0x0.0x0.0x1", NUMERIC),
    ("https://0177.0.0.1", NUMERIC),
    ("https://017700000001", NUMERIC),
    ("https://127.1", NUMERIC),
    ("https://127.0.1", NUMERIC),
    ("https://2852039166", NUMERIC),  # 169.254.169.254
    ("https://acme.procurify.com.127.0.0.1", NUMERIC),
    # IPv6 forms (the form's address shape refuses bracketed literals outright)
    ("https://[::1]", SHAPE),
    ("https://[::ffff:127.0.0.1]", SHAPE),
    ("https://[::ffff:7f00:1]", SHAPE),
    ("https://[fe80::1]", SHAPE),
    ("https://[fc00::1]", SHAPE),
    ("https://[::]", SHAPE),
    ("https://[64:ff9b::a9fe:a9fe]", SHAPE),
    # names: local, not Procurify, look-alikes
    ("http://localhost:8000", NOT_A_SITE),
    ("https://localhost", NOT_A_SITE),
    ("https://sandbox.test", NOT_A_SITE),
    ("https://evil.example", NOT_A_SITE),
    ("https://procurify.com.evil.example", NOT_A_SITE),
    ("https://acme-procurify.com", NOT_A_SITE),
    ("https://acme.procurify.co", NOT_A_SITE),
    ("https://a.b.procurify.com", NOT_A_SITE),
    ("https://private.corp.example", NOT_A_SITE),
    # Procurify names, wrong scheme or port (an open port must not answer differently from a closed one)
    ("http://acme.procurify.com", HTTPS),
    ("https://acme.procurify.com:6379", PORT),
    ("https://acme.procurify.com:8443", PORT),
    # Procurify names that resolve inside
    ("https://internal.procurify.com", INTERNAL),
    ("https://private172.procurify.com", INTERNAL),
    ("https://private192.procurify.com", INTERNAL),
    ("https://loopback.procurify.com", INTERNAL),
    ("https://metadata.procurify.com", INTERNAL),
    ("https://mapped.procurify.com", INTERNAL),
    ("https://mapped-meta.procurify.com", INTERNAL),
    ("https://nat64.procurify.com", INTERNAL),
    ("https://sixtofour.procurify.com", INTERNAL),
    ("https://compat.procurify.com", INTERNAL),
    ("https://loop6.procurify.com", INTERNAL),
    ("https://linklocal6.procurify.com", INTERNAL),
    ("https://ula.procurify.com", INTERNAL),
    ("https://ula-d.procurify.com", INTERNAL),
    ("https://mixed.procurify.com", INTERNAL),
    ("https://multicast.procurify.com", INTERNAL),
    ("https://multicast6.procurify.com", INTERNAL),
    ("https://zero.procurify.com", INTERNAL),
    ("https://unspecified6.procurify.com", INTERNAL),
    ("https://cgnat.procurify.com", INTERNAL),
    ("https://reserved.procurify.com", INTERNAL),
    ("https://broadcast.procurify.com", INTERNAL),
]
SHAPE_ONLY = [(url, said) for url, said in HOSTILE if said not in (INTERNAL, SHAPE)]


@pytest.fixture
def production(settings: Any) -> Any:
    settings.PROCURIFY_ALLOW_LOOPBACK = False
    settings.PROCURIFY_ALLOWED_HOSTS = []
    settings.PROCURIFY_TOKEN_URL = ""
    return settings


@pytest.fixture
def resolver() -> Iterator[FakeResolver]:
    fake = FakeResolver(dict(RESOLVES))
    with netguard.use_resolver(fake):
        yield fake


@pytest.fixture
def net(resolver: FakeResolver) -> Iterator[FakeNetwork]:
    """The real transport stack (no test seam), over fake sockets."""
    fake = FakeNetwork()
    with netguard.use_socket_backend(fake):
        yield fake


@pytest.fixture
def seam(resolver: FakeResolver) -> Iterator[RecordingTransport]:
    transport = RecordingTransport()
    with use_transport(transport):
        yield transport


def settings_page(org: Any) -> str:
    return f"/o/{org.public_id}/connections/procurify/"


def save(person: Any, org: Any, **data: str) -> Any:
    body = {"site_url": "https://acme.procurify.com", "client_id": CLIENT_ID, "client_secret": SECRET, **data}
    return person.client.post(settings_page(org), body)


def press_test(person: Any, org: Any) -> str:
    response = person.client.post(f"/o/{org.public_id}/connections/procurify/test/", follow=True)
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def stored(org: Any, site_url: str, secret: str = SECRET) -> Connection:
    """A connection row as if saved before the guard existed (or edited in the database)."""
    return Connection.objects.create(
        organisation=org,
        provider=Provider.PROCURIFY,
        site_url=site_url,
        client_id=CLIENT_ID,
        client_secret=secret,
    )


# ---- at connect time: the form ------------------------------------------------------------------------


@pytest.mark.parametrize(("url", "said"), HOSTILE)
def test_it_refuses_a_hostile_address_when_the_form_is_saved(
    production: Any, seam: RecordingTransport, net: FakeNetwork, org_a: Any, owner: Any, url: str, said: str
) -> None:
    response = save(owner, org_a, site_url=url)
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert said in page
    assert not Connection.objects.filter(organisation=org_a).exists()
    assert seam.requests == [] and net.connects == []
    assert SECRET not in page


@pytest.mark.parametrize(
    ("url", "said"),
    [
        (u, s)
        for u, s in HOSTILE
        if s == INTERNAL or ("localhost" not in u and "127." not in u and ".test" not in u and s != SHAPE)
        # A Procurify name resolving to loopback is the sandbox allowance here (refused in production above).
        if "loopback.procurify.com" not in u and "loop6." not in u
    ],
)
def test_it_still_refuses_internal_addresses_when_loopback_is_allowed_for_the_sandbox(
    settings: Any, resolver: FakeResolver, org_a: Any, owner: Any, url: str, said: str
) -> None:
    settings.PROCURIFY_ALLOW_LOOPBACK = True  # development and tests
    response = save(owner, org_a, site_url=url)
    assert response.status_code == 200, url
    assert not Connection.objects.filter(organisation=org_a).exists()


@pytest.mark.parametrize(
    "url",
    [
        "https://acme.procurify.com",
        "acme.procurify.com",
        "https://ACME.Procurify.com/",
        "https://acme.procurify.com:443",
        "https://v6.procurify.com",
        "https://unknown-yet.procurify.com",  # does not resolve: saved; every connection is checked again
    ],
)
def test_it_accepts_a_procurify_site_when_it_resolves_to_public_addresses(
    production: Any, resolver: FakeResolver, org_a: Any, owner: Any, url: str
) -> None:
    assert save(owner, org_a, site_url=url).status_code == 302


def test_it_accepts_the_local_sandbox_only_when_loopback_is_allowed(
    settings: Any, resolver: FakeResolver, org_a: Any, owner: Any
) -> None:
    settings.PROCURIFY_ALLOW_LOOPBACK = True
    for url in ("http://127.0.0.1:8765/procurify/northwind", "http://localhost:8765/procurify/northwind"):
        assert save(owner, org_a, site_url=url).status_code == 302, url
    settings.PROCURIFY_ALLOW_LOOPBACK = False
    assert save(owner, org_a, site_url="http://127.0.0.1:8765/procurify/northwind").status_code == 200


def test_it_refuses_a_local_test_name_that_resolves_to_a_private_address(
    settings: Any, resolver: FakeResolver, org_a: Any, owner: Any
) -> None:
    settings.PROCURIFY_ALLOW_LOOPBACK = True
    resolver.answers["sandbox.test"] = ["10.0.0.9"]
    resolver.answers["evil.localhost"] = ["169.254.169.254"]
    for url in ("http://sandbox.test/procurify/x", "http://evil.localhost:8000"):
        response = save(owner, org_a, site_url=url)
        assert INTERNAL in html.unescape(response.content.decode()), url


def test_it_allows_extra_hosts_only_from_the_explicit_allowlist(
    production: Any, resolver: FakeResolver, org_a: Any, owner: Any
) -> None:
    assert save(owner, org_a, site_url="https://procurify.corp.example").status_code == 200
    production.PROCURIFY_ALLOWED_HOSTS = ["procurify.corp.example", "private.corp.example"]
    assert save(owner, org_a, site_url="https://procurify.corp.example").status_code == 302
    # Allowlisted hosts still need https, the default port and public addresses.
    for url, said in [
        ("http://procurify.corp.example", HTTPS),
        ("https://procurify.corp.example:8443", PORT),
        ("https://private.corp.example", INTERNAL),
    ]:
        response = save(owner, org_a, site_url=url)
        assert said in html.unescape(response.content.decode()), url


# ---- changing the address or client ID needs the secret again ------------------------------------------


def test_it_asks_for_the_secret_again_when_the_address_or_client_id_changes(
    production: Any, resolver: FakeResolver, org_a: Any, owner: Any
) -> None:
    resolver.answers["other.procurify.com"] = [PUBLIC_IP]
    assert save(owner, org_a).status_code == 302
    for change in ({"site_url": "https://other.procurify.com"}, {"client_id": "another-id"}):
        response = save(owner, org_a, client_secret="", **change)
        assert response.status_code == 200
        assert "enter the client secret again" in response.content.decode()
        connection = Connection.objects.get(organisation=org_a, provider=Provider.PROCURIFY)
        assert (connection.site_url, connection.client_id) == ("https://acme.procurify.com", CLIENT_ID)
    # Unchanged address and ID: a blank secret keeps the saved one.
    assert save(owner, org_a, client_secret="").status_code == 302
    # Typed again: saved, and the old token is dropped.
    assert (
        save(
            owner, org_a, client_secret="new-secret-value", site_url="https://other.procurify.com"
        ).status_code
        == 302
    )
    connection = Connection.objects.get(organisation=org_a, provider=Provider.PROCURIFY)
    assert (connection.site_url, connection.client_secret) == (
        "https://other.procurify.com",
        "new-secret-value",
    )


# ---- when each connection is made ---------------------------------------------------------------------


@pytest.mark.parametrize(("url", "said"), SHAPE_ONLY)
def test_it_refuses_a_stored_hostile_address_before_the_test_seam_sees_a_request(
    production: Any, seam: RecordingTransport, org_a: Any, owner: Any, url: str, said: str
) -> None:
    stored(org_a, url)
    page = press_test(owner, org_a)
    assert "We did not contact" in page and said in page
    assert seam.requests == []
    assert SECRET not in page


@pytest.mark.parametrize(("url", "said"), [(u, s) for u, s in HOSTILE if s != SHAPE])
def test_it_refuses_a_stored_hostile_address_before_any_socket_is_opened(
    production: Any, net: FakeNetwork, org_a: Any, owner: Any, url: str, said: str
) -> None:
    connection = stored(org_a, url)
    page = press_test(owner, org_a)
    assert "We did not contact" in page and said in page
    assert net.connects == [] and net.sent == []
    connection.refresh_from_db()
    assert said in html.unescape(connection.last_error)
    assert SECRET not in page


@pytest.mark.parametrize(
    "url", ["https://[::1]", "https://[::ffff:127.0.0.1]", "https://[fe80::1]", "https://[fc00::1]"]
)
def test_it_refuses_stored_ipv6_literals_when_a_connection_is_made(
    production: Any, net: FakeNetwork, org_a: Any, owner: Any, url: str
) -> None:
    stored(org_a, url)
    page = press_test(owner, org_a)
    assert NUMERIC in page
    assert net.connects == []


def test_it_connects_to_the_address_it_verified_and_keeps_the_name_for_tls_and_host(
    production: Any, net: FakeNetwork, resolver: FakeResolver, org_a: Any, owner: Any
) -> None:
    stored(org_a, "https://acme.procurify.com")
    page = press_test(owner, org_a)
    assert "the site, client ID and secret work" in page
    # One lookup, one socket to the verified IP (the name is never handed to the socket layer), and
    # TLS (SNI, certificate) and the Host header still use the name.
    assert resolver.lookups == ["acme.procurify.com"]
    assert net.connects == [(PUBLIC_IP, 443)]
    assert net.tls_names == ["acme.procurify.com"]
    sent = net.all_sent()
    assert "Host: acme.procurify.com" in sent.replace("host:", "Host:")
    assert sent.count("POST /oauth/token") == 1 and "GET /api/v3/vendors/" in sent


def test_it_refuses_when_dns_rebinds_between_the_form_and_the_connection(
    production: Any, net: FakeNetwork, resolver: FakeResolver, org_a: Any, owner: Any
) -> None:
    resolver.answers["acme.procurify.com"] = [[PUBLIC_IP], ["127.0.0.1"]]
    assert save(owner, org_a).status_code == 302  # checked: public
    page = press_test(owner, org_a)  # looked up again when connecting: loopback now
    assert INTERNAL in page
    assert net.connects == [] and SECRET not in net.all_sent()


def test_it_checks_every_new_connection_so_a_later_rebind_is_refused(
    production: Any, net: FakeNetwork, resolver: FakeResolver, org_a: Any, owner: Any
) -> None:
    resolver.answers["acme.procurify.com"] = [[PUBLIC_IP], [PUBLIC_IP], ["169.254.169.254"]]
    assert save(owner, org_a).status_code == 302
    assert "the site, client ID and secret work" in press_test(owner, org_a)
    Connection.objects.filter(organisation=org_a).update(access_token="", access_expires_at=None)
    page = press_test(owner, org_a)
    assert INTERNAL in page
    assert net.connects == [(PUBLIC_IP, 443)]  # only the first, verified, connection
    assert net.all_sent().count(SECRET) == 1  # sent once, to the verified address, inside TLS


def test_it_refuses_a_rebind_inside_the_sync_engine_client_too(
    production: Any, net: FakeNetwork, resolver: FakeResolver, org_a: Any
) -> None:
    resolver.answers["acme.procurify.com"] = [["10.0.0.1"]]
    stored(org_a, "https://acme.procurify.com")
    client = procurify_client_for(org_a, max_attempts=1)
    with pytest.raises(netguard.BlockedAddress):
        list(client.iter_vendors())
    assert net.connects == []


def test_it_does_not_follow_a_redirect_from_the_token_address(
    production: Any, net: FakeNetwork, org_a: Any, owner: Any
) -> None:
    net.responses["/oauth/token"] = http_response(
        302, {}, {"Location": "http://169.254.169.254/latest/meta-data/iam/security-credentials/"}
    )
    stored(org_a, "https://acme.procurify.com")
    page = press_test(owner, org_a)
    assert "redirect" in page and "169.254" not in page
    assert net.connects == [(PUBLIC_IP, 443)]
    assert net.all_sent().count("HTTP/1.1\r\n") == 1  # one request, nothing sent to the Location


def test_it_does_not_follow_a_redirect_from_the_api(
    production: Any, net: FakeNetwork, org_a: Any, owner: Any
) -> None:
    net.responses["/api/v3/vendors/"] = http_response(301, {}, {"Location": "http://10.0.0.1:6379/"})
    stored(org_a, "https://acme.procurify.com")
    press_test(owner, org_a)
    assert net.connects == [(PUBLIC_IP, 443)]
    assert net.all_sent().count("HTTP/1.1\r\n") == 2  # the token and the first page, nothing more


def test_it_refuses_a_token_url_override_that_points_inside(
    production: Any, net: FakeNetwork, org_a: Any, owner: Any
) -> None:
    production.PROCURIFY_TOKEN_URL = "http://10.0.0.1:8080/oauth/token"
    stored(org_a, "https://acme.procurify.com")
    page = press_test(owner, org_a)
    assert "We did not contact" in page
    assert net.connects == [] and SECRET not in net.all_sent()


@pytest.mark.parametrize(
    ("where", "status", "body", "said"),
    [
        (
            "/oauth/token",
            400,
            {"error": "redis_password=hunter2-xyz", "error_description": "internal-service says"},
            "HTTP 400",
        ),
        ("/oauth/token", 401, {"error": "internal-service says: redis_password=hunter2-xyz"}, "HTTP 401"),
        (
            "/api/v3/vendors/",
            400,
            {"detail": "internal-service says: redis_password=hunter2-xyz"},
            "HTTP 400",
        ),
        (
            "/api/v3/vendors/",
            418,
            {"message": "internal-service says: redis_password=hunter2-xyz"},
            "HTTP 418",
        ),
    ],
)
def test_it_names_the_failure_without_echoing_the_remote_body(
    production: Any, net: FakeNetwork, org_a: Any, owner: Any, where: str, status: int, body: Any, said: str
) -> None:
    net.responses[where] = http_response(status, body)
    connection = stored(org_a, "https://acme.procurify.com")
    page = press_test(owner, org_a)
    assert said in page
    connection.refresh_from_db()
    for shown in (page, connection.last_error):
        assert "hunter2" not in shown and "internal-service" not in shown


def test_it_says_could_not_reach_when_the_name_does_not_resolve(
    production: Any, net: FakeNetwork, org_a: Any, owner: Any
) -> None:
    stored(org_a, "https://gone.procurify.com")
    page = press_test(owner, org_a)
    assert "We could not reach https://gone.procurify.com" in page
    assert net.connects == []


def test_it_lets_the_dev_sandbox_use_plain_http_on_loopback_only(
    settings: Any, net: FakeNetwork, resolver: FakeResolver, org_a: Any, owner: Any
) -> None:
    settings.PROCURIFY_ALLOW_LOOPBACK = True
    stored(org_a, "http://127.0.0.1:8765/procurify/northwind")
    assert "the site, client ID and secret work" in press_test(owner, org_a)
    assert net.connects == [("127.0.0.1", 8765)]
    assert net.tls_names == []


# ---- next-page links ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "next_link",
    [
        "https://evil.example/api/v3/vendors/?page=2",
        "http://acme.procurify.com/api/v3/vendors/?page=2",  # plain http: the bearer token in clear
        "https://acme.procurify.com:8443/api/v3/vendors/?page=2",
        "https://user:pw@acme.procurify.com/api/v3/vendors/?page=2",
        "//evil.example/api/v3/vendors/?page=2",
        "https://169.254.169.254/api/v3/vendors/?page=2",
        "https://other.procurify.com/api/v3/vendors/?page=2",
    ],
)
def test_it_refuses_a_next_page_link_that_leaves_the_site(
    production: Any, resolver: FakeResolver, org_a: Any, next_link: str
) -> None:
    def respond(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/oauth/token"):
            return httpx.Response(200, json={"access_token": "tok-abc", "expires_in": 86400})
        page = {"data": [], "metadata": {"pagination": {"count": 200, "next": next_link}}}
        return httpx.Response(200, json=page)

    transport = RecordingTransport(respond)
    stored(org_a, "https://acme.procurify.com")
    with use_transport(transport), pytest.raises(Permanent, match="another host") as caught:
        list(procurify_client_for(org_a, max_attempts=1).iter_vendors())
    assert caught.value.code == "bad_next_link"
    assert next_link not in caught.value.message
    assert [r.url.host for r in transport.requests] == ["acme.procurify.com", "acme.procurify.com"]
    assert all(r.url.scheme == "https" for r in transport.requests)


@pytest.mark.parametrize(
    ("url", "same"),
    [
        ("https://acme.procurify.com/api/v3/vendors/?page=2", True),
        ("https://ACME.procurify.com:443/api/v3/vendors/?page=2", True),
        ("https://acme.procurify.com./x", True),
        ("http://acme.procurify.com/x", False),
        ("https://acme.procurify.com:444/x", False),
        ("https://evil.example/x", False),
        ("https://u:p@acme.procurify.com/x", False),
        ("javascript:alert(1)", False),
    ],
)
def test_it_compares_scheme_host_and_port_when_judging_a_next_link(url: str, same: bool) -> None:
    assert same_origin(url, "https://acme.procurify.com") is same


# ---- the address table at the guard itself (no Django) -------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.255.255.254",
        "10.0.0.1",
        "172.31.255.255",
        "192.168.0.1",
        "169.254.169.254",
        "100.100.100.200",
        "0.0.0.0",
        "224.0.0.251",
        "239.255.255.250",
        "240.0.0.1",
        "255.255.255.255",
        "192.0.0.170",
        "198.18.0.1",
        "::1",
        "::",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "::ffff:8.8.8.8",
        "::127.0.0.1",
        "64:ff9b::7f00:1",
        "64:ff9b::a9fe:a9fe",
        "64:ff9b:1::1",
        "2002:a00:1::1",
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",
        "fe80::1",
        "febf::1",
        "fec0::1",
        "fc00::1",
        "fd00:ec2::254",
        "ff02::1",
        "2001:db8::1",
        "100::1",
    ],
)
def test_it_classifies_internal_and_special_addresses_as_not_public(address: str) -> None:
    ip = netguard.ip_literal(address)
    assert ip is not None
    assert not netguard.is_public(ip)
    assert not netguard.address_allowed(ip, netguard.Policy())


@pytest.mark.parametrize("address", [PUBLIC_IP, "8.8.8.8", PUBLIC_IP6, "64:ff9b::808:808"])
def test_it_classifies_global_addresses_as_public(address: str) -> None:
    assert netguard.is_public(netguard.ip_literal(address))  # type: ignore[arg-type]


def test_it_allows_only_true_loopback_when_loopback_is_allowed() -> None:
    dev = netguard.Policy(allow_loopback=True)
    for address, allowed in [
        ("127.0.0.1", True),
        ("::1", True),
        ("::ffff:127.0.0.1", False),
        ("10.0.0.1", False),
    ]:
        assert netguard.address_allowed(netguard.ip_literal(address), dev) is allowed, address  # type: ignore[arg-type]


# ---- configuration and the tenant wall --------------------------------------------------------------------


def test_it_refuses_to_start_in_production_with_loopback_allowed() -> None:
    env = {
        **os.environ,
        "APP_ENV": "production",
        "DEBUG": "false",
        "SECRET_KEY": "x" * 50,
        "FIELD_ENCRYPTION_KEYS": "ZGV2LW9ubHktZmllbGQta2V5LW5vdC1mb3ItcHJvZCE=",
        "ALLOWED_HOSTS": "example.com",
        "DATABASE_URL": "postgres://u@localhost/db",
        "REDIS_URL": "redis://localhost",
        "QBO_CLIENT_ID": "id",
        "QBO_CLIENT_SECRET": "secret",
    }
    code = "import config.settings as s; print(s.PROCURIFY_ALLOW_LOOPBACK, s.PROCURIFY_ALLOWED_HOSTS)"
    ok = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip() == "False []"
    env["PROCURIFY_ALLOW_LOOPBACK"] = "true"
    refused = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    assert refused.returncode != 0 and "PROCURIFY_ALLOW_LOOPBACK must be false" in refused.stderr


def test_it_keeps_other_organisations_out_of_the_procurify_pages(
    production: Any,
    seam: RecordingTransport,
    net: FakeNetwork,
    resolver: FakeResolver,
    org_a: Any,
    outsider: Any,
) -> None:
    connection = stored(org_a, "https://acme.procurify.com")
    hostile = {"site_url": "https://internal.procurify.com", "client_id": "x", "client_secret": "y"}
    assert outsider.client.get(settings_page(org_a)).status_code in (403, 404)
    assert outsider.client.post(settings_page(org_a), hostile).status_code in (403, 404)
    assert outsider.client.post(f"/o/{org_a.public_id}/connections/procurify/test/").status_code in (403, 404)
    connection.refresh_from_db()
    assert connection.site_url == "https://acme.procurify.com"
    assert resolver.lookups == [] and seam.requests == [] and net.connects == []
