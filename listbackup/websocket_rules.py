"""WebSocket connection rules shared by both GraphQL protocols.

- A connection must send ``connection_init`` within the view's
  ``connection_init_wait_timeout``, else it is closed with 4408 (Strawberry's
  graphql-transport-ws handler does this itself; its legacy graphql-ws one does not).
- Connections that have not presented a valid token are capped per client address, so
  one address cannot hold thousands of idle sockets open.
- Each operation runs with an outlet (schema/shared_events.py) that sends its results
  as the protocol's next message, straight to the socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import Counter
from collections.abc import Callable
from functools import cached_property
from typing import Any

from starlette.websockets import WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.async_base_view import AsyncWebSocketAdapter
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler

from listbackup.schema.shared_events import OUTLET, Outlet
from listbackup.wsprotocol import SEND_TEXT, SendTextNowait

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


class TextSender:
    """Sends messages already encoded, as the adapter's ``send_json`` sends those it
    encodes; without waiting, when the server offers that (wsprotocol.py)."""

    def __init__(self, websocket: AsyncWebSocketAdapter) -> None:
        if not isinstance(websocket, ASGIWebSocketAdapter):
            raise TypeError(f"not an ASGI WebSocket: {type(websocket).__name__}")
        self._socket = websocket.ws
        extensions = self._socket.scope.get("extensions") or {}
        self._nowait: SendTextNowait | None = extensions.get(SEND_TEXT)

    async def send(self, text: str) -> None:
        if self.send_nowait(text):
            return
        try:
            await self._socket.send_text(text)
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc

    def send_nowait(self, text: str) -> bool:
        return self._nowait is not None and self._nowait(text)


def _cancelled(task: asyncio.Task[Any] | None) -> bool:
    return task is None or task.cancelling() > 0 or task.done()


def outlet(sender: TextSender, head: str, is_over: Callable[[], bool]) -> Outlet:
    """An operation's outlet: a payload goes as ``head + payload + "}"``."""

    async def send(payload: str) -> bool:
        if is_over():
            return False
        await sender.send(head + payload + "}")
        return True

    def send_nowait(payload: str) -> bool:
        return not is_over() and sender.send_nowait(head + payload + "}")

    return Outlet(send, send_nowait)


class LegacyGraphQLWSHandler(BaseGraphQLWSHandler[Any, None]):
    """The legacy ``graphql-ws`` protocol, with the same init timeout as the new one."""

    @cached_property
    def text_sender(self) -> TextSender:
        return TextSender(self.websocket)

    async def handle_async_results(
        self,
        operation_id: str,
        query: str,
        operation_name: str | None,
        variables: dict[str, object] | None,
    ) -> None:
        # As send_data_message() frames a result.
        head = '{"type":"data","id":' + json.dumps(operation_id) + ',"payload":'
        task = asyncio.current_task()
        # Over once stopped (the task is cancelled then), before it even runs again.
        token = OUTLET.set(outlet(self.text_sender, head, lambda: _cancelled(task)))
        try:
            await super().handle_async_results(operation_id, query, operation_name, variables)
        finally:
            OUTLET.reset(token)  # the outlet's closure holds the task: no cycle through it

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

    @cached_property
    def text_sender(self) -> TextSender:
        return TextSender(self.websocket)

    async def run_operation(self, operation: Operation[Any, None]) -> None:
        # As Operation.send_next() frames a result.
        head = '{"id":' + json.dumps(operation.id) + ',"type":"next","payload":'
        task = asyncio.current_task()

        def over() -> bool:
            # Completed by us, or by the client (its task is cancelled then, and the id
            # may be reused at once): nothing more goes out under this id.
            return operation.completed or _cancelled(task)

        token = OUTLET.set(outlet(self.text_sender, head, over))
        try:
            await super().run_operation(operation)
        finally:
            OUTLET.reset(token)  # the outlet's closure holds the operation: no cycle

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
