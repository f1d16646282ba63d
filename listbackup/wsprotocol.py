"""uvicorn's WebSocket protocol, writing what one turn of the event loop sends at once.

uvicorn writes each WebSocket frame to its socket as it is sent: a system call per
frame. A job event to the hundred subscriptions of one connection is a hundred frames,
sent by a hundred tasks that the event woke together; at ten thousand subscriptions
the calls alone took about half of the CPU of delivering a burst (docs/performance.md,
"Live job status"). Here every write made during one turn of the loop joins a buffer
that is written, in one call, when the turn's other callbacks have run. The order of
writes is kept (frames, pings and the close frame alike), and flow control is
uvicorn's: the socket's own buffer still pauses senders when it fills.

It also offers the app, as an ASGI scope extension (``SEND_TEXT``), a way to send a text
message without awaiting: a subscription event to ten thousand subscribers is ten
thousand messages, and the ASGI ``send`` of each (Starlette's checks, then uvicorn's)
cost about as much as everything else a delivery does.

And it drops a client that stays far behind: when the socket's buffer has been full
(the client reads nothing of what waits for it) for the app's
``SLOW_CLIENT_SECONDS`` (a lifespan state key; 30 s by default), the connection is cut
at once. A close frame would wait behind what the client does not read, and a socket
closed the polite way waits for its buffer to drain: the app's tasks sending to it
would wait forever, and what they hold with them.

Served with ``ws=PROTOCOL`` in the uvicorn config (``listbackup serve``, ``dev``, the
tests' servers).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.exceptions import InvalidState
from websockets.http11 import Request

#: The uvicorn ``ws`` setting that selects this protocol.
PROTOCOL = "listbackup.wsprotocol:CoalescingWebSocketProtocol"

#: The scope extension: ``scope["extensions"][SEND_TEXT](text)`` sends a text message
#: now and returns True, or returns False (nothing sent) when it cannot: the connection
#: is not open, or its socket's buffer is full. Then the app sends it the ASGI way,
#: which waits for the buffer or raises the disconnection.
SEND_TEXT = "listbackup.websocket.send_text_nowait"
SendTextNowait = Callable[[str], bool]
#: What may wait to be written (this turn's and the socket's) before SEND_TEXT refuses.
NOWAIT_BUFFER_BYTES = 1 << 20

#: The lifespan state key (seconds) after which a client whose socket stays full is dropped.
SLOW_CLIENT_SECONDS = "listbackup.websocket.slow_client_seconds"
DEFAULT_SLOW_CLIENT_SECONDS = 30.0

log = logging.getLogger(__name__)


class CoalescingWebSocketProtocol(WebSocketsSansIOProtocol):
    _stalled: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self.transport = CoalescingTransport(self.transport)

    def pause_writing(self) -> None:
        super().pause_writing()
        if self._stalled is None:
            limit = self.app_state.get(SLOW_CLIENT_SECONDS, DEFAULT_SLOW_CLIENT_SECONDS)
            self._stalled = self.loop.call_later(limit, self._drop_slow_client, limit)

    def resume_writing(self) -> None:
        super().resume_writing()
        self._unstall()

    def connection_lost(self, exc: Exception | None) -> None:
        self._unstall()
        super().connection_lost(exc)

    def _unstall(self) -> None:
        if self._stalled is not None:
            self._stalled.cancel()
            self._stalled = None

    def _drop_slow_client(self, limit: float) -> None:
        self._stalled = None
        log.warning(
            "dropping a WebSocket whose client read nothing for %g s (%d bytes waiting)",
            limit,
            self.transport.get_write_buffer_size(),
        )
        self.transport.abort()

    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)
        if self.response.status_code == 101:  # else refused, and no scope was made
            extensions: dict[str, Any] = self.scope.setdefault("extensions", {}) or {}
            extensions[SEND_TEXT] = self.send_text_nowait

    def send_text_nowait(self, text: str) -> bool:
        """What ``send({"type": "websocket.send", "text": text})`` does, if it need not
        wait; False when it would wait or fail."""
        if (
            not self.handshake_complete
            or self.close_sent
            or self.disconnected
            or self.initial_response is not None
            or not self.writable.is_set()
            or self.transport.is_closing()
            # The socket's buffer only says it is full when a turn's writes reach it.
            or self.transport.get_write_buffer_size() > NOWAIT_BUFFER_BYTES
        ):
            return False
        try:
            self.conn.send_text(text.encode())
        except InvalidState:
            return False
        self.transport.write(b"".join(self.conn.data_to_send()))
        return True


class CoalescingTransport(asyncio.Transport):
    """A transport whose writes wait for the end of the loop's turn, then go as one."""

    def __init__(self, transport: asyncio.Transport) -> None:
        super().__init__()
        self._transport = transport
        self._loop = asyncio.get_running_loop()
        self._chunks: list[bytes] = []
        self._size = 0  # of the chunks

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return
        if not self._chunks:
            self._loop.call_soon(self.flush)
        self._chunks.append(bytes(data))
        self._size += len(data)

    def flush(self) -> None:
        if not self._chunks:
            return
        data = self._chunks[0] if len(self._chunks) == 1 else b"".join(self._chunks)
        self._chunks.clear()
        self._size = 0
        if not self._transport.is_closing():
            self._transport.write(data)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def abort(self) -> None:
        self._chunks.clear()
        self._size = 0
        self._transport.abort()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def pause_reading(self) -> None:
        self._transport.pause_reading()

    def resume_reading(self) -> None:
        self._transport.resume_reading()

    def is_reading(self) -> bool:
        return self._transport.is_reading()

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + self._size

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._transport.get_extra_info(name, default)
