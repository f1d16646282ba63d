"""What every resolver gets: process-wide dependencies plus per-operation state."""

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

from listbackup.adapters.cognito import IdentityProvider
from listbackup.adapters.events import EventPublisher
from listbackup.adapters.mailer import Mailer
from listbackup.auth import TokenVerifier
from listbackup.aws import AwsClients
from listbackup.config import Settings
from listbackup.integrations import Platforms
from listbackup.loaders import Loaders
from listbackup.models.users import Principal
from listbackup.services import auth
from listbackup.store import Store


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
    """One per operation: an HTTP request, or one operation on a WebSocket.

    Strawberry builds a context per WebSocket *connection*; the schema asks
    :meth:`for_operation` for a fresh one before each operation, so the caller is
    authenticated again (expiry, revocation) and no loader outlives its operation.
    """

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

    def for_operation(self) -> Context:
        """A context for one operation on this connection: same caller, fresh state."""
        fresh = Context(self.deps, self.request, self.response)
        fresh.authorization = self.authorization
        fresh.connection_params = self.connection_params
        return fresh

    @cached_property
    def loaders(self) -> Loaders:
        # Lazy, so operations that read nothing (introspection, health) build nothing.
        return Loaders(self.deps.store, clock=self.deps.clock)

    def now(self) -> datetime:
        return self.deps.clock()

    async def principal(self) -> Principal:
        """The signed-in caller, verified once per operation; UNAUTHENTICATED otherwise."""
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

    def act_as(self, principal: Principal) -> None:
        """The rest of this operation runs as ``principal`` (who just signed in)."""
        future: asyncio.Future[Principal] = asyncio.get_running_loop().create_future()
        future.set_result(principal)
        self._principal = future
        self.loaders.user.clear(principal.user_id).prime(principal.user_id, principal.user)
