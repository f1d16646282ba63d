"""Stripe: payments. Follows https://docs.stripe.com/api.

List endpoints page with ``limit`` + ``starting_after`` (the last object's id) while
``has_more`` is true, newest first; ``created[gte]`` filters by creation time (Stripe
has no updated-since filter). OAuth (Stripe Connect) tokens and secret keys are both sent
as a Bearer token; ``GET /v1/account`` is the cheapest authenticated call.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from listbackup.integrations.base import Connector, ConnectorContext, Integration, OAuthSpec, Record
from listbackup.integrations.http import PlatformClient
from listbackup.integrations.pagination import cursor_pages, key
from listbackup.models.platforms import AuthType, DataType, Frequency, Platform

PAGE_SIZE = 100
#: Data type -> list endpoint.
ENDPOINTS = {
    "customers": "/customers",
    "products": "/products",
    "prices": "/prices",
    "charges": "/charges",
    "invoices": "/invoices",
    "subscriptions": "/subscriptions",
    "refunds": "/refunds",
    "payouts": "/payouts",
}


class StripeConnector(Connector):
    def __init__(self, context: ConnectorContext) -> None:
        super().__init__(context)
        self.client = PlatformClient(context, headers={"Stripe-Version": "2024-06-20"})

    async def check(self) -> str | None:
        account = await self.client.get_json("/account")
        profile = account.get("business_profile") or {}
        name = profile.get("name") or account.get("email") or account.get("id")
        return str(name) if name else None

    async def fetch(
        self, data_type: str, *, since: datetime | None = None
    ) -> AsyncIterator[list[Record]]:
        endpoint = ENDPOINTS.get(data_type)
        if endpoint is None:
            raise self.unknown(data_type)
        params: dict[str, Any] = {"limit": PAGE_SIZE}
        if data_type == "subscriptions":
            params["status"] = "all"  # the default leaves out canceled ones
        if since is not None:
            params["created[gte]"] = int(since.timestamp())
        async for page in cursor_pages(
            self.client,
            endpoint,
            params=params,
            records=key("data"),
            next_cursor=_next,
            cursor_param="starting_after",
        ):
            yield page

    async def aclose(self) -> None:
        await self.client.aclose()


def _next(body: Any, page: list[Record]) -> str | None:
    return str(page[-1]["id"]) if body.get("has_more") and page else None


_FINANCIAL_RETENTION = 365

INTEGRATION = Integration(
    platform=Platform(
        slug="stripe",
        name="Stripe",
        category="payments",
        description="Customers, payments, invoices and subscriptions from your Stripe account.",
        auth_type=AuthType.OAUTH2,
        data_types=(
            DataType(
                "customers", "Customers", "Customer records.", Frequency.DAILY, _FINANCIAL_RETENTION
            ),
            DataType(
                "products",
                "Products",
                "The product catalogue.",
                Frequency.DAILY,
                _FINANCIAL_RETENTION,
            ),
            DataType(
                "prices",
                "Prices",
                "Prices attached to products.",
                Frequency.DAILY,
                _FINANCIAL_RETENTION,
                depends_on=("products",),
            ),
            DataType(
                "charges",
                "Charges",
                "Card and bank charges.",
                Frequency.DAILY,
                _FINANCIAL_RETENTION,
                depends_on=("customers",),
            ),
            DataType(
                "invoices",
                "Invoices",
                "Invoices and their line items.",
                Frequency.DAILY,
                _FINANCIAL_RETENTION,
                depends_on=("customers",),
            ),
            DataType(
                "subscriptions",
                "Subscriptions",
                "Recurring subscriptions.",
                Frequency.DAILY,
                _FINANCIAL_RETENTION,
                depends_on=("customers", "prices"),
            ),
            DataType(
                "refunds",
                "Refunds",
                "Refunds of charges.",
                Frequency.DAILY,
                _FINANCIAL_RETENTION,
                depends_on=("charges",),
            ),
            DataType(
                "payouts",
                "Payouts",
                "Transfers to your bank account.",
                Frequency.WEEKLY,
                _FINANCIAL_RETENTION,
            ),
        ),
    ),
    api_base_url="https://api.stripe.com/v1",
    docs_url="https://docs.stripe.com/api",
    oauth=OAuthSpec(
        authorize_url="https://connect.stripe.com/oauth/authorize",
        token_url="https://connect.stripe.com/oauth/token",
        scopes=("read_only",),
    ),
    connector=StripeConnector,
)
