"""Stripe against a local fake of its documented list API."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

from listbackup.integrations.stripe import STREAMS, StripeConnector
from tests.integrations.fakes import (
    Fake,
    FakeApi,
    Sleeps,
    StaticTokens,
    collect,
    context,
    too_many_requests,
)

BASE = "https://api.stripe.test/v1"
CUSTOMERS = [{"id": f"cus_{n:03d}", "object": "customer"} for n in range(250)]
#: Every list Stripe serves here: the customers, and two objects of each other kind.
LISTS: dict[str, list[dict[str, Any]]] = {
    stream.path: [{"id": f"{stream.key}_{n}"} for n in range(2)] for stream in STREAMS.values()
} | {"/customers": CUSTOMERS}


def stripe_api(*, throttle_once: bool = True, accepts: str = "token-1") -> FakeApi:
    throttled = {"done": not throttle_once}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.headers.get("Authorization") != f"Bearer {accepts}":
            return httpx.Response(401, json={"error": {"type": "invalid_request_error"}})
        path = request.url.path.removeprefix("/v1")
        if path == "/account":
            return httpx.Response(200, json={"id": "acct_1", "business_profile": {"name": "Acme"}})
        assert request.headers["Stripe-Version"] == "2024-06-20"
        items = LISTS[path]
        after = request.url.params.get("starting_after")
        if after and not throttled["done"]:
            throttled["done"] = True
            return too_many_requests("3")
        start = 0 if after is None else next(i for i, c in enumerate(items) if c["id"] == after) + 1
        limit = int(request.url.params["limit"])
        page = items[start : start + limit]
        return httpx.Response(
            200, json={"object": "list", "data": page, "has_more": start + limit < len(items)}
        )

    return FakeApi(handler)


def platform_fake(accepts: str = "token-1") -> Fake:
    api = stripe_api(throttle_once=False, accepts=accepts)
    return Fake(lambda tokens: StripeConnector(context(api, BASE, tokens=tokens)), api, "customers")


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


async def test_since_filters_by_creation_time() -> None:
    api = stripe_api(throttle_once=False)
    connector = StripeConnector(context(api, BASE, tokens=StaticTokens()))

    await collect(connector, "customers", since=datetime(2026, 1, 1, tzinfo=UTC))

    assert api.requests[0].url.params["created[gte]"] == "1767225600"


async def test_subscriptions_include_canceled_ones() -> None:
    api = stripe_api()

    await collect(StripeConnector(context(api, BASE, tokens=StaticTokens())), "subscriptions")

    assert api.requests[0].url.params["status"] == "all"
