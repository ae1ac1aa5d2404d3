"""Which webhook URLs the portal may call.

The portal sends requests wherever an organization points it, from inside the network it runs
in. In production that must never reach the portal's own neighbours (a database, a cloud
metadata service at 169.254.169.254, an admin page on localhost), so only https to public
addresses is allowed, and the address is checked again at every delivery because DNS can
change after the endpoint was registered. The delivery then connects to the very address that
was checked (the URL is "pinned" to it, with the original name kept for the Host header, TLS
SNI and certificate check): a name that resolves to a public address for the check and to a
private one a moment later (DNS rebinding) can't redirect it. An IPv6 address that carries an
IPv4 one (IPv4-mapped, NAT64, 6to4, Teredo) is refused when the IPv4 address it leads to would
be. Production also refuses a user name or password in the URL (it would be stored and shown
with the endpoint) and any port but 443. Development allows plain http, loopback and any port
so that a receiver on the developer's machine works.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

MAX_URL_LENGTH = 2000
HTTPS_PORT = 443
# The well-known NAT64 prefix (RFC 6052): 64:ff9b::a.b.c.d is a.b.c.d behind a translator.
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeWebhookUrl(ValueError):
    """The URL is not one the portal will deliver to; the message says why."""


def _host_and_port(url: str, *, production: bool) -> tuple[str, int]:
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeWebhookUrl(f"the URL is longer than {MAX_URL_LENGTH} characters")
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise UnsafeWebhookUrl("the URL must not contain spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeWebhookUrl(f"not a valid URL: {exc}") from None
    allowed = ("https",) if production else ("http", "https")
    if parts.scheme not in allowed:
        raise UnsafeWebhookUrl(
            "the URL must start with https://"
            if production
            else "the URL must start with http:// or https://"
        )
    if not parts.hostname:
        raise UnsafeWebhookUrl("the URL has no host")
    if production and "@" in parts.netloc:
        raise UnsafeWebhookUrl("the URL must not contain a user name or password")
    if production and port not in (None, HTTPS_PORT):
        raise UnsafeWebhookUrl(f"webhooks are only sent to port {HTTPS_PORT}, not {port}")
    return parts.hostname, port or (HTTPS_PORT if parts.scheme == "https" else 80)


def _refused_as_is(address: IPAddress) -> str | None:
    for reason, hit in (
        ("a loopback", address.is_loopback),
        ("a link-local", address.is_link_local),
        ("a multicast", address.is_multicast),
        ("an unspecified", address.is_unspecified),
        ("a reserved", address.is_reserved),
        ("a private", address.is_private),
        ("a non-public", not address.is_global),  # shared (100.64/10), documentation, ...
    ):
        if hit:
            return f"{reason} address"
    return None


def _carried_ipv4(address: ipaddress.IPv6Address) -> list[tuple[str, ipaddress.IPv4Address]]:
    """The IPv4 addresses an IPv6 address leads to, directly or through a translator or relay."""
    if address.ipv4_mapped is not None:  # ::ffff:127.0.0.1 is 127.0.0.1
        return [("an IPv4-mapped", address.ipv4_mapped)]
    if address in NAT64:  # 64:ff9b::7f00:1 is 127.0.0.1 behind the translator
        return [("a NAT64", ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))]
    carried: list[tuple[str, ipaddress.IPv4Address]] = []
    if address.sixtofour is not None:
        carried.append(("a 6to4", address.sixtofour))
    if address.teredo is not None:
        server, client = address.teredo
        carried += [("a Teredo", server), ("a Teredo", client)]
    return carried


def refused_address(address: IPAddress) -> str | None:
    """Why a resolved address is off limits in production, or None when it is public."""
    if isinstance(address, ipaddress.IPv6Address):
        for kind, ipv4 in _carried_ipv4(address):
            reason = _refused_as_is(ipv4)
            if reason:
                return f"{kind} address for {ipv4}, which is {reason}"
        if address.ipv4_mapped is not None or address in NAT64:
            # These are their IPv4 address and nothing else (Python calls the prefixes private
            # or reserved); 6to4 and Teredo addresses are also checked as IPv6 addresses below.
            return None
    return _refused_as_is(address)


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _check_addresses(host: str, addresses: list[IPAddress]) -> None:
    if not addresses:
        raise UnsafeWebhookUrl(f"the host {host!r} does not resolve")
    for address in addresses:
        reason = refused_address(address)
        if reason:
            where = f"{host} is" if _literal(host) else f"{host} resolves to {address},"
            raise UnsafeWebhookUrl(f"webhooks are only sent to public addresses: {where} {reason}")


def _addresses(infos: list[tuple]) -> list[IPAddress]:  # type: ignore[type-arg]
    # Strip an IPv6 zone ("fe80::1%eth0") before parsing.
    return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]


def check_webhook_url(url: str, *, production: bool) -> None:
    """Raise UnsafeWebhookUrl unless the portal may deliver to `url` (resolves DNS)."""
    host, port = _host_and_port(url, production=production)
    if not production:
        return
    literal = _literal(host)
    if literal is not None:
        _check_addresses(host, [literal])
        return
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        raise UnsafeWebhookUrl(f"the host {host!r} does not resolve") from None
    _check_addresses(host, _addresses(infos))


@dataclass(frozen=True)
class Destination:
    """Where one delivery goes: the URL to connect to and, when it was pinned to a checked
    address, the name to send as Host and to check the certificate against."""

    url: str
    host_header: str | None = None
    sni_hostname: str | None = None


def pin(url: str, address: IPAddress) -> Destination:
    """The URL with its host name replaced by `address`, keeping the name for Host and TLS."""
    parts = urlsplit(url)
    assert parts.hostname is not None  # checked by _host_and_port
    literal = f"[{address}]" if address.version == 6 else str(address)
    port = f":{parts.port}" if parts.port else ""
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = (f"{userinfo}@" if userinfo else "") + literal + port
    return Destination(
        url=urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment)),
        host_header=parts.hostname + port,
        sni_hostname=parts.hostname,
    )


async def checked_destination(url: str, *, production: bool) -> Destination:
    """At delivery time: check the URL again (resolving without blocking the worker's loop)
    and, in production, pin it to the address that passed."""
    host, port = _host_and_port(url, production=production)
    if not production:
        return Destination(url)
    literal = _literal(host)
    if literal is not None:
        _check_addresses(host, [literal])
        return Destination(url)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        raise UnsafeWebhookUrl(f"the host {host!r} does not resolve") from None
    addresses = _addresses(infos)
    _check_addresses(host, addresses)  # every address the name has, not only the first
    return pin(url, addresses[0])
