"""What every integration module declares: its catalogue entry, how to reach its API, and
the connector that reads it."""

from __future__ import annotations

import abc
import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Any, Protocol, Self

import httpx

from listbackup.integrations.errors import PlatformRequestFailed
from listbackup.models.platforms import Platform

Record = dict[str, Any]


@dataclass(frozen=True, slots=True)
class TenantParam:
    """A part of the provider's URLs that names the user's own tenant and that the user
    types when connecting (Shopify's ``{shop}``: ``acme.myshopify.com``). It becomes part
    of a host we send codes and tokens to, so it is checked against ``pattern`` first."""

    #: The placeholder in the OAuth and API URLs, and the connection extra that keeps it.
    name: str
    pattern: re.Pattern[str]
    #: What to tell a user whose value does not fit.
    hint: str

    def clean(self, value: str | None) -> str | None:
        """The value as the URLs take it (lower case, no scheme, no trailing slash), or
        None when it is not one."""
        cleaned = (value or "").strip().lower().removeprefix("https://").rstrip("/")
        return cleaned if self.pattern.fullmatch(cleaned) else None


@dataclass(frozen=True, slots=True)
class OAuthSpec:
    """The provider's OAuth2 endpoints and the quirks the authorization step needs."""

    authorize_url: str
    token_url: str
    scopes: tuple[str, ...] = ()
    #: Whether the provider accepts PKCE (S256) on the authorization-code flow.
    pkce: bool = False
    #: Extra query parameters on the authorization URL (offline access, consent...).
    authorize_params: Mapping[str, str] = field(default_factory=dict)
    #: Separator the provider expects between scopes.
    scope_separator: str = " "
    #: A per-tenant host the user names when connecting (Shopify's shop domain).
    tenant: TenantParam | None = None
    #: Non-secret fields of the token response the connector needs later, as the
    #: provider names them -> as the connection's extras keep them (HubSpot's hub id).
    token_extras: Mapping[str, str] = field(default_factory=dict)
    #: Read once the code is exchanged, with the new access token: non-secret facts the
    #: connector needs that the token response lacks (Mailchimp's server prefix), to keep
    #: beside ``token_extras``. Raises a ConnectorError when it cannot tell.
    metadata: Callable[[httpx.AsyncClient, str], Awaitable[Mapping[str, str]]] | None = None

    def extras_of(self, token: Mapping[str, Any]) -> dict[str, str]:
        """The declared ``token_extras`` the token response carries."""
        return {
            ours: str(token[theirs])
            for theirs, ours in self.token_extras.items()
            if token.get(theirs)
        }


class TokenSource(Protocol):
    """The access token of an OAuth connection, refreshed by whoever owns the vault."""

    async def token(self) -> str:
        """A token valid for at least a few minutes (refreshed first if it is not)."""
        ...

    async def refresh(self, rejected: str | None = None) -> str:
        """A new token, after the platform refused ``rejected`` (the token it was sent)."""
        ...


@dataclass(frozen=True, slots=True)
class FixedToken(TokenSource):
    """A token used as it is, never refreshed (just issued, so it is fresh)."""

    value: str = field(repr=False)

    async def token(self) -> str:
        return self.value

    async def refresh(self, rejected: str | None = None) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class ConnectorContext:
    """Everything a connector is built from; nothing else reaches it."""

    #: The API base URL: the registry's default or the LISTBACKUP_PLATFORM_*_API_BASE_URL,
    #: its placeholders (``{shop}``, ``{dc}``...) still in it: the connector fills them in
    #: from the credentials, checked.
    base_url: str
    #: API-key fields, or the non-secret extras of an OAuth connection (shop domain...).
    credentials: Mapping[str, str] = field(default_factory=dict, repr=False)
    #: For OAuth connections.
    tokens: TokenSource | None = None
    #: Tests hand in a fake of the platform here; production leaves it None.
    transport: httpx.AsyncBaseTransport | None = None
    #: The process's shared client, for short uses (a connection check); None: the
    #: connector opens its own client, with its own pool, and closes it.
    http: httpx.AsyncClient | None = None
    #: Least seconds between two requests of one connection (the platform's rate).
    pace: float = 0.0
    #: Waits for a share of a quota that every connection of the platform draws from
    #: (the platform counts per OAuth app, across all our customers); None: no such quota.
    throttle: Callable[[], Awaitable[None]] | None = None
    #: How to wait (between retries, for the pace); tests pass a recorder.
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep


class Connector(abc.ABC):
    """Reads one platform for one connection: what services and the worker use."""

    def __init__(self, context: ConnectorContext) -> None:
        self.context = context

    @abc.abstractmethod
    async def check(self) -> str | None:
        """The cheapest authenticated request; the external account's name if it tells."""

    @abc.abstractmethod
    def fetch(
        self, data_type: str, *, since: datetime | None = None
    ) -> AsyncIterator[list[Record]]:
        """The records of one data type, page by page (never an empty one), each record
        once, oldest first where the API allows; with ``since``, only those changed since
        (where the API can filter)."""

    def record_id(self, data_type: str, record: Record) -> str:
        """What identifies ``record`` among its data type's records."""
        return str(record["id"])

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release what the connector holds (HTTP connections)."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    def unknown(self, data_type: str) -> PlatformRequestFailed:
        return PlatformRequestFailed(f"{data_type!r} is not a data type of this platform.")


@dataclass(frozen=True, slots=True)
class AppQuota:
    """A token bucket: ``per_second`` requests a second on average, and ``burst`` at once
    after a quiet spell. In any one second at most ``per_second + burst`` go out."""

    per_second: float
    burst: int = 1


@dataclass(frozen=True, slots=True)
class Integration:
    """One platform: catalogue metadata plus the facts its connector is built on."""

    platform: Platform
    #: Base URL of the platform's REST API; placeholders such as ``{shop}`` are per connection.
    api_base_url: str
    #: The public API documentation the integration follows.
    docs_url: str
    oauth: OAuthSpec | None = None
    #: The connector class; every integration has one.
    connector: type[Connector] | None = None
    #: Least seconds between two requests of one connection, to stay under the
    #: platform's rate limit (429s are retried on top of this).
    pace: float = 0.0
    #: A quota the platform counts per OAuth app, across every customer: every worker's
    #: connections of the platform share it. None: the platform has no such quota.
    app_quota: AppQuota | None = None

    @property
    def slug(self) -> str:
        return self.platform.slug
