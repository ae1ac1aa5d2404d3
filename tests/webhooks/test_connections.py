"""The worker's HTTP client against real receivers on loopback that misbehave on purpose:
kept-alive connections (and one the receiver closed meanwhile), chunked and long answers,
answers that are not HTTP, receivers that close without answering, the per-endpoint cap and
credentials in a development URL."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Awaitable, Callable

import pytest

from app.webhooks.connections import ConnectionFailed, EndpointConnections

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _read_request(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    return head, await reader.readexactly(length)


async def _serve(handler: Handler, run: Callable[[str], Awaitable[None]]) -> None:
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        await run(f"http://127.0.0.1:{port}/hooks?from=portal")
    finally:
        server.close()


def test_kept_alive_connections_are_reused_and_a_closed_one_is_replaced():
    connections_seen: list[int] = []
    heads: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections_seen.append(1)
        for _ in range(3):  # closes after three requests, without saying so
            head, body = await _read_request(reader)
            heads.append(head)
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % len(body) + body)
            await writer.drain()
        writer.close()

    async def run(url: str) -> None:
        async with EndpointConnections(max_connections=1) as connections:
            for n in range(5):
                answer = await connections.post(
                    "e1", url, body=b'{"n": %d}' % n, headers={"webhook-id": f"msg_{n}"}
                )
                assert (answer.status_code, answer.excerpt) == (200, b'{"n": %d}' % n)
                await asyncio.sleep(0.01)  # the receiver's close arrives meanwhile

    asyncio.run(_serve(handler, run))
    assert len(heads) == 5  # every POST arrived once
    assert len(connections_seen) == 2  # three on the first connection, two on the second
    assert heads[0].startswith(b"POST /hooks?from=portal HTTP/1.1\r\n")
    assert b"host: 127.0.0.1:" in heads[0] and b"webhook-id: msg_0" in heads[0]


def test_chunked_and_long_answers_keep_only_the_first_bytes():
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(
            b"HTTP/1.1 202 Accepted\r\ntransfer-encoding: chunked\r\nRetry-After: 7\r\n\r\n"
        )
        writer.write(b"5\r\nhello\r\n0\r\n\r\n")
        await _read_request(reader)
        writer.write(b"HTTP/1.1 500 Oops\r\ncontent-length: 100000\r\n\r\n" + b"x" * 100_000)
        await writer.drain()
        writer.close()

    async def run(url: str) -> None:
        async with EndpointConnections(max_connections=1) as connections:
            first = await connections.post("e1", url, body=b"{}", headers={}, excerpt_bytes=64)
            assert (first.status_code, first.excerpt) == (202, b"hello")
            assert first.headers["retry-after"] == "7"
            second = await connections.post("e1", url, body=b"{}", headers={}, excerpt_bytes=64)
            assert (second.status_code, second.excerpt) == (500, b"x" * 64)

    asyncio.run(_serve(handler, run))


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (b"", "closed the connection without answering"),
        (b"SSH-2.0-OpenSSH_9.6\r\n\r\n", "not a valid HTTP answer"),
    ],
)
def test_a_receiver_that_does_not_answer_in_http_is_a_failed_connection(reply, message):
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(reply)
        await writer.drain()
        writer.close()

    async def run(url: str) -> None:
        async with EndpointConnections(max_connections=1) as connections:
            with pytest.raises(ConnectionFailed, match=message):
                await connections.post("e1", url, body=b"{}", headers={})

    asyncio.run(_serve(handler, run))


def test_nothing_listening_is_a_failed_connection():
    async def run() -> None:
        server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        server.close()
        await server.wait_closed()
        async with EndpointConnections(max_connections=1) as connections:
            with pytest.raises(ConnectionFailed, match="ConnectionRefusedError|Connect"):
                await connections.post("e1", f"http://127.0.0.1:{port}/", body=b"{}", headers={})

    asyncio.run(run())


def test_at_most_max_connections_are_in_use_per_endpoint():
    in_flight = 0
    most = 0

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal in_flight, most
        while not reader.at_eof():
            try:
                await _read_request(reader)
            except asyncio.IncompleteReadError:
                break
            in_flight += 1
            most = max(most, in_flight)
            await asyncio.sleep(0.02)
            in_flight -= 1
            writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
            await writer.drain()

    async def run(url: str) -> None:
        async with EndpointConnections(max_connections=3) as connections:
            answers = await asyncio.gather(
                *(connections.post("e1", url, body=b"{}", headers={}) for _ in range(12))
            )
            assert {a.status_code for a in answers} == {204}

    asyncio.run(_serve(handler, run))
    assert most == 3


def test_credentials_in_a_development_url_are_sent_as_basic_auth():
    heads: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head, _ = await _read_request(reader)
        heads.append(head)
        writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
        await writer.drain()
        writer.close()

    async def run(url: str) -> None:
        with_user = url.replace("http://", "http://hook%20user:s%3Acret@")
        async with EndpointConnections(max_connections=1) as connections:
            await connections.post("e1", with_user, body=b"{}", headers={})

    asyncio.run(_serve(handler, run))
    expected = base64.b64encode(b"hook user:s:cret")
    assert b"authorization: Basic " + expected in heads[0]
