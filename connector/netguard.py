"""Where a tenant-typed Procurify address may lead: the SSRF guard (issue 12).

A tenant owner types the Procurify site address and the server then sends that tenant's client
secret there, so the address must never lead inside our network. Three layers, one policy:

1. ``check_site_url`` — when the address is saved (the connection form): the URL's shape (scheme,
   host, port) must match the policy, and every address the name resolves to must be public.
2. ``GuardedTransport`` — before every request (token, API page, next link): the same shape check,
   without DNS, so a stored address saved before this guard, a hostile token URL or a next link
   is refused before the request reaches any transport (including the test seam's).
3. ``PinnedBackend`` — when each TCP connection is made (the real network only): resolve the name
   once through the resolver seam, verify *every* address, and open the socket to a verified IP.
   httpcore passes the host name separately to TLS, so SNI and certificate checks still use the
   name and the Host header is unchanged. A DNS answer that changes between the form check and
   the connection (rebinding) is therefore checked again, and the IP that was checked is the IP
   that is connected to: there is no second lookup that an attacker could answer differently.

Policy (settings): ``https://<name>.procurify.com`` on the default port; hosts listed in
``PROCURIFY_ALLOWED_HOSTS`` (host or host:port, https, still public addresses only); and, when
``PROCURIFY_ALLOW_LOOPBACK`` is on (development and tests only), loopback: ``127.0.0.1``-style
literals, ``localhost`` and names under ``.localhost``/``.test`` (RFC 6761 test names, used by the
in-process sandbox), over http or https, on any port, resolving to loopback addresses only.
IP literals (other than loopback in dev/test) and numeric host forms (``2130706433``,
``0x7f000001``, ``0177.0.0.1``, ``127.1``) are refused everywhere.

Tests replace DNS with ``use_resolver``; nothing here does I/O except the default resolver.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import socket
import ssl
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

from connector.errors import Permanent

logger = logging.getLogger("connector.netguard")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Sequence[str]]

PROCURIFY_SUFFIX = ".procurify.com"
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_PROCURIFY_SITE = re.compile(rf"^{_LABEL}\.procurify\.com$")
_LOCAL_SUFFIXES = (".localhost", ".test")
_NUMERIC_LABEL = re.compile(r"^(?:0x[0-9a-f]*|[0-9]+)$")

# Sentences a finance admin reads; each names the kind of failure and echoes nothing from a server.
MESSAGES = {
    "not_procurify": (
        "the address is not a Procurify site. Use your site's address, for example "
        "https://yourcompany.procurify.com."
    ),
    "ip_literal": (
        "the address is a numeric IP address, not a Procurify site. Use your site's address, for example "
        "https://yourcompany.procurify.com."
    ),
    "internal_address": "the address leads to a private or internal network, not to a Procurify site.",
    "plain_http": "the address must start with https://, so the credentials travel encrypted.",
    "bad_port": "the address is not a Procurify site (Procurify sites do not use a port number).",
    "unsupported": "the address is not a Procurify site.",
}


class BlockedAddress(Permanent):
    """A Procurify address the policy refuses; ``code`` is the failure kind (a key of MESSAGES).

    A ``Permanent`` (not an httpx error): raised inside a transport it passes through httpx and the
    retry loop unchanged, so it is never retried and never mistaken for a network blip.
    """

    def __init__(self, kind: str, host: str = "") -> None:
        clause = MESSAGES[kind]
        super().__init__(clause[0].upper() + clause[1:], code=kind, detail={"host": host[:100]})
        self.kind = kind
        self.clause = clause  # for "We did not contact …: <clause>"

    @property
    def sentence(self) -> str:
        return self.message


# ---- the policy --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Policy:
    allow_loopback: bool = False
    allowed_hosts: frozenset[str] = field(default_factory=frozenset)  # "host" or "host:port", lower case

    @classmethod
    def from_settings(cls) -> Policy:
        from django.conf import settings

        hosts = getattr(settings, "PROCURIFY_ALLOWED_HOSTS", ()) or ()
        return cls(
            allow_loopback=bool(getattr(settings, "PROCURIFY_ALLOW_LOOPBACK", False)),
            allowed_hosts=frozenset(h.strip().lower().rstrip(".") for h in hosts if h.strip()),
        )


@dataclass(frozen=True)
class Target:
    """What the shape check decided about a URL: the host, its port, and whether it is local."""

    host: str
    port: int
    literal: IPAddress | None
    local: bool  # loopback literal or local test name, allowed only with allow_loopback


def check_url(url: str | httpx.URL, policy: Policy) -> Target:
    """Refuse a URL whose scheme, host or port the policy does not allow. No DNS."""
    try:
        parsed = httpx.URL(url) if not isinstance(url, httpx.URL) else url
        scheme, host, port = parsed.scheme, parsed.host.lower().rstrip("."), parsed.port
    except (httpx.InvalidURL, ValueError, TypeError):
        host = _lenient_host(str(url))
        raise BlockedAddress("ip_literal" if host and _numeric_host(host) else "unsupported", host) from None
    if scheme not in ("http", "https") or not host or parsed.userinfo:
        raise BlockedAddress("unsupported", host)
    effective_port = port or (443 if scheme == "https" else 80)
    literal = ip_literal(host)
    if literal is None and _numeric_host(host):
        raise BlockedAddress("ip_literal", host)  # 2130706433, 0x7f000001, 0177.0.0.1, 127.1 …
    local = policy.allow_loopback and (
        (literal is not None and _is_loopback(literal))
        or (literal is None and (host == "localhost" or host.endswith(_LOCAL_SUFFIXES)))
    )
    if local:
        return Target(host, effective_port, literal, True)
    if literal is not None:
        raise BlockedAddress("ip_literal", host)
    allowed_by_list = host in policy.allowed_hosts or f"{host}:{effective_port}" in policy.allowed_hosts
    if not (_PROCURIFY_SITE.match(host) or allowed_by_list):
        raise BlockedAddress("not_procurify", host)
    if scheme != "https":
        raise BlockedAddress("plain_http", host)
    if effective_port != 443 and f"{host}:{effective_port}" not in policy.allowed_hosts:
        raise BlockedAddress("bad_port", host)
    return Target(host, effective_port, None, False)


def _lenient_host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def ip_literal(host: str) -> IPAddress | None:
    """The address when ``host`` is a canonical IP literal (dotted quad, or IPv6 with or without [])."""
    text = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        return ipaddress.ip_address(text)  # refuses 127.1, 0177.0.0.1, 2130706433 and 0x7f000001
    except ValueError:
        pass
    if "%" in text:  # fe80::1%eth0: a zoned IPv6 literal is never a public site
        try:
            return ipaddress.ip_address(text.split("%", 1)[0])
        except ValueError:
            return None
    return None


def _numeric_host(host: str) -> bool:
    """A name a resolver or URL parser could read as an IPv4 number (WHATWG: last label numeric)."""
    last = host.rsplit(".", 1)[-1]
    if _NUMERIC_LABEL.match(last):
        return True
    try:
        socket.inet_aton(host)  # the libc forms: 127.1, 0x7f.1, 017700000001 …
    except (OSError, ValueError):
        return False
    return True


# ---- which addresses are internal ----------------------------------------------------------------

_BLOCKED_NETWORKS = [
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",  # carrier-grade NAT
        "127.0.0.0/8",
        "169.254.0.0/16",  # link-local, cloud metadata (169.254.169.254)
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.88.99.0/24",  # 6to4 relay anycast
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, broadcast
        "::/128",
        "::1/128",
        "::/96",  # IPv4-compatible (deprecated)
        "::ffff:0:0/96",  # IPv4-mapped (checked through its IPv4 address first)
        "64:ff9b:1::/48",  # local-use NAT64
        "100::/64",  # discard
        "2001::/23",  # IETF protocol assignments, incl. Teredo 2001::/32
        "2001:db8::/32",  # documentation
        "2002::/16",  # 6to4 (checked through its IPv4 address first)
        "fc00::/7",  # unique local
        "fe80::/10",  # link-local
        "fec0::/10",  # site-local (deprecated)
        "ff00::/8",  # multicast
    )
]


_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


def embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address carried inside an IPv4-mapped, NAT64 (64:ff9b::/96) or 6to4 IPv6 address."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64 or (address in _IPV4_COMPATIBLE and int(address) > 1):  # not :: or ::1
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour is not None:
        return address.sixtofour
    return None


def _is_loopback(address: IPAddress) -> bool:
    return address.is_loopback and embedded_ipv4(address) is None  # 127.0.0.0/8 and ::1 only


def is_public(address: IPAddress) -> bool:
    """True for a global unicast address; False for anything internal, special or embedded-internal.

    NAT64 (64:ff9b::/96, what DNS64 answers on an IPv6-only network) counts as the IPv4 address
    it carries; IPv4-mapped, IPv4-compatible and 6to4 forms are refused whatever they carry.
    """
    inner = embedded_ipv4(address)
    if inner is not None and not is_public(inner):
        return False
    if isinstance(address, ipaddress.IPv6Address) and address in _NAT64:
        return True  # the IPv4 address inside was public
    if any(address in network for network in _BLOCKED_NETWORKS if network.version == address.version):
        return False
    return address.is_global and not (
        address.is_multicast
        or address.is_reserved
        or address.is_loopback
        or address.is_link_local
        or address.is_private
        or address.is_unspecified
    )


def address_allowed(address: IPAddress, policy: Policy) -> bool:
    return is_public(address) or (policy.allow_loopback and _is_loopback(address))


# ---- the resolver seam ---------------------------------------------------------------------------


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


_resolver_lock = threading.Lock()
_resolver: Resolver = system_resolver


def set_resolver(resolver: Resolver | None) -> None:
    """Replace DNS for every check and connection (None: the system resolver)."""
    global _resolver
    with _resolver_lock:
        _resolver = resolver or system_resolver


@contextmanager
def use_resolver(resolver: Resolver) -> Iterator[Resolver]:
    previous = _resolver
    set_resolver(resolver)
    try:
        yield resolver
    finally:
        set_resolver(previous)


# The socket layer under PinnedBackend; tests put a recording fake here to see exactly which
# addresses were connected to and which bytes were sent, with the real httpx/httpcore stack above.
_SYSTEM_SOCKETS = httpcore.SyncBackend()
_socket_backend: httpcore.NetworkBackend | None = None


@contextmanager
def use_socket_backend(backend: httpcore.NetworkBackend) -> Iterator[httpcore.NetworkBackend]:
    global _socket_backend
    previous, _socket_backend = _socket_backend, backend
    try:
        yield backend
    finally:
        _socket_backend = previous


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to, parsed (a literal resolves to itself). OSError when none."""
    literal = ip_literal(host)
    if literal is not None:
        return [literal]
    answers = _resolver(host, port)
    addresses: list[IPAddress] = []
    for answer in answers:
        parsed = ip_literal(str(answer))
        if parsed is None:
            raise OSError(f"resolver returned something that is not an address for {host}")
        addresses.append(parsed)
    if not addresses:
        raise OSError(f"no addresses for {host}")
    return addresses


