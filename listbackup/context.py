"""What every resolver gets: process-wide dependencies plus per-request state."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

import httpx
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from listbackup.auth import TokenVerifier
from listbackup.aws import AwsClients
from listbackup.config import Settings
from listbackup.loaders import Loaders
from listbackup.models.users import Principal
from listbackup.services import auth
from listbackup.services.connections import Platforms
from listbackup.store import Store
from listbackup.store.cognito import IdentityProvider
from listbackup.store.events import EventPublisher
from listbackup.store.mailer import Mailer


@dataclass(frozen=True, slots=True)
class AppDeps:
    """Built once per process in the server's lifespan."""

    settings: Settings
    clients: AwsClients
    store: Store
    idp: IdentityProvider
    events: EventPublisher
    mailer: Mailer
    verifier: TokenVerifier
    http: httpx.AsyncClient
    clock: Callable[[], datetime]
    platforms: Platforms


class Context:
    """Built for every HTTP request and every WebSocket connection; never shared."""

    def __init__(
        self,
        deps: AppDeps,
        request: Request | WebSocket,
        response: Response | WebSocket | None = None,
    ) -> None:
        self.deps = deps
        self.request = request
        self.response = response
        #: ``Bearer <token>``: the HTTP header, or on WebSocket the connection_init payload.
        self.authorization: str | None = request.headers.get("authorization")
        self.client_ip = request.client.host if request.client else "unknown"
        #: The WebSocket connection_init payload (Strawberry fills it in).
        self.connection_params: dict[str, object] | None = None
        self._principal: asyncio.Future[Principal] | None = None

    @cached_property
    def loaders(self) -> Loaders:
        # Lazy, so requests that read nothing (introspection, health) build nothing.
        return Loaders(self.deps.store, clock=self.deps.clock)

    def now(self) -> datetime:
        return self.deps.clock()

    async def principal(self) -> Principal:
        """The signed-in caller, verified once per request; UNAUTHENTICATED otherwise."""
        if self._principal is None:
            self._principal = asyncio.ensure_future(
                auth.authenticate(
                    verifier=self.deps.verifier,
                    loaders=self.loaders,
                    authorization=self.authorization,
                )
            )
        return await asyncio.shield(self._principal)

    async def optional_principal(self) -> Principal | None:
        """The caller if they sent credentials (which must then be valid), else None."""
        if not self.authorization:
            return None
        return await self.principal()
