"""Stripe against a local fake of its documented list API."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from listbackup.integrations.errors import CredentialsRejected
from listbackup.integrations.stripe import StripeConnector
from tests.integrations.fakes import (
    FakeApi,
    Sleeps,
    StaticTokens,
    collect,
    context,
    too_many_requests,
)

BASE = "https://api.stripe.test/v1"
CUSTOMERS = [{"id": f"cus_{n:03d}", "object": "customer"} for n in range(250)]


def stripe_api(*, throttle_once: bool = True) -> FakeApi:
    throttled = {"done": not throttle_once}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.headers.get("Authorization") != "Bearer token-1":
            return httpx.Response(401, json={"error": {"type": "invalid_request_error"}})
        if request.url.path == "/v1/account":
            return httpx.Response(200, json={"id": "acct_1", "business_profile": {"name": "Acme"}})
        assert request.url.path == "/v1/customers"
        after = request.url.params.get("starting_after")
        if after and not throttled["done"]:
            throttled["done"] = True
            return too_many_requests("3")
        start = (
            0 if after is None else next(i for i, c in enumerate(CUSTOMERS) if c["id"] == after) + 1
        )
        limit = int(request.url.params["limit"])
        page = CUSTOMERS[start : start + limit]
        return httpx.Response(
            200, json={"object": "list", "data": page, "has_more": start + limit < len(CUSTOMERS)}
        )

    return FakeApi(handler)


async def test_every_customer_once_in_order_through_a_429() -> None:
    api, sleeps = stripe_api(), Sleeps()
    connector = StripeConnector(context(api, BASE, tokens=StaticTokens(), sleeps=sleeps))

    pages = await collect(connector, "customers")

    assert [c["id"] for page in pages for c in page] == [c["id"] for c in CUSTOMERS]
    assert [len(p) for p in pages] == [100, 100, 50]
    assert sleeps.waits == [3.0]  # the Retry-After, honoured
    assert all(r.url.params["limit"] == "100" for r in api.requests)


async def test_check_names_the_account() -> None:
    connector = StripeConnector(context(stripe_api(), BASE, tokens=StaticTokens()))

    assert await connector.check() == "Acme"


async def test_an_expired_token_is_refreshed_once_mid_stream() -> None:
    tokens = StaticTokens(current="stale")
    tokens.refreshes = 0

    async def refresh(rejected: str | None = None) -> str:
        tokens.refreshes += 1
        tokens.current = "token-1"
        return tokens.current

    tokens.refresh = refresh  # type: ignore[method-assign]
    connector = StripeConnector(context(stripe_api(throttle_once=False), BASE, tokens=tokens))

    pages = await collect(connector, "customers")

    assert sum(len(p) for p in pages) == 250
    assert tokens.refreshes == 1


async def test_a_refused_token_after_refresh_is_credentials_rejected() -> None:
    tokens = StaticTokens(current="revoked")

    async def refresh(rejected: str | None = None) -> str:
        return "still-revoked"

    tokens.refresh = refresh  # type: ignore[method-assign]
    connector = StripeConnector(context(stripe_api(), BASE, tokens=tokens))

    with pytest.raises(CredentialsRejected):
        await collect(connector, "customers")


async def test_since_filters_by_creation_time() -> None:
    api = stripe_api(throttle_once=False)
    connector = StripeConnector(context(api, BASE, tokens=StaticTokens()))

    await collect(connector, "customers", since=datetime(2026, 1, 1, tzinfo=UTC))

    assert api.requests[0].url.params["created[gte]"] == "1767225600"