def verified_addresses(host: str, port: int, policy: Policy) -> list[IPAddress]:
    """Resolve once and refuse unless *every* answer is allowed (one internal record poisons all)."""
    addresses = resolve(host, port)
    refused = [a for a in addresses if not address_allowed(a, policy)]
    if refused:
        logger.warning("refused a Procurify address: %s resolves to an internal address", host[:100])
        raise BlockedAddress("internal_address", host)
    return addresses


# ---- the three layers ------------------------------------------------------------------------------


def check_site_url(url: str, policy: Policy | None = None) -> None:
    """Save-time check: the URL's shape, then every address its name resolves to.

    A name that does not resolve at all is let through: it reaches nothing, "Test connection" then
    says it could not connect, and every later connection is checked again by ``PinnedBackend``.
    """
    policy = policy or Policy.from_settings()
    target = check_url(url, policy)
    if target.literal is not None:
        return  # a literal passed check_url only as an allowed loopback
    try:
        verified_addresses(target.host, target.port, policy)
    except OSError:
        return


class GuardedTransport(httpx.BaseTransport):
    """Refuses a request whose URL the policy does not allow, before ``inner`` sees it."""

    def __init__(self, inner: httpx.BaseTransport, policy: Policy) -> None:
        self.inner = inner
        self.policy = policy

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        try:
            check_url(request.url, self.policy)
        except BlockedAddress:
            logger.warning("refused a Procurify request to a disallowed address: %s", request.url.host[:100])
            raise
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


