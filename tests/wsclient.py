"""A small GraphQL-over-WebSocket client for tests: both protocols, one operation at a time."""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

TRANSPORT_WS = "graphql-transport-ws"
LEGACY_WS = "graphql-ws"


def ws_url(app_url: str) -> str:
    return app_url.replace("http://", "ws://") + "/graphql"


class Socket:
    def __init__(self, ws: ClientConnection, protocol: str) -> None:
        self.ws = ws
        self.protocol = protocol
        self._ids = itertools.count(1)

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(message))

    async def receive(self, *, keep_alives: bool = False) -> dict[str, Any]:
        """The next message; legacy "ka"s (which may come at any time) only if asked for."""
        while True:
            message: dict[str, Any] = json.loads(await self.ws.recv(decode=True))
            if keep_alives or message != {"type": "ka"}:
                return message

    async def init(self, token: str | None) -> dict[str, Any]:
        payload = {"authorization": f"Bearer {token}"} if token else {}
        await self.send({"type": "connection_init", "payload": payload})
        return await self.receive()

    async def start(self, query: str, variables: dict[str, Any] | None = None) -> str:
        """Send one operation; return its id."""
        op_id = str(next(self._ids))
        kind = "subscribe" if self.protocol == TRANSPORT_WS else "start"
        payload = {"query": query, "variables": variables or {}}
        await self.send({"id": op_id, "type": kind, "payload": payload})
        return op_id

    async def execute(self, query: str, **variables: Any) -> dict[str, Any]:
        """Run a query or mutation (graphql-transport-ws); return its one result."""
        op_id = await self.start(query, variables)
        message = await self.receive()
        assert message["id"] == op_id, message
        assert message["type"] == "next", message
        done = await self.receive()
        assert done == {"id": op_id, "type": "complete"}, done
        result: dict[str, Any] = message["payload"]
        return result


@asynccontextmanager
async def socket(
    app_url: str, token: str | None = None, *, protocol: str = TRANSPORT_WS, init: bool = True
) -> AsyncIterator[Socket]:
    """An open connection, initialised (with the token, if any) unless ``init`` is False."""
    async with connect(ws_url(app_url), subprotocols=[Subprotocol(protocol)]) as ws:
        opened = Socket(ws, protocol)
        if init:
            ack = await opened.init(token)
            assert ack == {"type": "connection_ack"}, ack
        yield opened
