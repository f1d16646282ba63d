"""Shopify: e-commerce. Follows https://shopify.dev/docs/api/admin-rest.

Lists ask for ``limit=250`` and follow the ``Link: <...>; rel="next"`` header; its
``page_info`` cursor carries the first request's filters, so only that request names them.
``updated_at_min`` (ISO 8601) filters products, collections, customers, orders, draft
orders, price rules and inventory levels by last update; locations have no filter (and no
paging) and come whole. Orders are asked for with ``status=any`` (the default leaves out
closed and cancelled ones). Transactions have no list of their own: they are read per order
(``/orders/{id}/transactions.json``) for the orders ``since`` selects; inventory levels
are read per location, 50 location ids a request; each price rule carries its discount
codes (``/price_rules/{id}/discount_codes.json``) under ``discount_codes``. The base URL
names the shop: ``{shop}`` is the connection's ``shop`` credential, its
``name.myshopify.com`` domain. The access token goes in ``X-Shopify-Access-Token`` (no
prefix); ``GET /shop.json`` is the cheapest call and names the shop. A standard plan allows
2 requests a second (a bucket of 40): the service paces a connection at
:data:`PACE_SECONDS`, and the client retries 429s.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from listbackup.integrations.base import Connector, ConnectorContext, Integration, OAuthSpec, Record
from listbackup.integrations.errors import CredentialsRejected
from listbackup.integrations.http import PlatformClient
from listbackup.integrations.pagination import key, link_header_pages
from listbackup.models.platforms import AuthType, DataType, Frequency, Platform

PAGE_SIZE = 250
#: Recommended least seconds between two requests of a connection: the bucket leaks 2 a
#: second on standard plans (more on Advanced and Plus, which this stays well under).
PACE_SECONDS = 0.5
#: Most location ids one inventory-levels request may name.
LOCATIONS_PER_REQUEST = 50
#: Data types read from ``/{data_type}.json``, with the filters each list needs.
LISTS: dict[str, dict[str, str]] = {
    "products": {},
    "custom_collections": {},
    "smart_collections": {},
    "customers": {},
    "orders": {"status": "any"},
    "draft_orders": {},
    "price_rules": {},
}
SHOP_DOMAIN = re.compile(r"[a-z0-9][a-z0-9-]*\.myshopify\.com")


class ShopifyConnector(Connector):
    def __init__(self, context: ConnectorContext) -> None:
        super().__init__(context)
        base_url = context.base_url
        if "{shop}" in base_url:
            shop = context.credentials.get("shop", "").strip().lower()
            if not SHOP_DOMAIN.fullmatch(shop):
                raise CredentialsRejected(
                    "The Shopify connection does not name its myshopify.com shop; reconnect it."
                )
            base_url = base_url.replace("{shop}", shop)
        self.client = PlatformClient(
            dataclasses.replace(context, base_url=base_url),
            token_header="X-Shopify-Access-Token",
            token_prefix="",
        )

    async def check(self) -> str | None:
        shop = (await self.client.get_json("/shop.json")).get("shop") or {}
        name = shop.get("name") or shop.get("myshopify_domain")
        return str(name) if name else None

    async def fetch(
        self, data_type: str, *, since: datetime | None = None
    ) -> AsyncIterator[list[Record]]:
        pages: AsyncIterator[list[Record]]
        if data_type in LISTS:
            pages = self._pages(data_type, _params(since, **LISTS[data_type]))
        elif data_type == "locations":
            pages = self._pages("locations", {})
        elif data_type == "inventory_levels":
            pages = self._inventory_levels(since)
        elif data_type == "transactions":
            pages = self._transactions(since)
        else:
            raise self.unknown(data_type)
        async for page in pages:
            yield await self._with_discount_codes(page) if data_type == "price_rules" else page

    async def aclose(self) -> None:
        await self.client.aclose()

    def _pages(self, resource: str, params: dict[str, Any]) -> AsyncIterator[list[Record]]:
        """``/{resource}.json``, its records under the resource's last path segment."""
        return link_header_pages(
            self.client,
            f"/{resource}.json",
            params=params,
            records=key(resource.rsplit("/", 1)[-1]),
        )

    async def _all(self, resource: str, params: dict[str, Any]) -> list[Record]:
        return [record async for page in self._pages(resource, params) for record in page]

    async def _transactions(self, since: datetime | None) -> AsyncIterator[list[Record]]:
        orders = self._pages("orders", _params(since, status="any", fields="id"))
        async for page in orders:
            transactions: list[Record] = []
            for order in page:
                transactions += await self._all(f"orders/{order['id']}/transactions", {})
            if transactions:
                yield transactions

    async def _inventory_levels(self, since: datetime | None) -> AsyncIterator[list[Record]]:
        ids = [str(location["id"]) for location in await self._all("locations", {})]
        for start in range(0, len(ids), LOCATIONS_PER_REQUEST):
            chunk = ",".join(ids[start : start + LOCATIONS_PER_REQUEST])
            async for page in self._pages("inventory_levels", _params(since, location_ids=chunk)):
                yield page

    async def _with_discount_codes(self, rules: list[Record]) -> list[Record]:
        with_codes = []
        for rule in rules:
            codes = await self._all(f"price_rules/{rule['id']}/discount_codes", _params(None))
            with_codes.append({**rule, "discount_codes": codes})
        return with_codes