class PinnedBackend(httpcore.NetworkBackend):
    """An httpcore network backend that connects only to addresses it has just verified."""

    def __init__(self, policy: Policy, inner: httpcore.NetworkBackend | None = None) -> None:
        self.policy = policy
        self._inner = inner

    @property
    def inner(self) -> httpcore.NetworkBackend:
        return self._inner or _socket_backend or _SYSTEM_SOCKETS

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            addresses = verified_addresses(host, port, self.policy)
        except OSError as exc:
            raise httpcore.ConnectError(f"could not resolve {host}") from exc
        error: Exception | None = None
        for address in addresses:  # each one verified above; the name is not looked up again
            try:
                return self.inner.connect_tcp(
                    str(address),
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except httpcore.ConnectError as exc:
                error = exc
        assert error is not None
        raise error

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        raise BlockedAddress("unsupported")

    def sleep(self, seconds: float) -> None:
        self.inner.sleep(seconds)


_LIMITS = httpx.Limits(max_connections=20, max_keepalive_connections=10)


class PinnedTransport(httpx.HTTPTransport):
    """httpx's own HTTP transport, with its connection pool built on ``PinnedBackend``.

    Environment proxies are never used (a proxy would resolve the name itself): httpx ignores them
    whenever a transport is given explicitly, and this pool has no proxy.
    """

    def __init__(
        self,
        policy: Policy,
        *,
        backend: httpcore.NetworkBackend | None = None,
        ssl_context: ssl.SSLContext | None = None,
        limits: httpx.Limits = _LIMITS,
    ) -> None:
        super().__init__(retries=0)
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context or httpx.create_ssl_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            http1=True,
            http2=False,
            retries=0,
            network_backend=PinnedBackend(policy, inner=backend),
        )


def guarded_transport(
    inner: httpx.BaseTransport | None = None, policy: Policy | None = None
) -> httpx.BaseTransport:
    """The transport every Procurify client uses: the shape check over ``inner`` (a test seam) or,
    for the real network, over a ``PinnedTransport``."""
    policy = policy or Policy.from_settings()
    return GuardedTransport(inner if inner is not None else PinnedTransport(policy), policy)
