"""Helpers for local fakes of platform APIs (httpx mock transports); never the internet."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from listbackup.integrations.base import Connector, ConnectorContext, Record, TokenSource


@dataclass
class Sleeps:
    """Stands in for asyncio.sleep: records what the client would have waited."""

    waits: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@dataclass
class FakeApi:
    """A fake platform: ``handler`` answers requests; every request is kept."""

    handler: Callable[[httpx.Request], httpx.Response]
    requests: list[httpx.Request] = field(default_factory=list)

    def transport(self) -> httpx.MockTransport:
        def record(request: httpx.Request) -> httpx.Response:
            self.requests.append(request)
            return self.handler(request)

        return httpx.MockTransport(record)


def too_many_requests(retry_after: str = "2") -> httpx.Response:
    return httpx.Response(429, headers={"Retry-After": retry_after}, json={"error": "slow down"})


@dataclass
class StaticTokens(TokenSource):
    """An OAuth token source whose refresh hands out the next token in line."""

    current: str = "token-1"
    refreshes: int = 0

    async def token(self) -> str:
        return self.current

    async def refresh(self, rejected: str | None = None) -> str:
        self.refreshes += 1
        self.current = f"token-{self.refreshes + 1}"
        return self.current


@dataclass
class Fake:
    """A platform's fake as the shared tests (test_contract.py) drive it. Each
    ``tests/integrations/test_<module>.py`` offers one as ``platform_fake(accepts=...)``: its fake
    serving at least one record of every data type, accepting the OAuth token ``accepts``."""

    #: A connector to the fake; OAuth platforms read their token from ``tokens``.
    connect: Callable[[TokenSource], Connector]
    #: Every request the fake answered (None for a platform with no HTTP, the demo).
    api: FakeApi | None = None
    #: A data type read across several pages, for the shared token scenarios.
    sample: str = ""


async def collect(connector: Connector, data_type: str, **kwargs: object) -> list[list[Record]]:
    """Every page the connector yields for ``data_type``."""
    pages = [page async for page in connector.fetch(data_type, **kwargs)]  # type: ignore[arg-type]
    await connector.aclose()
    return pages


def context(
    api: FakeApi,
    base_url: str,
    *,
    credentials: dict[str, str] | None = None,
    tokens: TokenSource | None = None,
    sleeps: Sleeps | None = None,
) -> ConnectorContext:
    return ConnectorContext(
        base_url=base_url,
        credentials=credentials or {},
        tokens=tokens,
        transport=api.transport(),
        sleep=sleeps or Sleeps(),
    )
