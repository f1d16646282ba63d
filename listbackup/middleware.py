"""Pure-ASGI middleware: request ids and access logs, and the request body limit."""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from typing import Any

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from listbackup import metrics
from listbackup.logs import request_id_var

log = logging.getLogger("listbackup.access")
REQUEST_ID_HEADER = "X-Request-ID"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def error_body(message: str, code: str, reason: str | None = None) -> bytes:
    """A GraphQL-shaped error body for failures outside GraphQL execution."""
    extensions: dict[str, Any] = {"code": code}
    if reason:
        extensions["reason"] = reason
    if request_id := request_id_var.get():
        extensions["requestId"] = request_id
    return json.dumps({"errors": [{"message": message, "extensions": extensions}]}).encode()


async def send_json_error(
    send: Send, status: int, message: str, code: str, reason: str | None = None
) -> None:
    body = error_body(message, code, reason)
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class RequestContextMiddleware:
    """Gives every request an id (the caller's ``X-Request-ID`` if sane), logs it once
    when done, and turns an exception that escaped everything else into a masked 500."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        incoming = Headers(scope=scope).get(REQUEST_ID_HEADER, "")
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        # Each request runs in its own task, so this does not leak into other requests.
        request_id_var.set(request_id)
        calls = metrics.start()
        started = time.perf_counter()
        status: int | None = None

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message).append(REQUEST_ID_HEADER, request_id)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("unhandled error on %s", scope.get("path"))
            if scope["type"] != "http" or status is not None:
                raise
            status = 500
            await send_json_error(
                send_with_id, 500, "Internal server error.", "INTERNAL_SERVER_ERROR"
            )
        finally:
            if calls and log.isEnabledFor(logging.DEBUG):
                log.debug(
                    "%s DynamoDB calls",
                    sum(calls.values()),
                    extra={"dynamodb_calls": dict(calls), "path": scope.get("path")},
                )
            log.info(
                "%s %s %s",
                scope.get("method", "WS"),
                scope.get("path"),
                status,
                extra={
                    "method": scope.get("method", "WEBSOCKET"),
                    "path": scope.get("path"),
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                },
            )


class _BodyTooLargeError(Exception):
    pass


class BodySizeLimitMiddleware:
    """Refuses request bodies over ``max_bytes`` with 413, declared or streamed."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._refuse(send)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _BodyTooLargeError
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _BodyTooLargeError:
            if started:
                raise
            await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        await send_json_error(
            send,
            413,
            f"The request body is larger than {self.max_bytes} bytes.",
            "BAD_USER_INPUT",
            "BODY_TOO_LARGE",
        )
