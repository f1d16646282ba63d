"""The dependency bundle the API and the worker share.

:class:`AppDeps` is built once per process (:func:`open_deps`): settings, AWS clients,
the stores and adapters, the platform registry, one HTTP client and the clock.
:class:`Deps` adds one operation's dataloaders to it, and is what every service takes
first: ``await sources.delete(deps, principal=..., source_id=...)``. An HTTP request, a
WebSocket operation and a worker's job each get their own :class:`Deps`, so nothing a
loader caches outlives the operation that read it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, fields
from datetime import UTC, datetime

import httpx

from listbackup.adapters import secrets
from listbackup.adapters.cognito import IdentityProvider
from listbackup.adapters.events import EventPublisher
from listbackup.adapters.mailer import Mailer
from listbackup.adapters.queues import JobQueues
from listbackup.auth import TokenVerifier, issuer
from listbackup.aws import AwsClients, open_clients
from listbackup.broker import Broker
from listbackup.config import Settings, merge_platforms
from listbackup.integrations import Platforms
from listbackup.loaders import Loaders
from listbackup.store import Store

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class AppDeps:
    """What a process builds once and every operation shares."""

    settings: Settings
    clients: AwsClients
    store: Store
    events: EventPublisher
    queues: JobQueues
    platforms: Platforms
    http: httpx.AsyncClient
    clock: Clock
    #: The API's identity side: Cognito, SES and the token verifier.
    idp: IdentityProvider
    mailer: Mailer
    verifier: TokenVerifier
    #: Job events for live subscriptions, fed by the API process's live queue.
    broker: Broker

    def for_operation(self) -> Deps:
        """The bundle for one operation: these dependencies and fresh loaders."""
        shared = {f.name: getattr(self, f.name) for f in fields(AppDeps)}
        return Deps(**shared, loaders=Loaders(self.store, clock=self.clock))


@dataclass(frozen=True, slots=True)
class Deps(AppDeps):
    """One operation's view of the process: what services take first."""

    loaders: Loaders

    def now(self) -> datetime:
        """The clock, to the millisecond: what the tables keep, so a value written and
        the value read back are the same."""
        moment = self.clock()
        return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


@asynccontextmanager
async def open_deps(
    settings: Settings,
    *,
    clock: Clock = utc_now,
    token_clock: Clock = utc_now,
    platform_transport: httpx.AsyncBaseTransport | None = None,
) -> AsyncIterator[AppDeps]:
    """Open the process's AWS clients and HTTP client; close them on exit.

    Tests may move the clock (and, apart from it, the one token expiry is judged by:
    Cognito issues tokens in real time) and route platform traffic to local fakes.
    """
    pool_id, client_id = settings.require_identity()
    async with open_clients(settings) as clients, httpx.AsyncClient() as http:
        configured = settings.platforms
        if settings.platform_secrets:
            stored = await secrets.platform_settings(clients.secrets, settings.platform_secrets)
            configured = merge_platforms(stored, configured)  # the environment wins
        names = settings.names
        yield AppDeps(
            settings=settings,
            clients=clients,
            store=Store.create(clients, names),
            events=EventPublisher(clients.events, names.event_bus()),
            queues=JobQueues(clients.sqs, names),
            platforms=Platforms(settings=configured, transport=platform_transport),
            http=http,
            clock=clock,
            idp=IdentityProvider(clients.cognito, user_pool_id=pool_id, client_id=client_id),
            mailer=Mailer(clients.ses, settings.email_from),
            verifier=TokenVerifier(
                http=http,
                issuer=issuer(settings.region, pool_id),
                client_id=client_id,
                jwks_url=settings.cognito_jwks_url,
                clock=token_clock,
            ),
            broker=Broker(max_subscriptions=settings.max_subscriptions),
        )
