"""Stripe: payments. Follows https://docs.stripe.com/api.

List endpoints page with ``limit`` + ``starting_after`` (the last object's id) while
``has_more`` is true, newest first; ``created[gte]`` filters by creation time (Stripe
has no updated-since filter). OAuth (Stripe Connect) tokens and secret keys are both sent
as a Bearer token; ``GET /v1/account`` is the cheapest authenticated call.
"""

from __future__ import annotations

from typing import Any

from listbackup.integrations.base import Integration, OAuthSpec, Record
from listbackup.integrations.connector import HttpConnector, named
from listbackup.integrations.pagination import Cursor
from listbackup.integrations.streams import Since, Stream, data_types, epoch_seconds, streams
from listbackup.models.platforms import AuthType, DataType, Frequency, Platform

PAGE_SIZE = 100
_FINANCIAL_RETENTION = 365


def _after_last(body: Any, page: list[Record]) -> str | None:
    return str(page[-1]["id"]) if body.get("has_more") and page else None


def _list(data_type: DataType, path: str, **params: str) -> Stream:
    """A Stripe list: ``data`` paged by the last id, filtered by creation time."""
    return Stream(
        data_type,
        path,
        records="data",
        paginator=Cursor("starting_after", _after_last),
        params={"limit": PAGE_SIZE, **params},
        since=Since("created[gte]", epoch_seconds),
    )


def _financial(key: str, name: str, description: str, *depends_on: str) -> DataType:
    return DataType(
        key, name, description, Frequency.DAILY, _FINANCIAL_RETENTION, depends_on=depends_on
    )


STREAMS = streams(
    _list(_financial("customers", "Customers", "Customer records."), "/customers"),
    _list(_financial("products", "Products", "The product catalogue."), "/products"),
    _list(_financial("prices", "Prices", "Prices attached to products.", "products"), "/prices"),
    _list(_financial("charges", "Charges", "Card and bank charges.", "customers"), "/charges"),
    _list(
        _financial("invoices", "Invoices", "Invoices and their line items.", "customers"),
        "/invoices",
    ),
    _list(
        _financial(
            "subscriptions", "Subscriptions", "Recurring subscriptions.", "customers", "prices"
        ),
        "/subscriptions",
        status="all",  # the default leaves out canceled ones
    ),
    _list(_financial("refunds", "Refunds", "Refunds of charges.", "charges"), "/refunds"),
    _list(
        DataType(
            "payouts",
            "Payouts",
            "Transfers to your bank account.",
            Frequency.WEEKLY,
            _FINANCIAL_RETENTION,
        ),
        "/payouts",
    ),
)


class StripeConnector(HttpConnector):
    streams = STREAMS
    headers = {"Stripe-Version": "2024-06-20"}

    async def check(self) -> str | None:
        account = await self.client.get_json("/account")
        profile = account.get("business_profile") or {}
        return named(profile.get("name"), account.get("email"), account.get("id"))


INTEGRATION = Integration(
    platform=Platform(
        slug="stripe",
        name="Stripe",
        category="payments",
        description="Customers, payments, invoices and subscriptions from your Stripe account.",
        auth_type=AuthType.OAUTH2,
        data_types=data_types(STREAMS),
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
