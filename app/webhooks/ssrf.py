"""Which webhook URLs the portal may call.

The portal sends requests wherever an organization points it, from inside the network it runs
in. In production that must never reach the portal's own neighbours (a database, a cloud
metadata service at 169.254.169.254, an admin page on localhost), so only https to public
addresses is allowed, and the address is checked again at every delivery because DNS can
change after the endpoint was registered. The delivery then connects to the very address that
was checked (the URL is "pinned" to it, with the original name kept for the Host header, TLS
SNI and certificate check): a name that resolves to a public address for the check and to a
private one a moment later (DNS rebinding) can't redirect it. Development allows plain http
and loopback so that a receiver on the developer's machine works.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

MAX_URL_LENGTH = 2000

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
    return parts.hostname, port or (443 if parts.scheme == "https" else 80)


def refused_address(address: IPAddress) -> str | None:
    """Why a resolved address is off limits in production, or None when it is public."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
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
