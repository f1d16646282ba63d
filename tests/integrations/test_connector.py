"""The connector base: its HTTP client (its own or the process's), the declared request,
and a stream's records kept as declared."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from listbackup.config import PlatformSettings
from listbackup.integrations import Platforms
from listbackup.integrations.base import ConnectorContext
from listbackup.integrations.connector import HttpConnector
from listbackup.integrations.errors import PlatformRequestFailed
from listbackup.integrations.pagination import Cursor
from listbackup.integrations.streams import Since, Stream, streams, where_equal
from listbackup.integrations.stripe import INTEGRATION as STRIPE
from listbackup.integrations.zendesk import INTEGRATION as ZENDESK
from listbackup.models.platforms import DataType
from tests.integrations.fakes import FakeApi, Sleeps, StaticTokens, collect

ITEMS = [
    {"id": f"i{n}", "kind": "a" if n % 2 else "b", "at": f"2026-01-0{n}T00:00:00Z"}
    for n in range(1, 6)
]


LAST = {"id": "i6", "kind": "a", "at": "2026-01-06T00:00:00Z"}


def _next(body: Any, page: list[dict[str, object]]) -> str | None:
    cursor = body.get("next")
    return str(cursor) if cursor else None


class Example(HttpConnector):
    streams = streams(
        Stream(
            DataType("items", "Items"),
            "/{tenant}/items",
            records="data.items",
            paginator=Cursor("cursor", _next),
            params={"owner": "{tenant}", "size": 2},
            since=Since(field="at"),
            where=where_equal("kind", "a"),
        )
    )

    def placeholders(self) -> Mapping[str, str]:
        tenant = self.context.credentials.get("tenant", "")
        if not tenant:
            raise PlatformRequestFailed("No tenant.")
        return {"tenant": tenant, "host": "api.example.test"}

    async def check(self) -> str | None:
        return None


def example_api() -> FakeApi:
    def handler(request: httpx.Request) -> httpx.Response:
        # The second page names its own cursor again: a stuck API.
        items = [LAST] if "cursor" in request.url.params else ITEMS
        return httpx.Response(200, json={"data": {"items": items}, "next": "c1"})

    return FakeApi(handler)


def context(**given: object) -> ConnectorContext:
    values: dict[str, object] = {
        "base_url": "https://{host}/v1",
        "credentials": {"tenant": "a b"},
        "sleep": Sleeps(),
    } | given
    return ConnectorContext(**values)  # type: ignore[arg-type]


async def test_the_declared_request_with_the_connections_placeholders() -> None:
    api = example_api()

    pages = await collect(Example(context(transport=api.transport())), "items")

    assert pages == [[ITEMS[0], ITEMS[2], ITEMS[4]], [LAST]]  # kept by `where`
    first, again = api.requests  # the repeated cursor ends the walk
    assert str(first.url) == "https://api.example.test/v1/a%20b/items?owner=a+b&size=2"
    assert again.url.params["cursor"] == "c1"


async def test_every_request_waits_for_the_platforms_shared_quota_first() -> None:
    api, turns = example_api(), []

    async def throttle() -> None:
        turns.append(len(api.requests))  # requests already sent when this one asks

    await collect(Example(context(transport=api.transport(), throttle=throttle)), "items")

    assert turns == [0, 1]
    assert len(api.requests) == 2


async def test_since_keeps_records_changed_after_it_where_the_api_cannot_filter() -> None:
    api = example_api()
    connector = Example(context(transport=api.transport()))

    pages = await collect(connector, "items", since=datetime(2026, 1, 2, tzinfo=UTC))

    assert pages == [[ITEMS[2], ITEMS[4]], [LAST]]
    assert "at" not in api.requests[0].url.params


async def test_bad_credentials_are_refused_when_the_connector_is_built() -> None:
    with pytest.raises(PlatformRequestFailed, match="No tenant"):
        Example(context(credentials={}))


async def test_a_shared_client_serves_the_connector_and_stays_open() -> None:
    api = example_api()
    async with httpx.AsyncClient(transport=api.transport()) as shared:
        connector = Example(context(http=shared))

        await collect(connector, "items")  # closes the connector

        assert not shared.is_closed
        assert len(api.requests) == 2


async def test_on_the_shared_client_no_connection_sends_another_ones_cookies() -> None:
    api = FakeApi(
        lambda request: httpx.Response(
            200, json={"data": {"items": []}}, headers={"Set-Cookie": "session=tenant-a; Path=/"}
        )
    )
    async with httpx.AsyncClient(transport=api.transport()) as shared:
        await collect(Example(context(http=shared, credentials={"tenant": "a"})), "items")
        await collect(Example(context(http=shared, credentials={"tenant": "b"})), "items")

    assert [r.headers.get("Cookie") for r in api.requests] == [None, None]


async def test_a_connector_opens_its_own_client_on_first_use_and_closes_it() -> None:
    api = example_api()
    connector = Example(context(transport=api.transport()))
    await connector.aclose()  # never used: nothing to close

    async with connector:
        await connector.check()
        pages = [page async for page in connector.fetch("items")]
        own = connector.client._own  # what the base opened

    assert pages
    assert own is not None
    assert own.is_closed


async def test_an_unexpected_body_shape_is_the_platforms_failure() -> None:
    api = FakeApi(lambda request: httpx.Response(200, json={"data": {"items": {"not": "a list"}}}))

    with pytest.raises(PlatformRequestFailed, match="shape"):
        await collect(Example(context(transport=api.transport())), "items")


async def test_a_test_transport_keeps_the_shared_client_from_the_connector() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(404))
    platforms = Platforms(
        settings={"stripe": PlatformSettings(api_base_url="https://stripe.local/v1")},
        transport=transport,
    )
    async with httpx.AsyncClient() as shared:
        connector = platforms.connector(STRIPE, credentials={}, tokens=StaticTokens(), http=shared)

    assert connector.context.base_url == "https://stripe.local/v1"
    assert connector.context.transport is transport
    assert connector.context.http is None  # the shared client cannot reach the fake
    assert connector.context.pace == STRIPE.pace


async def test_without_a_test_transport_the_registry_hands_on_the_shared_client() -> None:
    async with httpx.AsyncClient() as shared:
        connector = Platforms(settings={}).connector(STRIPE, credentials={}, http=shared)

        assert connector.context.http is shared
    assert connector.context.base_url == STRIPE.api_base_url


def test_the_connector_fills_the_base_urls_placeholders_checked() -> None:
    credentials = {"subdomain": "Acme", "email": "a@acme.test", "apiToken": "t"}

    connector = Platforms(settings={}).connector(ZENDESK, credentials=credentials)

    assert connector.context.base_url == "https://{subdomain}.zendesk.com/api/v2"
    assert isinstance(connector, HttpConnector)
    assert str(connector.client.url("/users.json")) == "https://acme.zendesk.com/api/v2/users.json"
    with pytest.raises(PlatformRequestFailed, match="Zendesk subdomain"):
        Platforms(settings={}).connector(
            ZENDESK, credentials={**credentials, "subdomain": "a.evil"}
        )
