"""The Starlette app: /graphql (HTTP, GraphiQL, WebSocket), /healthz, /readyz, and with
GraphiQL on, its assets under /graphiql/assets."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import re
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
import strawberry
from cross_web import HTTPException
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.types.unset import UnsetType
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from listbackup import graphiql, live, request_json, wsprotocol
from listbackup.config import Settings
from listbackup.context import Context
from listbackup.deps import AppDeps, open_deps, utc_now
from listbackup.errors import DomainError, UnauthenticatedError
from listbackup.middleware import (
    REQUEST_ID_HEADER,
    BodySizeLimitMiddleware,
    RequestContextMiddleware,
    error_body,
)
from listbackup.schema import build_schema
from listbackup.services import accounts, oauth
from listbackup.websocket_rules import (
    KEEP_ALIVE_SECONDS,
    AnonymousSlots,
    LegacyGraphQLWSHandler,
    Slot,
    TransportWSHandler,
)
from listbackup.worker import Timing, Worker

log = logging.getLogger(__name__)


#: What the lifespan shares with requests (``request.state.deps``) and with the server's
#: WebSocket protocol (``wsprotocol.SLOW_CLIENT_SECONDS``).
State = dict[str, Any]


class GraphQLView(GraphQL[Context, None]):
    """Strawberry's ASGI view with our context and JSON errors for malformed requests."""

    graphql_ws_handler_class = LegacyGraphQLWSHandler
    graphql_transport_ws_handler_class = TransportWSHandler

    def __init__(
        self,
        schema: strawberry.Schema,
        *,
        graphiql: bool,
        allowed_origins: Sequence[str],
        max_anonymous_websockets: int,
        init_timeout: timedelta,
        keep_alive_seconds: float = KEEP_ALIVE_SECONDS,
    ) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if graphiql else None,
            allowed_origins=allowed_origins,
            connection_init_wait_timeout=init_timeout,
            keep_alive=True,
            keep_alive_interval=keep_alive_seconds,
        )
        self._anonymous = AnonymousSlots(max_anonymous_websockets)

    async def render_graphql_ide(self, request: Request) -> Response:
        """Our GraphiQL page: its assets come from this app, not a CDN."""
        return graphiql.page_response()

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        return Context(request.state.deps, request, response)

    def decode_json(self, data: str | bytes) -> object:
        """Every JSON the view reads (bodies, GET parameters, WebSocket messages), bounded."""
        return request_json.decode(data)

    def parse_json(self, data: str | bytes) -> Any:
        """A POST body or GET parameter: a 400 saying what is wrong with it, if anything."""
        try:
            return request_json.request(data)
        except request_json.RefusedJson as exc:
            raise HTTPException(400, exc.message) from exc

    async def on_ws_connect(self, context: Context) -> UnsetType:
        """graphql-transport-ws and graphql-ws carry the token in connection_init.

        A missing or bad token does not refuse the connection: its operations answer
        UNAUTHENTICATED, each one checked on its own. A valid one frees the connection's
        anonymous slot."""
        params = context.connection_params or {}
        token = params.get("authorization") or params.get("Authorization")
        if isinstance(token, str):
            context.authorization = token
            with contextlib.suppress(UnauthenticatedError):
                await context.principal()
                slot: Slot | None = context.request.scope.get(_SLOT)
                if slot is not None:
                    slot.release()
        return UnsetType()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
            return
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            response = await self.run(request)
        except HTTPException as exc:
            code = "BAD_USER_INPUT" if exc.status_code < 500 else "INTERNAL_SERVER_ERROR"
            response = Response(
                error_body(exc.reason, code, "BAD_REQUEST"),
                status_code=exc.status_code,
                media_type="application/json",
            )
        await response(scope, receive, send)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client")
        slot = self._anonymous.take(client[0] if client else "unknown")
        if slot is None:
            # Refused at the handshake (the server answers 403): too many idle sockets.
            await send({"type": "websocket.close", "code": 1008, "reason": "Too many connections"})
            return
        scope[_SLOT] = slot
        try:
            await super().__call__(scope, receive, send)
        finally:
            slot.release()


#: Where a WebSocket's anonymous slot rides in its ASGI scope.
_SLOT = "listbackup.anonymous_slot"


async def oauth_callback(request: Request) -> Response:
    """The provider sends the browser back here; we always answer with a redirect to the
    app: ``?platform=<slug>&state=…&code=…`` for the app to complete with
    ``completeOAuthConnection`` under its user's token, or ``?platform=<slug>&error=<code>``;
    never a 500, and never a connection made here (see services/oauth.py)."""
    deps: AppDeps = request.state.deps
    slug = request.path_params["slug"]
    params = request.query_params
    target = f"{deps.settings.app_url.rstrip('/')}/oauth/callback"
    state, code = params.get("state", ""), params.get("code", "")
    try:
        if params.get("error"):
            # The user declined (or the provider failed): the state is spent all the same.
            await deps.store.oauth_states.take(state[: oauth.MAX_STATE_LENGTH])
            error = re.sub(r"[^a-z_]", "", params["error"].lower())[:40] or "provider_error"
            query = {"platform": slug, "error": error}
        else:
            await oauth.check_return(
                deps.for_operation(), platform_slug=slug, state=state, code=code
            )
            query = {"platform": slug, "state": state, "code": code}
    except DomainError as exc:
        query = {"platform": slug, "error": (exc.reason or exc.code).lower()}
    except Exception:
        log.exception("OAuth callback for %s failed", slug)
        query = {"error": "internal_error", "platform": slug}
    return RedirectResponse(f"{target}?{urlencode(query)}", status_code=302)


