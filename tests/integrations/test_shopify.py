"""Shopify against a local fake of its documented REST Admin API."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from listbackup.integrations import shopify
from listbackup.integrations.base import TokenSource
from listbackup.integrations.errors import CredentialsRejected
from listbackup.integrations.shopify import ShopifyConnector
from tests.integrations.fakes import (
    Fake,
    FakeApi,
    Sleeps,
    StaticTokens,
    collect,
    context,
    too_many_requests,
)

BASE = shopify.INTEGRATION.api_base_url  # https://{shop}/admin/api/<version>
SHOP = "acme-goods.myshopify.com"
PREFIX = "/admin/api/" + BASE.rsplit("/", 1)[-1]
PRODUCTS: list[dict[str, Any]] = [{"id": 7000 + n, "title": f"Product {n}"} for n in range(600)]
ORDERS: list[dict[str, Any]] = [{"id": 100 + n, "name": f"#{1000 + n}"} for n in range(3)]
LOCATIONS: list[dict[str, Any]] = [{"id": 500 + n, "name": f"Store {n}"} for n in range(60)]
PRICE_RULES: list[dict[str, Any]] = [{"id": 900 + n, "title": f"Rule {n}"} for n in range(2)]
#: The other lists: two records each.
OTHERS = {
    key: [{"id": n, "title": f"{key} {n}"} for n in (1, 2)]
    for key in ("custom_collections", "smart_collections", "customers", "draft_orders")
}


class ShopifyFake:
    def __init__(
        self, *, accepted: str = "token-1", throttle_once: bool = True, retry_after: str = "2"
    ) -> None:
        self.accepted = accepted
        self.throttled = not throttle_once
        self.retry_after = retry_after
        self.api = FakeApi(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        assert request.url.host == SHOP
        assert "Authorization" not in request.headers
        if request.headers.get("X-Shopify-Access-Token") != self.accepted:
            return httpx.Response(401, json={"errors": "[API] Invalid API key or access token"})
        assert request.url.path.startswith(PREFIX)
        path = request.url.path.removeprefix(PREFIX).removesuffix(".json").strip("/")
        if path == "products" and request.url.params.get("page_info") and not self.throttled:
            self.throttled = True
            return too_many_requests(self.retry_after)
        return self.route(request, path)

    def route(self, request: httpx.Request, path: str) -> httpx.Response:
        *parent, name = path.split("/")
        owner = int(parent[-1]) if parent else 0  # the order or price rule of a sub-list
        if path == "shop":
            return httpx.Response(200, json={"shop": {"id": 1, "name": "Acme Goods"}})
        if name == "locations":  # no paging
            return httpx.Response(200, json={"locations": LOCATIONS})
        if name == "transactions":  # no paging
            return httpx.Response(200, json={name: self.transactions(owner)})
        records: dict[str, list[dict[str, Any]]] = {
            "products": PRODUCTS,
            "orders": ORDERS,
            "price_rules": PRICE_RULES,
            "discount_codes": [{"id": owner * 10 + n} for n in range(2)],
            **OTHERS,
            "inventory_levels": [
                {"inventory_item_id": 808, "location_id": int(i), "available": 3}
                for i in request.url.params.get("location_ids", "").split(",")
                if i
            ],
        }
        if name in records:
            return self.link_page(request, name, records[name])
        return httpx.Response(404, json={"errors": "Not Found"})

    @staticmethod
    def transactions(order_id: int) -> list[dict[str, Any]]:
        return [{"id": order_id * 10 + n, "order_id": order_id} for n in range(2)]

    def link_page(
        self, request: httpx.Request, name: str, records: list[dict[str, Any]]
    ) -> httpx.Response:
        params = request.url.params
        page_info = params.get("page_info")
        if page_info:
            # Shopify refuses any filter next to page_info: the cursor carries them.
            if set(params.keys()) - {"page_info", "limit", "fields"}:
                return httpx.Response(400, json={"errors": "page_info with filters"})
            start = int(page_info.removeprefix("cursor-"))
        else:
            start = 0
        limit = int(params.get("limit", "50"))
        assert limit <= 250
        url = request.url.copy_with(query=None)
        links = []
        if start:
            links.append(f'<{url}?limit={limit}&page_info=cursor-{start - limit}>; rel="previous"')
        if start + limit < len(records):
            links.append(f'<{url}?limit={limit}&page_info=cursor-{start + limit}>; rel="next"')
        headers = {"Link": ", ".join(links)} if links else {}
        page = records[start : start + limit]
        return httpx.Response(200, headers=headers, json={name: page})


def connector(
    fake: ShopifyFake,
    tokens: TokenSource | None = None,
    sleeps: Sleeps | None = None,
    shop: str = SHOP,
) -> ShopifyConnector:
    ctx = context(
        fake.api, BASE, credentials={"shop": shop}, tokens=tokens or StaticTokens(), sleeps=sleeps
    )
    return ShopifyConnector(ctx)


def platform_fake(accepts: str = "token-1") -> Fake:
    shop = ShopifyFake(accepted=accepts, throttle_once=False)
    return Fake(lambda tokens: connector(shop, tokens), shop.api, "products")


async def test_every_product_once_in_order_through_a_429() -> None:
    fake, sleeps = ShopifyFake(), Sleeps()

    pages = await collect(connector(fake, sleeps=sleeps), "products")

    assert [p["id"] for page in pages for p in page] == [p["id"] for p in PRODUCTS]
    assert [len(p) for p in pages] == [250, 250, 100]
    assert sleeps.waits == [2.0]  # the Retry-After, honoured
    assert [r.url.params.get("page_info") for r in fake.api.requests] == [
        None,
        "cursor-250",
        "cursor-250",
        "cursor-500",
    ]
    assert fake.api.requests[0].url.params["limit"] == "250"


async def test_a_fractional_retry_after_is_honoured() -> None:
    fake, sleeps = ShopifyFake(retry_after="2.0"), Sleeps()

    await collect(connector(fake, sleeps=sleeps), "products")

    assert sleeps.waits == [2.0]


async def test_check_names_the_shop() -> None:
    assert await connector(ShopifyFake()).check() == "Acme Goods"


async def test_since_filters_the_first_request_by_update_time() -> None:
    fake = ShopifyFake(throttle_once=False)

    await collect(connector(fake), "products", since=datetime(2026, 1, 1, 12, tzinfo=UTC))

    first, *following = fake.api.requests
    assert first.url.params["updated_at_min"] == "2026-01-01T12:00:00+00:00"
    assert following
    assert all("updated_at_min" not in r.url.params for r in following)


async def test_orders_include_closed_and_cancelled_ones() -> None:
    fake = ShopifyFake()

    pages = await collect(connector(fake), "orders")

    assert pages == [ORDERS]
    assert fake.api.requests[0].url.params["status"] == "any"


async def test_transactions_are_read_per_order() -> None:
    fake = ShopifyFake()

    pages = await collect(connector(fake), "transactions", since=datetime(2026, 1, 1, tzinfo=UTC))

    assert pages == [[t for o in ORDERS for t in ShopifyFake.transactions(o["id"])]]
    orders = fake.api.requests[0]
    assert orders.url.path.endswith("/orders.json")
    assert orders.url.params["fields"] == "id"
    assert orders.url.params["status"] == "any"
    assert "updated_at_min" in orders.url.params


async def test_inventory_levels_are_read_fifty_locations_at_a_time() -> None:
    fake = ShopifyFake()

    pages = await collect(connector(fake), "inventory_levels")

    assert [level["location_id"] for p in pages for level in p] == [loc["id"] for loc in LOCATIONS]
    asked = [r.url.params["location_ids"] for r in fake.api.requests[1:]]
    assert [len(ids.split(",")) for ids in asked] == [50, 10]


async def test_price_rules_carry_their_discount_codes() -> None:
    pages = await collect(connector(ShopifyFake()), "price_rules")

    assert [[c["id"] for c in rule["discount_codes"]] for rule in pages[0]] == [
        [9000, 9001],
        [9010, 9011],
    ]


async def test_a_connection_without_a_shop_domain_is_refused() -> None:
    with pytest.raises(CredentialsRejected):
        connector(ShopifyFake(), shop="https://evil.example/")
