"""GraphQL over WebSocket on /graphql: graphql-transport-ws and the legacy graphql-ws."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from listbackup.config import Settings
from listbackup.schema.limits import MAX_TOKENS

QUERY = '{ platform(slug: "stripe") { slug name } }'
STRIPE = {"data": {"platform": {"slug": "stripe", "name": "Stripe"}}}


def ws_url(app_url: str) -> str:
    return app_url.replace("http://", "ws://") + "/graphql"


async def receive(ws: ClientConnection) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await ws.recv(decode=True))
    return message


async def receive_frame(ws: ClientConnection) -> dict[str, Any]:
    """The next legacy frame that is not a keep-alive: "ka"s may come at any time, even first."""
    while (message := await receive(ws)) == {"type": "ka"}:
        pass
    return message


async def send(ws: ClientConnection, message: dict[str, Any]) -> None:
    await ws.send(json.dumps(message))


async def test_graphql_transport_ws_runs_an_operation(app_url: str) -> None:
    async with connect(ws_url(app_url), subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        assert ws.subprotocol == "graphql-transport-ws"
        await send(ws, {"type": "connection_init", "payload": {}})
        assert await receive(ws) == {"type": "connection_ack"}

        await send(ws, {"id": "1", "type": "subscribe", "payload": {"query": QUERY}})

        assert await receive(ws) == {"id": "1", "type": "next", "payload": STRIPE}
        assert await receive(ws) == {"id": "1", "type": "complete"}


async def test_graphql_transport_ws_errors_carry_codes(app_url: str) -> None:
    async with connect(ws_url(app_url), subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        await send(ws, {"type": "connection_init", "payload": {}})
        await receive(ws)
        await send(
            ws,
            {
                "id": "2",
                "type": "subscribe",
                "payload": {"query": '{ platform(slug: "x") { slug } }'},
            },
        )

        message = await receive(ws)

    assert message["type"] == "next"
    assert message["payload"]["data"] == {"platform": None}
    assert message["payload"]["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_legacy_graphql_ws_is_wired(app_url: str) -> None:
    async with connect(ws_url(app_url), subprotocols=["graphql-ws"]) as ws:  # type: ignore[list-item]
        assert ws.subprotocol == "graphql-ws"
        await send(ws, {"type": "connection_init", "payload": {}})
        assert await receive_frame(ws) == {"type": "connection_ack"}

        # The legacy protocol carries subscriptions only; anything else is an error frame.
        await send(ws, {"id": "1", "type": "start", "payload": {"query": QUERY}})

        assert await receive_frame(ws) == {
            "id": "1",
            "type": "error",
            "payload": {
                "message": "queries are not allowed",
                "extensions": {"code": "BAD_USER_INPUT", "reason": "GRAPHQL_VALIDATION_FAILED"},
            },
        }


async def test_unknown_subprotocol_is_closed(app_url: str) -> None:
    async with connect(ws_url(app_url), subprotocols=["chat"]) as ws:  # type: ignore[list-item]
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()

    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4406


async def test_handshake_from_a_foreign_origin_is_refused(app_url: str) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(
            ws_url(app_url),
            subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
            origin="https://evil.example.com",  # type: ignore[arg-type]
        ):
            pass

    assert refused.value.response.status_code == 403


async def test_a_message_over_the_body_limit_closes_the_socket(
    app_url: str, settings: Settings
) -> None:
    # The review sent a 4 MB frame (16 MB were accepted): the body limit holds here too.
    padding = "x" * settings.max_body_bytes
    subscribe = {
        "id": "1",
        "type": "subscribe",
        "payload": {"query": QUERY, "extensions": {"padding": padding}},
    }
    async with connect(ws_url(app_url), subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        await send(ws, {"type": "connection_init", "payload": {}})
        await receive(ws)
        await send(ws, subscribe)
        with pytest.raises(ConnectionClosed) as closed:
            await receive(ws)

    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1009  # message too big


async def test_a_token_flood_over_websocket_is_refused_fast(app_url: str) -> None:
    flood = "{" + " __typename" * (4 * MAX_TOKENS) + " }"
    async with connect(ws_url(app_url), subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        await send(ws, {"type": "connection_init", "payload": {}})
        await receive(ws)
        started = time.perf_counter()
        await send(ws, {"id": "1", "type": "subscribe", "payload": {"query": flood}})
        message = await receive(ws)
        elapsed = time.perf_counter() - started

    assert message["type"] == "error"
    [error] = message["payload"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "reason": "GRAPHQL_PARSE_FAILED"}
    assert f"more than {MAX_TOKENS} tokens" in error["message"]
    assert elapsed < 1  # loose: before the limit this held the loop for seconds
