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
Keap app it reaches (a spike policy of 25 a second on top). Those are the app's, shared by
all our customers, so :data:`INTEGRATION` declares an ``app_quota`` that every worker draws from
(see :mod:`listbackup.services.quotas`); the client still retries 429s.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

from listbackup.integrations.base import AppQuota, Integration, OAuthSpec, Record
from listbackup.integrations.connector import HttpConnector, named
from listbackup.integrations.pagination import Offset
from listbackup.integrations.streams import Since, Stream, data_types, iso_millis_z, streams
from listbackup.models.platforms import AuthType, DataType, Frequency, Platform

PAGE_SIZE = 1000
_FINANCIAL_RETENTION = 365
#: The lists that take ``since`` (and ``until``).
_SINCE = Since("since", iso_millis_z)


def _list(data_type: DataType, *, since: Since | None = None, **params: str) -> Stream:
    """``/{data type}``, its records under its name, paged by offset."""
    return Stream(
        data_type,
        f"/{data_type.key}",
        records=data_type.key,
        paginator=Offset(PAGE_SIZE),
        params=params,
        since=since,
    )


def _financial(key: str, name: str, description: str, *depends_on: str) -> DataType:
    return DataType(
        key, name, description, Frequency.DAILY, _FINANCIAL_RETENTION, depends_on=depends_on
    )


STREAMS = streams(
    _list(DataType("tags", "Tags", "Tags and their categories.", Frequency.WEEKLY)),
    _list(
        DataType("companies", "Companies", "Company records.", Frequency.DAILY),
        optional_properties="custom_fields,fax_number,notes",
    ),
    _list(
        DataType(
            "contacts",
            "Contacts",
            "Contacts with custom fields, lead source and tags.",
            Frequency.DAILY,
            depends_on=("companies", "tags"),
        ),
        since=_SINCE,
        optional_properties="custom_fields,job_title,lead_source_id,tag_ids",
        order="id",
        order_direction="ASCENDING",
    ),
    _list(
        DataType(
            "opportunities",
            "Opportunities",
            "Sales opportunities and their stages.",
            Frequency.DAILY,
            depends_on=("contacts",),
        )
    ),
    _list(
        DataType(
            "notes",
            "Notes",
            "Notes recorded on contacts.",
            Frequency.DAILY,
            depends_on=("contacts",),
        )
    ),
    _list(
        DataType(
            "products",
            "Products",
            "The product catalogue.",
            Frequency.WEEKLY,
            _FINANCIAL_RETENTION,
        )
    ),
    _list(
        _financial("orders", "Orders", "Orders and their items.", "contacts", "products"),
        since=_SINCE,
    ),
    _list(
        _financial(
            "transactions",
            "Transactions",
            "Payments recorded against orders.",
            "contacts",
            "orders",
        ),
        since=_SINCE,
    ),
    _list(
        _financial(
            "subscriptions",
            "Subscriptions",
            "Recurring product subscriptions.",
            "contacts",
            "products",
        )
    ),
    _list(
        DataType(
            "campaigns",
            "Campaigns",
            "Campaign Builder campaigns and their sequences.",
            Frequency.WEEKLY,
        )
    ),
)


class KeapConnector(HttpConnector):
    streams = STREAMS

    async def check(self) -> str | None:
        profile = await self.client.get_json("/account/profile")
        return named(profile.get("name"), profile.get("email"))

    def read(self, stream: Stream, since: datetime | None) -> AsyncIterator[list[Record]]:
        if stream.key == "campaigns":
            return self._whole_campaigns(stream, since)
        return super().read(stream, since)

    async def _whole_campaigns(
        self, stream: Stream, since: datetime | None
    ) -> AsyncIterator[list[Record]]:
        """A list leaves out each campaign's goals and sequences; read them one by one."""
        params = {"optional_properties": "goals,sequences"}
        async for page in super().read(stream, since):
            yield [
                await self.client.get_json(f"/campaigns/{campaign['id']}", params=params)
                for campaign in page
            ]


INTEGRATION = Integration(
    platform=Platform(
        slug="keap",
        name="Keap",
        category="crm",
        description="Contacts, companies, opportunities, orders and campaigns from your Keap app.",
        auth_type=AuthType.OAUTH2,
        data_types=data_types(STREAMS),
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
    # 20 a second and bursts of 5: never over the 25-a-second spike policy, and 1,200 a
    # minute under the 1,500 (whatever the number of jobs and workers).
    app_quota=AppQuota(per_second=20, burst=5),
)
