"""WebSocket connection rules shared by both GraphQL protocols.

- A connection must send ``connection_init`` within the view's
  ``connection_init_wait_timeout``, else it is closed with 4408 (Strawberry's
  graphql-transport-ws handler does this itself; its legacy graphql-ws one does not).
- Connections that have not presented a valid token are capped per client address, so
  one address cannot hold thousands of idle sockets open.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from typing import Any

from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler

INIT_TIMEOUT_CODE = 4408
#: Seconds between the server's keep-alives: graphql-transport-ws pings, legacy "ka"s
#: (proxies and load balancers close connections idle for a minute or so).
KEEP_ALIVE_SECONDS = 15.0


class AnonymousSlots:
    """Counts each address's connections that are not (yet) authenticated."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._open: Counter[str] = Counter()

    def take(self, address: str) -> Slot | None:
        """A slot for a new connection, or None when the address has no room left."""
        if self._open[address] >= self.limit:
            return None
        self._open[address] += 1
        return Slot(self, address)

    def _give_back(self, address: str) -> None:
        self._open[address] -= 1
        if self._open[address] <= 0:
            del self._open[address]


class Slot:
    """One connection's place among its address's anonymous ones, released once."""

    def __init__(self, slots: AnonymousSlots, address: str) -> None:
        self._slots: AnonymousSlots | None = slots
        self._address = address

    def release(self) -> None:
        """The connection authenticated or closed: it no longer counts."""
        if self._slots is not None:
            self._slots._give_back(self._address)
            self._slots = None


class LegacyGraphQLWSHandler(BaseGraphQLWSHandler[Any, None]):
    """The legacy ``graphql-ws`` protocol, with the same init timeout as the new one."""

    async def handle(self) -> None:
        watchdog = asyncio.create_task(self._close_unless_initialised())
        try:
            await super().handle()
        finally:
            watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watchdog

    async def _close_unless_initialised(self) -> None:
        await asyncio.sleep(self.view.connection_init_wait_timeout.total_seconds())
        if not self.connection_acknowledged:
            await self.websocket.close(
                code=INIT_TIMEOUT_CODE, reason="Connection initialisation timeout"
            )


class TransportWSHandler(BaseGraphQLTransportWSHandler[Any, None]):
    """graphql-transport-ws, with the server pinging once the connection is acknowledged
    (the protocol lets either side ping; the client answers pong)."""

    async def handle(self) -> None:
        pinger = asyncio.create_task(self._ping())
        try:
            await super().handle()
        finally:
            pinger.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pinger

    async def _ping(self) -> None:
        interval = getattr(self.view, "keep_alive_interval", None) or KEEP_ALIVE_SECONDS
        while True:
            await asyncio.sleep(interval)
            if self.connection_acknowledged:
                with contextlib.suppress(Exception):  # a socket closing meanwhile
                    await self.send_message({"type": "ping"})
