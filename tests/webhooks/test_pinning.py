"""A production delivery connects to the address that passed the SSRF check, not to whatever
the name resolves to a moment later (DNS rebinding), while TLS still checks the certificate
against the endpoint's own name. Shown with a real HTTPS receiver on loopback whose
certificate is for a name that does not resolve at all: the request can only reach it through
the pinned address."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from app.webhooks.attempts import send_to
from app.webhooks.connections import ConnectionFailed, EndpointConnections
from app.webhooks.ssrf import Destination, UnsafeWebhookUrl, checked_destination, pin

NAME = "hooks.example"  # .example never resolves (RFC 2606)
LOOPBACK = ipaddress.ip_address("127.0.0.1")


def _certificate(subject: str, issuer: x509.Name, issuer_key, key, *, ca: bool) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(subject)]), critical=False
        )
    return builder.sign(issuer_key, hashes.SHA256())


@dataclass
class TlsReceiver:
    port: int
    ca_pem: str
    seen: list[dict[str, str]] = field(default_factory=list)


@pytest.fixture
def tls_receiver(tmp_path: Path) -> Iterator[TlsReceiver]:
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test CA")])
    ca = _certificate("Test CA", ca_name, ca_key, ca_key, ca=True)
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = _certificate(NAME, ca_name, ca_key, key, ca=False)
    (tmp_path / "cert.pem").write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server_names: list[str | None] = []
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    context.sni_callback = lambda _sock, name, _ctx: server_names.append(name)
    receiver: TlsReceiver

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            length = int(self.headers.get("content-length", "0"))
            body = self.rfile.read(length).decode()
            receiver.seen.append(
                {
                    "host": self.headers.get("host", ""),
                    "path": self.path,
                    "sni": server_names[-1] or "",
                    "body": body,
                }
            )
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    receiver = TlsReceiver(
        port=server.server_address[1],
        ca_pem=ca.public_bytes(serialization.Encoding.PEM).decode(),
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


def _post(receiver: TlsReceiver, destination: Destination) -> int:
    async def run() -> int:
        verify = ssl.create_default_context(cadata=receiver.ca_pem)
        async with EndpointConnections(max_connections=1, tls=verify) as connections:
            answer = await send_to(
                connections,
                "endpoint",
                destination,
                body=b'{"ok": true}',
                headers={"content-type": "application/json"},
            )
            return answer.status_code

    return asyncio.run(run())


def test_a_pinned_delivery_reaches_the_checked_address_under_its_own_name(tls_receiver):
    url = f"https://{NAME}:{tls_receiver.port}/hooks/portal?source=cp"
    destination = pin(url, LOOPBACK)
    assert destination == Destination(
        url=f"https://127.0.0.1:{tls_receiver.port}/hooks/portal?source=cp",
        host_header=f"{NAME}:{tls_receiver.port}",
        sni_hostname=NAME,
    )
    assert _post(tls_receiver, destination) == 204
    (seen,) = tls_receiver.seen
    assert seen == {
        "host": f"{NAME}:{tls_receiver.port}",
        "path": "/hooks/portal?source=cp",
        "sni": NAME,
        "body": '{"ok": true}',
    }


def test_the_certificate_is_still_checked_against_the_endpoints_name(tls_receiver):
    """Pinned to the same address, but for a name the certificate does not cover: refused."""
    destination = pin(f"https://other.example:{tls_receiver.port}/hooks", LOOPBACK)
    with pytest.raises(ConnectionFailed, match="certificate|hostname"):
        _post(tls_receiver, destination)
    assert tls_receiver.seen == []


def test_without_the_pin_the_name_is_not_even_resolvable(tls_receiver):
    with pytest.raises(ConnectionFailed):
        _post(tls_receiver, Destination(f"https://{NAME}:{tls_receiver.port}/hooks"))
    assert tls_receiver.seen == []


def test_pin_keeps_ipv6_brackets_and_credentials():
    pinned = pin("https://user:pw@hooks.example/x", ipaddress.ip_address("2001:db8::5"))
    assert pinned.url == "https://user:pw@[2001:db8::5]/x"
    assert pinned.host_header == "hooks.example" and pinned.sni_hostname == "hooks.example"


def test_production_checks_again_at_delivery_and_pins_only_names():
    check = lambda url: asyncio.run(checked_destination(url, production=True))  # noqa: E731
    # A literal public address needs no pin; loopback (by name or number) is refused.
    assert check("https://8.8.8.8/hooks") == Destination("https://8.8.8.8/hooks")
    for url in ("https://localhost/hooks", "https://127.0.0.1/hooks", "http://8.8.8.8/hooks"):
        with pytest.raises(UnsafeWebhookUrl):
            check(url)
    # Development delivers to what it is given.
    assert asyncio.run(checked_destination("http://localhost:9/x", production=False)) == (
        Destination("http://localhost:9/x")
    )
