"""HubSpot: CRM. Follows https://developers.hubspot.com/docs/guides/crm/using-object-apis.

CRM objects are listed with ``GET /crm/v3/objects/{object}?limit=100&after=...`` (the next
cursor in ``paging.next.after``, ascending by id), with the associations each type needs.
A list returns only a few default properties, so each page is re-read with ``POST
/objects/{object}/batch/read`` naming every property of the object (``GET
/properties/{object}``) in the body, where hundreds of names cannot overflow the URL.
With ``since``, ``POST /objects/{object}/search`` filters the last-modified date
(``lastmodifieddate`` on contacts, ``hs_lastmodifieddate`` elsewhere) ``GTE`` the epoch
milliseconds, sorted ascending, 200 a page with ``after`` in the body; a search query stops
at 10,000 results, so past that the connector starts a new query from the last modified
date it reached. Search results carry no associations. Owners page like objects;
pipelines (deals, tickets) and property definitions (every object type) come whole, one
page per object type, each record tagged with its ``objectType``. OAuth access tokens go
in a Bearer header; ``GET /account-info/v3/details`` (scope ``oauth``) is the cheapest
call and names the account by its portal id (the API has no account name). OAuth apps may
make 110 requests per 10 s per account and search 5 a second: see :data:`PACE_SECONDS`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from listbackup.integrations.base import Integration, OAuthSpec, Record
from listbackup.integrations.connector import HttpConnector
from listbackup.integrations.http import json_of
from listbackup.integrations.hubspot_search import next_after, search
from listbackup.integrations.pagination import Cursor
from listbackup.integrations.streams import Parent, Since, Stream, data_types, epoch_millis, streams
from listbackup.models.platforms import AuthType, DataType, Frequency, Platform

PAGE_SIZE = 100
#: Recommended least seconds between two requests of a connection (search: 5 a second).
PACE_SECONDS = 0.2
#: CRM object data type -> the associated object types its list asks for.
OBJECTS: dict[str, str | None] = {
    "contacts": None,
    "companies": None,
    "deals": "contacts,companies",
    "tickets": "contacts,companies",
    "products": None,
    "line_items": "deals",
    "quotes": "deals,line_items",
}
PIPELINE_OBJECTS = ("deals", "tickets")
#: The account API sits beside the CRM base URL (.../crm/v3), not under it.
ACCOUNT_DETAILS = "../../account-info/v3/details"
_FINANCIAL_RETENTION = 365


#: Lists page by ``after``, ascending by id.
PAGES = Cursor("after", next_after)


def _object(data_type: DataType) -> Stream:
    """A CRM object list; HubSpotConnector.read adds every property, or searches ``since``
    on the object's last-modified date (epoch milliseconds)."""
    params: dict[str, Any] = {"limit": PAGE_SIZE}
    if associations := OBJECTS[data_type.key]:
        params["associations"] = associations
    modified = "lastmodifieddate" if data_type.key == "contacts" else "hs_lastmodifieddate"
    return Stream(
        data_type,
        f"/objects/{data_type.key}",
        records="results",
        paginator=PAGES,
        params=params,
        since=Since(modified, epoch_millis),
    )


STREAMS = streams(
    Stream(
        DataType("owners", "Owners", "Users who own CRM records.", Frequency.WEEKLY),
        "/owners",
        records="results",
        paginator=PAGES,
        params={"limit": PAGE_SIZE},
    ),
    # Pipelines and property definitions come whole, one page per object type.
    Stream(
        DataType(
            "pipelines",
            "Pipelines",
            "Deal and ticket pipelines and their stages.",
            Frequency.WEEKLY,
        ),
        "/pipelines/{parent}",
        records="results",
        id=("objectType", "id"),
        parent=Parent(keys=PIPELINE_OBJECTS, tag="objectType"),
    ),
    Stream(
        DataType(
            "properties",
            "Properties",
            "Property definitions, including custom ones.",
            Frequency.WEEKLY,
        ),
        "/properties/{parent}",
        records="results",
        id=("objectType", "name"),
        parent=Parent(keys=tuple(OBJECTS), tag="objectType"),
    ),
    _object(
        DataType(
            "contacts",
            "Contacts",
            "Contact records with all their properties.",
            Frequency.DAILY,
            depends_on=("owners", "properties"),
        )
    ),
    _object(
        DataType(
            "companies",
            "Companies",
            "Company records with all their properties.",
            Frequency.DAILY,
            depends_on=("owners", "properties"),
        )
    ),
    _object(
        DataType(
            "deals",
            "Deals",
            "Deals and their contact and company associations.",
            Frequency.DAILY,
            _FINANCIAL_RETENTION,
            depends_on=("contacts", "companies", "pipelines"),
        )
    ),
    _object(
        DataType(
            "tickets",
            "Tickets",
            "Support tickets and their associations.",
            Frequency.DAILY,
            depends_on=("contacts", "companies", "pipelines"),
        )
    ),
    _object(
        DataType(
            "products", "Products", "The product library.", Frequency.WEEKLY, _FINANCIAL_RETENTION
        )
    ),
    _object(
        DataType(
            "line_items",
            "Line items",
            "Products as sold on deals and quotes.",
            Frequency.DAILY,
            _FINANCIAL_RETENTION,
            depends_on=("deals", "products"),
        )
    ),
    _object(
        DataType(
            "quotes",
            "Quotes",
            "Quotes sent to buyers.",
            Frequency.DAILY,
            _FINANCIAL_RETENTION,
            depends_on=("deals", "line_items"),
        )
    ),
)


