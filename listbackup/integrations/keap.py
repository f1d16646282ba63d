"""Keap (formerly Infusionsoft): CRM. Follows https://developer.infusionsoft.com/docs/rest/.

REST v1 lists page with ``limit`` (at most 1000) and ``offset`` until a short page; the
records sit under the data type's own name (``{"contacts": [...], "count": ...}``).
``since`` (ISO 8601 in UTC with milliseconds, e.g. ``2017-01-01T22:17:59.039Z``) filters
contacts by last update and orders and transactions by their date; the other lists have no
such filter and come whole. Contacts are ordered by id, so offsets stay put while the list
grows; contacts and companies ask for the ``optional_properties`` (custom fields, lead
source, tags...) a list leaves out, and each campaign is read whole
(``/campaigns/{id}?optional_properties=goals,sequences``) for its sequences. OAuth access
tokens go in a Bearer header; ``GET /account/profile`` is the cheapest call and names the
business. Quotas: 1,500 requests a minute and 150,000 a day per OAuth client across every
Keap app it reaches (a spike policy of 25 a second on top); the client retries 429s.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from listbackup.integrations.base import Connector, ConnectorContext, Integration, OAuthSpec, Record
from listbackup.integrations.http import PlatformClient
from listbackup.integrations.pagination import key, offset_pages
from listbackup.models.platforms import AuthType, DataType, Frequency, Platform

PAGE_SIZE = 1000
#: Data type -> the query every page of its list carries.
LISTS: dict[str, dict[str, str]] = {
    "tags": {},
    "companies": {"optional_properties": "custom_fields,fax_number,notes"},
    "contacts": {
        "optional_properties": "custom_fields,job_title,lead_source_id,tag_ids",
        "order": "id",
        "order_direction": "ASCENDING",
    },
    "opportunities": {},
    "notes": {},
    "products": {},
    "orders": {},
    "transactions": {},
    "subscriptions": {},
    "campaigns": {},
}
#: Lists that take ``since`` (and ``until``).
SINCE = frozenset({"contacts", "orders", "transactions"})


class KeapConnector(Connector):
    def __init__(self, context: ConnectorContext) -> None:
        super().__init__(context)
        self.client = PlatformClient(context)

    async def check(self) -> str | None:
        profile = await self.client.get_json("/account/profile")
        name = profile.get("name") or profile.get("email")
        return str(name) if name else None

    async def fetch(
        self, data_type: str, *, since: datetime | None = None
    ) -> AsyncIterator[list[Record]]:
        if data_type not in LISTS:
            raise self.unknown(data_type)
        params: dict[str, Any] = dict(LISTS[data_type])
        if since is not None and data_type in SINCE:
            params["since"] = _timestamp(since)
        async for page in offset_pages(
            self.client,
            f"/{data_type}",
            params=params,
            records=key(data_type),
            limit=PAGE_SIZE,
        ):
            yield await self._whole_campaigns(page) if data_type == "campaigns" else page

    async def aclose(self) -> None:
        await self.client.aclose()

    async def _whole_campaigns(self, page: list[Record]) -> list[Record]:
        """A list leaves out each campaign's goals and sequences; read them one by one."""
        params = {"optional_properties": "goals,sequences"}
        return [
            await self.client.get_json(f"/campaigns/{campaign['id']}", params=params)
            for campaign in page
        ]


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


_FINANCIAL_RETENTION = 365

INTEGRATION = Integration(
    platform=Platform(
        slug="keap",
        name="Keap",
        category="crm",
        description="Contacts, companies, opportunities, orders and campaigns from your Keap app.",
        auth_type=AuthType.OAUTH2,
        data_types=(
            DataType("tags", "Tags", "Tags and their categories.", Frequency.WEEKLY),
            DataType("companies", "Companies", "Company records.", Frequency.DAILY),
            DataType(
                "contacts",
                "Contacts",
                "Contacts with custom fields, lead source and tags.",
                Frequency.DAILY,
                depends_on=("companies", "tags"),
            ),
            DataType(
                "opportunities",
                "Opportunities",
                "Sales opportunities and their stages.",
                Frequency.DAILY,
                depends_on=("contacts",),
            ),
            DataType(
                "notes",
                "Notes",
                "Notes recorded on contacts.",
                Frequency.DAILY,
                depends_on=("contacts",),
            ),
            DataType(
                "products",
                "Products",
                "The product catalogue.",
                Frequency.WEEKLY,
                _FINANCIAL_RETENTION,
            ),
            DataType(
                "orders",
                "Orders",
                "Orders and their items.",
                Frequency.DAILY,
                _FINANCIAL_RETENTION,
                depends_on=("contacts", "products"),
            ),
            DataType(
                "transactions",
                "Transactions",
                "Payments recorded against orders.",
                Frequency.DAILY,
                _FINANCIAL_RETENTION,
                depends_on=("contacts", "orders"),
            ),
            DataType(
                "subscriptions",
                "Subscriptions",
                "Recurring product subscriptions.",
                Frequency.DAILY,
                _FINANCIAL_RETENTION,
                depends_on=("contacts", "products"),
            ),
            DataType(
                "campaigns",
                "Campaigns",
                "Campaign Builder campaigns and their sequences.",
                Frequency.WEEKLY,
            ),
        ),
    ),
    # REST v1; Keap is moving new endpoints to /crm/rest/v2.
    api_base_url="https://api.infusionsoft.com/crm/rest/v1",
    docs_url="https://developer.infusionsoft.com/docs/rest/",
    oauth=OAuthSpec(
        authorize_url="https://accounts.infusionsoft.com/app/oauth/authorize",
        token_url="https://api.infusionsoft.com/token",
        # Keap has a single scope, `full` (read and write); there is no read-only scope.
        scopes=("full",),
    ),
    connector=KeapConnector,
)
