"""The worker's HTTP/1.1 client: one POST at a time per connection, a few kept-alive
connections per endpoint.

A general client (httpx) spent most of the worker's time on what a webhook never needs:
cookies, redirects, auth flows, proxies, layer upon layer of streams, and a check of every
pooled connection before each request. Webhooks need one thing, the same every time: send a
POST with its headers and body, read the status, the headers and the first few KB of the
answer. So this is that, on asyncio's own streams, with h11 (the parser httpx uses) reading
and writing the messages, so chunked answers, early closes and 1xx answers are handled as
correctly as before (bench/webhook_delivery.py: the figures are in the README).

TLS: the certificate is checked against the endpoint's own name (`server_hostname`), also
when the connection goes to an address pinned by the SSRF check (app/webhooks/ssrf.py).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import ssl
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import certifi
import h11

READ_CHUNK_BYTES = 65536


class ConnectionFailed(Exception):
    """No answer: the connection could not be made, or broke before a complete answer."""


@dataclass(frozen=True)
class Answer:
    status_code: int
    headers: dict[str, str]  # names lower-cased; a repeated header keeps its last value
    excerpt: bytes  # at most the first `excerpt_bytes` of the body


@dataclass(frozen=True)
class _Origin:
    """Where a connection goes: a kept-alive connection is reused only for the same one."""

    scheme: str
    host: str
    port: int
    server_name: str | None


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.h11 = h11.Connection(our_role=h11.CLIENT)

    def usable(self) -> bool:
        """Still open, as far as anything has arrived (a receiver that closed an idle
        connection has sent its EOF by now, unless it is on its way)."""
        return not self.writer.is_closing() and not self.reader.at_eof()

    def close(self) -> None:
        self.writer.close()


class EndpointConnections:
    """Kept-alive connections per endpoint, at most `max_connections` in use at once to
    each, all sharing one TLS context (building one loads the CA bundle, about 0.1 s)."""

    def __init__(self, *, max_connections: int, tls: ssl.SSLContext | None = None) -> None:
        self.max_connections = max_connections
        self._tls = tls
        self._idle: dict[tuple[str, _Origin], list[_Connection]] = {}
        self._slots: dict[str, asyncio.Semaphore] = {}

    def _tls_context(self) -> ssl.SSLContext:
        if self._tls is None:
            # Mozilla's roots, as httpx used, whatever the system's store holds.
            self._tls = ssl.create_default_context(cafile=certifi.where())
        return self._tls

    async def post(
        self,
        endpoint_id: str,
        url: str,
        *,
        body: bytes,
        headers: dict[str, str],
        host_header: str | None = None,
        server_name: str | None = None,
        excerpt_bytes: int = 4096,
    ) -> Answer:
        """POST `body` to `url`; `host_header` and `server_name` keep the endpoint's own name
        when `url` names the address that name was pinned to. Raises ConnectionFailed."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConnectionFailed(f"cannot send to {url[:200]!r}")
        tls = parts.scheme == "https"
        try:
            port = parts.port or (443 if tls else 80)
        except ValueError as exc:
            raise ConnectionFailed(f"not a valid URL: {exc}") from None
        origin = _Origin(parts.scheme, parts.hostname, port, server_name if tls else None)
        request_headers = [("host", host_header or _host(parts.hostname, parts.port))]
        request_headers += [(name, value) for name, value in headers.items() if name != "host"]
        request_headers.append(("content-length", str(len(body))))
        if parts.username is not None:  # development only: production refuses credentials
            user_pass = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
            basic = base64.b64encode(user_pass.encode()).decode()
            request_headers.append(("authorization", f"Basic {basic}"))
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        request = h11.Request(method="POST", target=target, headers=request_headers)

        slots = self._slots.get(endpoint_id)
        if slots is None:
            slots = self._slots[endpoint_id] = asyncio.Semaphore(self.max_connections)
        async with slots:
            connection, reused = self._take_idle(endpoint_id, origin), True
            if connection is None:
                connection, reused = await self._connect(origin), False
            try:
                answer, keep = await _exchange(connection, request, body, excerpt_bytes)
            except ConnectionFailed:
                connection.close()
                if not reused:
                    raise
                # A kept-alive connection the receiver closed meanwhile: nothing reached it,
                # so this is not a second delivery. Once more, on a new connection.
                connection = await self._connect(origin)
                try:
                    answer, keep = await _exchange(connection, request, body, excerpt_bytes)
                except BaseException:
                    connection.close()
                    raise
            except BaseException:  # a timeout (cancelled) mid-exchange: never reused
                connection.close()
                raise
            if keep:
                self._idle.setdefault((endpoint_id, origin), []).append(connection)
            else:
                connection.close()
            return answer

    def _take_idle(self, endpoint_id: str, origin: _Origin) -> _Connection | None:
        idle = self._idle.get((endpoint_id, origin))
        while idle:
            connection = idle.pop()
            if connection.usable():
                return connection
            connection.close()
        return None

    async def _connect(self, origin: _Origin) -> _Connection:
        tls = self._tls_context() if origin.scheme == "https" else None
        try:
            reader, writer = await asyncio.open_connection(
                origin.host,
                origin.port,
                ssl=tls,
                server_hostname=(origin.server_name or origin.host) if tls else None,
            )
        except ssl.SSLCertVerificationError as exc:
            raise ConnectionFailed(f"TLS certificate not accepted: {exc.verify_message}") from None
        except (OSError, ssl.SSLError) as exc:
            raise ConnectionFailed(_describe(exc)) from None
        return _Connection(reader, writer)

    async def aclose(self) -> None:
        for idle in self._idle.values():
            for connection in idle:
                connection.close()
        self._idle.clear()

    async def __aenter__(self) -> EndpointConnections:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()


async def _exchange(
    connection: _Connection, request: h11.Request, body: bytes, excerpt_bytes: int
) -> tuple[Answer, bool]:
    """One request and its answer; also says whether the connection can be kept alive."""
    conn = connection.h11
    try:
        connection.writer.write(
            conn.send(request) + conn.send(h11.Data(data=body)) + conn.send(h11.EndOfMessage())
        )
        await connection.writer.drain()
        response: h11.Response | None = None
        excerpt = bytearray()
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                data = await connection.reader.read(READ_CHUNK_BYTES)
                if not data and response is None:
                    raise ConnectionFailed("the receiver closed the connection without answering")
                conn.receive_data(data)
            elif isinstance(event, h11.Response):
                response = event
            elif isinstance(event, h11.Data):
                excerpt += event.data
                if len(excerpt) >= excerpt_bytes:
                    break  # the rest is never downloaded (nor the connection reused)
            elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
                break
            # h11.InformationalResponse (100 Continue, ...): the real answer follows.
    except h11.ProtocolError as exc:
        raise ConnectionFailed(f"not a valid HTTP answer: {exc}") from None
    except (OSError, ssl.SSLError) as exc:
        raise ConnectionFailed(_describe(exc)) from None
    if response is None:
        raise ConnectionFailed("the receiver closed the connection without answering")
    keep = conn.our_state is h11.DONE and conn.their_state is h11.DONE
    if keep:
        with contextlib.suppress(h11.ProtocolError):
            conn.start_next_cycle()
            keep = conn.our_state is h11.IDLE
    headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in response.headers}
    return Answer(response.status_code, headers, bytes(excerpt[:excerpt_bytes])), keep


def _host(hostname: str, port: int | None) -> str:
    host = f"[{hostname}]" if ":" in hostname else hostname
    return f"{host}:{port}" if port else host


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
