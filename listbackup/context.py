"""What every resolver gets: the operation's dependencies and its caller."""

from __future__ import annotations

import asyncio
from datetime import datetime
from functools import cached_property

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from listbackup.deps import AppDeps, Deps
from listbackup.loaders import Loaders
from listbackup.models.users import Principal
from listbackup.services import auth


class Context:
    """One per operation: an HTTP request, or one operation on a WebSocket.

    Strawberry builds a context per WebSocket *connection*; the schema asks
    :meth:`for_operation` for a fresh one before each operation, so the caller is
    authenticated again (expiry, revocation) and no loader outlives its operation.
    """

    def __init__(
        self,
        app: AppDeps,
        request: Request | WebSocket,
        response: Response | WebSocket | None = None,
    ) -> None:
        self.app = app
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
        fresh = Context(self.app, self.request, self.response)
        fresh.authorization = self.authorization
        fresh.connection_params = self.connection_params
        return fresh

    @cached_property
    def deps(self) -> Deps:
        """The operation's dependency bundle, with its own loaders; what services take.
        Lazy, so operations that read nothing (introspection, health) build nothing."""
        return self.app.for_operation()

    def renew(self) -> None:
        """Forget this operation's dependencies: a subscription renews them for each
        event it yields, so every field of an event (a job, its files, its source) is read
        afresh, not from what an earlier event's loaders cached. Built again on first use
        only, so an event whose fields read nothing builds nothing."""
        self.__dict__.pop("deps", None)

    @property
    def loaders(self) -> Loaders:
        return self.deps.loaders

    def now(self) -> datetime:
        return self.deps.clock()

    async def principal(self) -> Principal:
        """The signed-in caller, verified once per operation; UNAUTHENTICATED otherwise."""
        if self._principal is None:
            self._principal = asyncio.ensure_future(
                auth.authenticate(
                    verifier=self.app.verifier,
                    loaders=self.loaders,
                    authorization=self.authorization,
                )
            )
        return await asyncio.shield(self._principal)

    async def authenticate(self, deps: Deps) -> Principal:
        """The caller verified again, with ``deps``' loaders: a long-running subscription
        asks every few seconds (the token may have expired or been revoked since)."""
        return await auth.authenticate(
            verifier=self.app.verifier, loaders=deps.loaders, authorization=self.authorization
        )

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