class HubSpotConnector(HttpConnector):
    streams = STREAMS

    async def check(self) -> str | None:
        details = await self.client.get_json(ACCOUNT_DETAILS)
        portal = details.get("portalId")
        return f"HubSpot account {portal}" if portal else None

    def read(self, stream: Stream, since: datetime | None) -> AsyncIterator[list[Record]]:
        if stream.key not in OBJECTS:
            return super().read(stream, since)
        return self._objects(stream) if since is None else self._search(stream, since)

    async def _objects(self, stream: Stream) -> AsyncIterator[list[Record]]:
        names = await self._property_names(stream.key)
        async for page in super().read(stream, None):
            yield await self._with_properties(stream.path, page, names) if names else page

    async def _with_properties(
        self, path: str, page: list[Record], names: list[str]
    ) -> list[Record]:
        """The page's records with every property (and the list's associations kept)."""
        body = {"inputs": [{"id": record["id"]} for record in page], "properties": names}
        response = await self.client.request("POST", f"{path}/batch/read", json=body)
        full = {str(record["id"]): record for record in json_of(response).get("results") or []}
        return [{**record, **full.get(str(record["id"]), {})} for record in page]

    async def _search(self, stream: Stream, since: datetime) -> AsyncIterator[list[Record]]:
        declared = stream.since
        if declared is None or declared.param is None:  # pragma: no cover - _object declares it
            raise TypeError(f"{stream.key} declares no last-modified property")
        names = await self._property_names(stream.key)
        lower = int(declared.format(since))
        async for page in search(self.client, stream.path, declared.param, lower, names):
            yield page

    async def _property_names(self, obj: str) -> list[str]:
        body = await self.client.get_json(f"/properties/{obj}")
        return [str(prop["name"]) for prop in body.get("results") or []]


INTEGRATION = Integration(
    platform=Platform(
        slug="hubspot",
        name="HubSpot",
        category="crm",
        description="Contacts, companies, deals, tickets and products from your HubSpot CRM.",
        auth_type=AuthType.OAUTH2,
        data_types=data_types(STREAMS),
    ),
    # CRM v3 (/crm/v3/objects/{type}, /crm/v3/owners, /crm/v3/pipelines/{type},
    # /crm/v3/properties/{type}). HubSpot's docs now list v3 as legacy next to the
    # date-versioned paths (/crm/objects/2026-03/...).
    api_base_url="https://api.hubapi.com/crm/v3",
    docs_url="https://developers.hubspot.com/docs/guides/crm/using-object-apis",
    oauth=OAuthSpec(
        authorize_url="https://app.hubspot.com/oauth/authorize",
        # The date-versioned token endpoint; /oauth/v1/token is sunset on 2027-02-16.
        token_url="https://api.hubapi.com/oauth/2026-03/token",
        # Every scope sent must also be configured on the app. Tickets and quotes are not
        # in every account, so the connector may send those as `optional_scope` instead.
        scopes=(
            "oauth",
            "crm.objects.owners.read",
            "crm.objects.contacts.read",
            "crm.objects.companies.read",
            "crm.objects.deals.read",
            "crm.objects.tickets.read",
            "crm.objects.products.read",
            "crm.objects.line_items.read",
            "crm.objects.quotes.read",
            "crm.schemas.contacts.read",
            "crm.schemas.companies.read",
            "crm.schemas.deals.read",
        ),
        # The portal ("hub") the token is for.
        token_extras={"hub_id": "hubId"},
    ),
    connector=HubSpotConnector,
    pace=PACE_SECONDS,
)
