"""The WebSocket protocol we serve with: one write per turn of the loop, and messages an
app may send without waiting (listbackup/wsprotocol.py)."""

from __future__ import annotations

import asyncio
import logging
import os
import socket

import pytest
from starlette.types import Receive, Scope, Send
from websockets.asyncio.client import connect

from listbackup.devstack import live_server
from listbackup.wsprotocol import SEND_TEXT, SLOW_CLIENT_SECONDS, CoalescingTransport


class Recorder(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_write_buffer_size(self) -> int:
        return 0


async def test_the_writes_of_one_turn_go_as_one_in_order_and_before_a_close() -> None:
    recorder = Recorder()
    transport = CoalescingTransport(recorder)
    for part in (b"a", b"bc", b"d"):
        transport.write(part)
    assert recorder.writes == []
    assert transport.get_write_buffer_size() == 4
    await asyncio.sleep(0)
    transport.write(b"e")
    transport.close()

    assert recorder.writes == [b"abcd", b"e"]
    assert recorder.closed
    transport.write(b"late")
    await asyncio.sleep(0)
    assert recorder.writes == [b"abcd", b"e"]  # nothing after the close


async def test_an_app_sends_without_waiting_in_order_with_what_it_sends_as_usual() -> None:
    refused: list[bool] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            return
        nowait = scope["extensions"][SEND_TEXT]
        await receive()  # websocket.connect
        refused.append(nowait("before the handshake"))
        await send({"type": "websocket.accept"})
        nowait("a")
        await send({"type": "websocket.send", "text": "b"})
        nowait("c")
        protocol = nowait.__self__  # the socket's buffer fills: the app must wait
        protocol.pause_writing()
        refused.append(nowait("while full"))
        protocol.resume_writing()
        nowait("d")
        await send({"type": "websocket.close", "code": 1000})
        refused.append(nowait("after the close"))

    async with live_server(app) as url, connect(url.replace("http", "ws", 1) + "/") as ws:
        got = [message async for message in ws]

    assert got == ["a", "b", "c", "d"]
    assert refused == [False, False, False]


async def test_a_client_that_reads_nothing_is_dropped(caplog: pytest.LogCaptureFixture) -> None:
    ended = asyncio.get_running_loop().create_future()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await receive()
            scope["state"][SLOW_CLIENT_SECONDS] = 0.3
            await send({"type": "lifespan.startup.complete"})
            await receive()
            await send({"type": "lifespan.shutdown.complete"})
            return
        await receive()
        await send({"type": "websocket.accept"})
        sent, text = 0, os.urandom(32_768).hex()
        try:
            while sent < 10_000:  # far more than the client's and the kernel's buffers hold
                await send({"type": "websocket.send", "text": text})
                sent += 1
                await asyncio.sleep(0)
        except OSError:  # uvicorn's ClientDisconnected: the connection was cut
            ended.set_result(sent)

    reader = socket.socket()
    reader.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    with caplog.at_level(logging.WARNING, logger="listbackup.wsprotocol"):
        async with live_server(app) as url:
            reader.connect(("127.0.0.1", int(url.rsplit(":", 1)[1])))
            reader.setblocking(False)
            ws_url = url.replace("http", "ws", 1) + "/"
            async with connect(ws_url, sock=reader, compression=None, close_timeout=0.1):
                # ... and never reads. Cut within the limit and a little.
                sent = await asyncio.wait_for(ended, 10)

    assert sent > 0
    assert "dropping a WebSocket whose client read nothing" in caplog.text
