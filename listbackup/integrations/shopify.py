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

import re
from collections.abc import AsyncIterator, Mapping
from dataclasses import replace
from datetime import datetime

from listbackup.integrations.base import Integration, OAuthSpec, Record, TenantParam
from listbackup.integrations.connector import HttpConnector, named
from listbackup.integrations.errors import CredentialsRejected
from listbackup.integrations.pagination import LinkHeader
from listbackup.integrations.streams import Attach, Since, Stream, data_types, iso_seconds, streams
from listbackup.models.platforms import AuthType, DataType, Frequency, Platform

PAGE_SIZE = 250
#: Recommended least seconds between two requests of a connection: the bucket leaks 2 a
#: second on standard plans (more on Advanced and Plus, which this stays well under).
PACE_SECONDS = 0.5
#: Most location ids one inventory-levels request may name.
LOCATIONS_PER_REQUEST = 50
_FINANCIAL_RETENTION = 365
#: The shop, as Shopify sends it in the `shop` parameter: its myshopify domain, never a
#: custom one. The OAuth flow starts there, and the API is reached there.
SHOP = TenantParam(
    "shop",
    re.compile(r"^[a-z0-9][a-z0-9-]{0,60}\.myshopify\.com$"),
    "Enter the shop's myshopify.com domain, e.g. acme.myshopify.com.",
)
LINKS = LinkHeader()
_UPDATED_AT_MIN = Since("updated_at_min", iso_seconds)


def _list(data_type: DataType, **filters: str) -> Stream:
    """``/{data type}.json``, its records under its name, filtered by last update."""
    return Stream(
        data_type,
        f"/{data_type.key}.json",
        records=data_type.key,
        paginator=LINKS,
        params={"limit": PAGE_SIZE, **filters},
        since=_UPDATED_AT_MIN,
    )


STREAMS = streams(
    _list(
        DataType(
            "products", "Products", "Products with their variants and images.", Frequency.DAILY
        )
    ),
    _list(
        DataType(
            "custom_collections",
            "Custom collections",
            "Hand-picked collections.",
            Frequency.WEEKLY,
            depends_on=("products",),
        )
    ),
    _list(
        DataType(
            "smart_collections",
            "Smart collections",
            "Rule-based collections.",
            Frequency.WEEKLY,
            depends_on=("products",),
        )
    ),
    _list(DataType("customers", "Customers", "Customer records and addresses.", Frequency.DAILY)),
    _list(
        DataType(
            "orders",
            "Orders",
            "Orders with line items, fulfillments and refunds.",
            Frequency.DAILY,
            _FINANCIAL_RETENTION,
            depends_on=("customers", "products"),
        ),
        status="any",  # the default leaves out closed and cancelled ones
    ),
    # Read by ShopifyConnector._transactions: per order of the orders ``since`` selects.
    Stream(
        DataType(
            "transactions",
            "Transactions",
            "Payment transactions on each order.",
            Frequency.DAILY,
            _FINANCIAL_RETENTION,
            depends_on=("orders",),
        ),
        "/orders/{parent}/transactions.json",
        records="transactions",
        paginator=LINKS,
    ),
    _list(
        DataType(
            "draft_orders",
            "Draft orders",
            "Orders created by staff, not yet paid.",
            Frequency.DAILY,
            _FINANCIAL_RETENTION,
            depends_on=("customers", "products"),
        )
    ),
    # No filter and no paging: they come whole.
    Stream(
        DataType(
            "locations", "Locations", "Stores and warehouses that hold stock.", Frequency.WEEKLY
        ),
        "/locations.json",
        records="locations",
        paginator=LINKS,
    ),
    # Read by ShopifyConnector._inventory_levels: per 50 locations.
    replace(
        _list(
            DataType(
                "inventory_levels",
                "Inventory levels",
                "Stock of each item per location.",
                Frequency.DAILY,
                depends_on=("products", "locations"),
            )
        ),
        id=("inventory_item_id", "location_id"),
    ),
    replace(
        _list(
            DataType(
                "price_rules",
                "Price rules",
                "Discounts and their discount codes.",
                Frequency.WEEKLY,
            )
        ),
        attach=Attach(
            "discount_codes",
            "/price_rules/{parent}/discount_codes.json",
            records="discount_codes",
            paginator=LINKS,
            params={"limit": PAGE_SIZE},
        ),
    ),
)


class ShopifyConnector(HttpConnector):
    streams = STREAMS
    # The token goes in its own header, with no scheme before it.
    token_header, token_prefix = "X-Shopify-Access-Token", ""

    def placeholders(self) -> Mapping[str, str]:
        shop = SHOP.clean(self.context.credentials.get("shop"))
        if shop is None:
            raise CredentialsRejected(
                "The Shopify connection does not name its myshopify.com shop; reconnect it."
            )
        return {"shop": shop}

    async def check(self) -> str | None:
        shop = (await self.client.get_json("/shop.json")).get("shop") or {}
        return named(shop.get("name"), shop.get("myshopify_domain"))

    def read(self, stream: Stream, since: datetime | None) -> AsyncIterator[list[Record]]:
        if stream.key == "transactions":
            return self._transactions(stream, since)
        if stream.key == "inventory_levels":
            return self._inventory_levels(stream, since)
        return super().read(stream, since)

    async def _transactions(
        self, stream: Stream, since: datetime | None
    ) -> AsyncIterator[list[Record]]:
        """Transactions have no list of their own: a page of them per page of orders."""
        orders = self.streams["orders"]
        async for page in self.pages(
            replace(orders, params={**orders.params, "fields": "id"}), since
        ):
            transactions: list[Record] = []
            for order in page:
                transactions += await self._all(self.pages(stream, parent=order["id"]))
            if transactions:
                yield transactions

    async def _inventory_levels(
        self, stream: Stream, since: datetime | None
    ) -> AsyncIterator[list[Record]]:
        locations = await self._all(self.pages(self.streams["locations"]))
        ids = [str(location["id"]) for location in locations]
        for start in range(0, len(ids), LOCATIONS_PER_REQUEST):
            chunk = ",".join(ids[start : start + LOCATIONS_PER_REQUEST])
            async for page in self.pages(
                replace(stream, params={**stream.params, "location_ids": chunk}), since
            ):
                yield page

    @staticmethod
    async def _all(pages: AsyncIterator[list[Record]]) -> list[Record]:
        return [record async for page in pages for record in page]


INTEGRATION = Integration(
    platform=Platform(
        slug="shopify",
        name="Shopify",
        category="ecommerce",
        description="Orders, customers, products and inventory from your Shopify store.",
        auth_type=AuthType.OAUTH2,
        data_types=data_types(STREAMS),
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
        tenant=SHOP,
    ),
    connector=ShopifyConnector,
    pace=PACE_SECONDS,
)
