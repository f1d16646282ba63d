"""The WebSocket protocol we serve with: one write per turn of the loop, and messages an
app may send without waiting (listbackup/wsprotocol.py)."""

from __future__ import annotations

import asyncio

from starlette.types import Receive, Scope, Send
from websockets.asyncio.client import connect

from listbackup.devstack import live_server
from listbackup.wsprotocol import SEND_TEXT, CoalescingTransport


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
