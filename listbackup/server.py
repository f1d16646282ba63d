"""The Starlette app: /graphql (HTTP, GraphiQL, WebSocket), /healthz, /readyz."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, TypedDict
from urllib.parse import urlencode

import httpx
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

from listbackup import ids
from listbackup.auth import TokenVerifier, issuer
from listbackup.aws import open_clients
from listbackup.config import Settings, merge_platforms
from listbackup.context import AppDeps, Context
from listbackup.errors import DomainError
from listbackup.loaders import Loaders
from listbackup.middleware import (
    REQUEST_ID_HEADER,
    BodySizeLimitMiddleware,
    RequestContextMiddleware,
    error_body,
)
from listbackup.schema import build_schema
from listbackup.services import accounts, oauth
from listbackup.services.connections import Platforms
from listbackup.store import Store, secrets
from listbackup.store.cognito import IdentityProvider
from listbackup.store.events import EventPublisher
from listbackup.store.mailer import Mailer

log = logging.getLogger(__name__)


class State(TypedDict):
    deps: AppDeps


class GraphQLView(GraphQL[Context, None]):
    """Strawberry's ASGI view with our context and JSON errors for malformed requests."""

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        return Context(request.state.deps, request, response)

    async def on_ws_connect(self, context: Context) -> UnsetType:
        """graphql-transport-ws and graphql-ws carry the token in connection_init."""
        params = context.connection_params or {}
        token = params.get("authorization") or params.get("Authorization")
        if isinstance(token, str):
            context.authorization = token
        return UnsetType()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
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


async def oauth_callback(request: Request) -> Response:
    """The provider sends the browser back here; we always answer with a redirect to the
    app: ``?connection=<id>`` on success, ``?error=<code>`` otherwise, never a 500."""
    deps: AppDeps = request.state.deps
    slug = request.path_params["slug"]
    params = request.query_params
    target = f"{deps.settings.app_url.rstrip('/')}/oauth/callback"
    try:
        if params.get("error"):
            # The user declined (or the provider failed): the state is spent all the same.
            await deps.store.oauth_states.take(params.get("state", "")[:200])
            error = re.sub(r"[^a-z_]", "", params["error"].lower())[:40] or "provider_error"
            query = {"error": error, "platform": slug}
        else:
            connection = await oauth.complete(
                store=deps.store,
                loaders=Loaders(deps.store, clock=deps.clock),
                platforms=deps.platforms,
                events=deps.events,
                state=params.get("state", ""),
                code=params.get("code", ""),
                public_url=deps.settings.public_url,
                now=deps.clock(),
                platform_slug=slug,
            )
            query = {"connection": ids.encode(ids.CONNECTION, connection.id), "platform": slug}
    except DomainError as exc:
        query = {"error": (exc.reason or exc.code).lower(), "platform": slug}
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


async def _resume_moves(store: Store) -> None:
    try:
        resumed = await accounts.resume_moves(store=store)
    except Exception:
        log.exception("could not resume interrupted account moves")
        return
    if resumed:
        log.warning("resumed %d interrupted account moves", resumed)


def utc_now() -> datetime:
    return datetime.now(UTC)


def create_app(
    settings: Settings,
    *,
    clock: Callable[[], datetime] = utc_now,
    platform_transport: httpx.AsyncBaseTransport | None = None,
) -> Starlette:
    """The ASGI app. Tests may move the clock and route platform traffic (connectors,
    OAuth token endpoints) to local fakes."""
    pool_id, client_id = settings.require_identity()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[State]:
        async with open_clients(settings) as clients, httpx.AsyncClient() as http:
            names = settings.names
            configured = settings.platforms
            if settings.platform_secrets:
                stored = await secrets.platform_settings(clients.secrets, settings.platform_secrets)
                configured = merge_platforms(stored, configured)  # the environment wins
            platforms = Platforms(settings=configured, transport=platform_transport)
            deps = AppDeps(
                settings=settings,
                clients=clients,
                store=Store.create(clients, names),
                idp=IdentityProvider(clients.cognito, user_pool_id=pool_id, client_id=client_id),
                events=EventPublisher(clients.events, names.event_bus()),
                mailer=Mailer(clients.ses, settings.email_from),
                verifier=TokenVerifier(
                    http=http,
                    issuer=issuer(settings.region, pool_id),
                    client_id=client_id,
                    jwks_url=settings.cognito_jwks_url,
                ),
                http=http,
                clock=clock,
                platforms=platforms,
            )
            # A move a crashed process left half-done is finished before serving.
            await _resume_moves(deps.store)
            yield {"deps": deps}

    schema = build_schema(
        max_query_cost=settings.max_query_cost,
        # GraphiQL needs introspection; codegen can have it without GraphiQL.
        introspection=settings.graphiql or settings.introspection,
        suggestions=settings.graphiql,
    )
    view = GraphQLView(
        schema,
        graphql_ide="graphiql" if settings.graphiql else None,
        allowed_origins=settings.cors_origins,
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
    return Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