async def healthz(request: Request) -> Response:
    """The process is alive; says nothing about its dependencies."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    """Ready to serve: DynamoDB answers within the readiness timeout."""
    deps: AppDeps = request.state.deps
    try:
        async with asyncio.timeout(deps.settings.readiness_timeout_seconds):
            await deps.clients.dynamodb.describe_table(TableName=deps.store.platforms.table)
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready", never a 500
        log.warning("readiness check failed: DynamoDB: %s", type(exc).__name__)
        return JSONResponse({"status": "unavailable", "dynamodb": "unreachable"}, 503)
    return JSONResponse({"status": "ready", "dynamodb": "ok"})


@asynccontextmanager
async def _beside(deps: AppDeps, concurrency: int) -> AsyncIterator[None]:
    """A worker in this process while the block runs; drained when it exits."""
    if concurrency <= 0:
        yield
        return
    worker = Worker(deps, concurrency=concurrency, timing=Timing.from_settings(deps.settings))
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop), name="worker")
    try:
        yield
    finally:
        stop.set()
        await task


async def _resume_moves(deps: AppDeps) -> None:
    try:
        resumed = await accounts.resume_moves(deps.for_operation())
    except Exception:
        log.exception("could not resume interrupted account moves")
        return
    if resumed:
        log.warning("resumed %d interrupted account moves", resumed)


#: Collections of the two younger generations between two full ones (CPython: 10).
FULL_COLLECTION_EVERY = 100


def _rarer_full_collections() -> None:
    """What a process holds for a long time (live subscriptions: tens of kilobytes each)
    is walked by every full collection, and events to many subscribers allocate quickly:
    at 10 000 subscriptions full collections took half the CPU of delivering a burst
    (docs/performance.md, "Live job status"). Ten times fewer of them; the younger
    generations, which hold a request's garbage, are collected as often as before."""
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_COLLECTION_EVERY)


def create_app(
    settings: Settings,
    *,
    clock: Callable[[], datetime] = utc_now,
    token_clock: Callable[[], datetime] = utc_now,
    platform_transport: httpx.AsyncBaseTransport | None = None,
    worker_concurrency: int = 0,
) -> Starlette:
    """The ASGI app. Tests may move the clocks and route platform traffic (connectors,
    OAuth token endpoints) to local fakes (see :func:`listbackup.deps.open_deps`). With
    ``worker_concurrency``, a worker runs in the same process (``listbackup dev``)."""
    settings.require_identity()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[State]:
        async with (
            open_deps(
                settings,
                clock=clock,
                token_clock=token_clock,
                platform_transport=platform_transport,
            ) as deps,
            live.fanout(deps),
        ):
            # A move a crashed process left half-done is finished before serving.
            await _resume_moves(deps)
            # What start-up made lives as long as the process: the collector need not
            # walk it again on every collection a request's garbage sets off.
            gc.collect()
            gc.freeze()
            _rarer_full_collections()
            app.state.deps = deps  # for tests and benchmarks that look inside
            async with _beside(deps, worker_concurrency):
                yield {
                    "deps": deps,
                    wsprotocol.SLOW_CLIENT_SECONDS: settings.websocket_slow_client_seconds,
                }

    schema = build_schema(
        max_query_cost=settings.max_query_cost,
        # GraphiQL needs introspection; codegen can have it without GraphiQL.
        introspection=settings.graphiql or settings.introspection,
        suggestions=settings.graphiql,
    )
    view = GraphQLView(
        schema,
        graphiql=settings.graphiql,
        allowed_origins=settings.cors_origins,
        max_anonymous_websockets=settings.max_anonymous_websockets,
        init_timeout=timedelta(seconds=settings.websocket_init_timeout_seconds),
        keep_alive_seconds=settings.websocket_keep_alive_seconds,
    )
    middleware: list[Middleware] = [
        Middleware(RequestContextMiddleware),
        # The client's address for rate limits: X-Forwarded-For only from trusted proxies.
        Middleware(ProxyHeadersMiddleware, trusted_hosts=list(settings.trusted_proxies)),
        Middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", REQUEST_ID_HEADER],
            expose_headers=[REQUEST_ID_HEADER],
            max_age=600,
        ),
        Middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes),
    ]
    routes: list[Any] = [
        Route("/graphql", view, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", view),
        Route("/oauth/callback/{slug:str}", oauth_callback, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
    ]
    if settings.graphiql:
        routes.append(graphiql.assets_mount())
    return Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