def _params(since: datetime | None, **filters: str) -> dict[str, Any]:
    params: dict[str, Any] = {"limit": PAGE_SIZE, **filters}
    if since is not None:
        params["updated_at_min"] = since.astimezone(UTC).isoformat(timespec="seconds")
    return params


_FINANCIAL_RETENTION = 365

INTEGRATION = Integration(
    platform=Platform(
        slug="shopify",
        name="Shopify",
        category="ecommerce",
        description="Orders, customers, products and inventory from your Shopify store.",
        auth_type=AuthType.OAUTH2,
        data_types=(
            DataType(
                "products", "Products", "Products with their variants and images.", Frequency.DAILY
            ),
            DataType(
                "custom_collections",
                "Custom collections",
                "Hand-picked collections.",
                Frequency.WEEKLY,
                depends_on=("products",),
            ),
            DataType(
                "smart_collections",
                "Smart collections",
                "Rule-based collections.",
                Frequency.WEEKLY,
                depends_on=("products",),
            ),
            DataType("customers", "Customers", "Customer records and addresses.", Frequency.DAILY),
            DataType(
                "orders",
                "Orders",
                "Orders with line items, fulfillments and refunds.",
                Frequency.DAILY,
                _FINANCIAL_RETENTION,
                depends_on=("customers", "products"),
            ),
            DataType(
                "transactions",
                "Transactions",
                "Payment transactions on each order.",
                Frequency.DAILY,
                _FINANCIAL_RETENTION,
                depends_on=("orders",),
            ),
            DataType(
                "draft_orders",
                "Draft orders",
                "Orders created by staff, not yet paid.",
                Frequency.DAILY,
                _FINANCIAL_RETENTION,
                depends_on=("customers", "products"),
            ),
            DataType(
                "locations", "Locations", "Stores and warehouses that hold stock.", Frequency.WEEKLY
            ),
            DataType(
                "inventory_levels",
                "Inventory levels",
                "Stock of each item per location.",
                Frequency.DAILY,
                depends_on=("products", "locations"),
            ),
            DataType(
                "price_rules",
                "Price rules",
                "Discounts and their discount codes.",
                Frequency.WEEKLY,
            ),
        ),
    ),
    # `{shop}` (here and in the OAuth URLs) is the shop's full myshopify domain, e.g.
    # "example.myshopify.com", as Shopify sends it in the `shop` parameter; never a custom domain.
    # The REST Admin API is legacy since 2024-10 (new public apps must use GraphQL since
    # 2025-04); 2026-10 is the newest stable version. Each version is supported for 12 months.
    api_base_url="https://{shop}/admin/api/2026-10",
    docs_url="https://shopify.dev/docs/api/admin-rest",
    oauth=OAuthSpec(
        authorize_url="https://{shop}/admin/oauth/authorize",
        # From 2027-01-01 public apps must use expiring offline tokens: send `expiring=1` with
        # the code exchange; the token then lasts an hour and comes with a refresh token.
        token_url="https://{shop}/admin/oauth/access_token",
        # read_orders covers orders, transactions and fulfillments, but only the last 60 days;
        # older orders need read_all_orders, which Shopify must approve for the app first.
        scopes=(
            "read_products",
            "read_customers",
            "read_orders",
            "read_draft_orders",
            "read_inventory",
            "read_locations",
            "read_price_rules",
        ),
        scope_separator=",",
    ),
    connector=ShopifyConnector,
    pace=PACE_SECONDS,
)
