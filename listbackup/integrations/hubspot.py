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

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

from listbackup.integrations.base import Connector, ConnectorContext, Integration, OAuthSpec, Record
from listbackup.integrations.errors import PlatformRequestFailed
from listbackup.integrations.http import PlatformClient, json_of
from listbackup.integrations.pagination import cursor_pages, key
from listbackup.models.platforms import AuthType, DataType, Frequency, Platform

PAGE_SIZE = 100
SEARCH_PAGE_SIZE = 200
#: A search query answers at most this many results, however it is paged.
SEARCH_CAP = 10_000
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


class HubSpotConnector(Connector):
    def __init__(self, context: ConnectorContext) -> None:
        super().__init__(context)
        self.client = PlatformClient(context)

    async def check(self) -> str | None:
        details = await self.client.get_json(ACCOUNT_DETAILS)
        portal = details.get("portalId")
        return f"HubSpot account {portal}" if portal else None

    async def fetch(
        self, data_type: str, *, since: datetime | None = None
    ) -> AsyncIterator[list[Record]]:
        pages: AsyncIterator[list[Record]]
        if data_type in OBJECTS:
            pages = self._objects(data_type) if since is None else self._search(data_type, since)
        elif data_type == "owners":
            pages = self._cursor_pages("/owners", {"limit": PAGE_SIZE})
        elif data_type == "pipelines":
            pages = self._per_object("pipelines", PIPELINE_OBJECTS)
        elif data_type == "properties":
            pages = self._per_object("properties", tuple(OBJECTS))
        else:
            raise self.unknown(data_type)
        async for page in pages:
            yield page

    async def aclose(self) -> None:
        await self.client.aclose()

    def _cursor_pages(self, url: str, params: dict[str, Any]) -> AsyncIterator[list[Record]]:
        return cursor_pages(
            self.client,
            url,
            params=params,
            records=key("results"),
            next_cursor=_next_after,
            cursor_param="after",
        )

    async def _objects(self, obj: str) -> AsyncIterator[list[Record]]:
        names = await self._property_names(obj)
        params: dict[str, Any] = {"limit": PAGE_SIZE}
        if associations := OBJECTS[obj]:
            params["associations"] = associations
        async for page in self._cursor_pages(f"/objects/{obj}", params):
            yield await self._with_properties(obj, page, names) if names else page

    async def _with_properties(
        self, obj: str, page: list[Record], names: list[str]
    ) -> list[Record]:
        """The page's records with every property (and the list's associations kept)."""
        body = {"inputs": [{"id": record["id"]} for record in page], "properties": names}
        response = await self.client.request("POST", f"/objects/{obj}/batch/read", json=body)
        full = {str(record["id"]): record for record in json_of(response).get("results") or []}
        return [{**record, **full.get(str(record["id"]), {})} for record in page]

    async def _search(self, obj: str, since: datetime) -> AsyncIterator[list[Record]]:
        names = await self._property_names(obj)
        field = "lastmodifieddate" if obj == "contacts" else "hs_lastmodifieddate"
        lower = int(since.timestamp() * 1000)
        # Ids already yielded whose modified time is ``lower`` (after a restart), and
        # the latest modified time yielded with the ids that have it.
        done_at_lower: set[str] = set()
        latest = lower
        at_latest: set[str] = set()
        after: str | None = None
        while True:
            body = _search_body(field, lower, names, after)
            response = await self.client.request("POST", f"/objects/{obj}/search", json=body)
            answer = json_of(response)
            page = []
            for record in answer.get("results") or []:
                modified = _modified_ms(record, field, default=lower)
                if modified == lower and str(record["id"]) in done_at_lower:
                    continue
                page.append(record)
                if modified > latest:
                    latest, at_latest = modified, set()
                if modified == latest:
                    at_latest.add(str(record["id"]))
            if page:
                yield page
            after = _next_after(answer, page)
            if not after or not answer.get("results"):
                return
            if after.isdigit() and int(after) + SEARCH_PAGE_SIZE > SEARCH_CAP:
                if latest == lower:
                    raise PlatformRequestFailed(
                        "More HubSpot records changed at the same instant than one search "
                        "can return; run a full backup instead."
                    )
                # Start a new query at the latest time reached, skipping what was yielded.
                lower, done_at_lower, after = latest, set(at_latest), None

    async def _property_names(self, obj: str) -> list[str]:
        body = await self.client.get_json(f"/properties/{obj}")
        return [str(prop["name"]) for prop in body.get("results") or []]

    async def _per_object(
        self, resource: str, objects: Sequence[str]
    ) -> AsyncIterator[list[Record]]:
        for obj in objects:
            body = await self.client.get_json(f"/{resource}/{obj}")
            page = [{**record, "objectType": obj} for record in body.get("results") or []]
            if page:
                yield page


def _next_after(body: Any, page: list[Record]) -> str | None:
    after = ((body.get("paging") or {}).get("next") or {}).get("after")
    return str(after) if after else None


def _search_body(field: str, lower: int, names: list[str], after: str | None) -> dict[str, Any]:
    """Records modified at or after ``lower`` (epoch ms), oldest first, every property."""
    body: dict[str, Any] = {
        "filterGroups": [
            {"filters": [{"propertyName": field, "operator": "GTE", "value": str(lower)}]}
        ],
        "sorts": [{"propertyName": field, "direction": "ASCENDING"}],
        "properties": names,
        "limit": SEARCH_PAGE_SIZE,
    }
    if after:
        body["after"] = after
    return body


def _modified_ms(record: Record, field: str, *, default: int) -> int:
    value = (record.get("properties") or {}).get(field)
    if not value:
        return default
    if str(value).isdigit():
        return int(value)
    return int(datetime.fromisoformat(str(value)).timestamp() * 1000)


_FINANCIAL_RETENTION = 365

INTEGRATION = Integration(
    platform=Platform(
        slug="hubspot",
        name="HubSpot",
        category="crm",
        description="Contacts, companies, deals, tickets and products from your HubSpot CRM.",
        auth_type=AuthType.OAUTH2,
        data_types=(
            DataType("owners", "Owners", "Users who own CRM records.", Frequency.WEEKLY),
            DataType(
                "pipelines",
                "Pipelines",
                "Deal and ticket pipelines and their stages.",
                Frequency.WEEKLY,
            ),
            DataType(
                "properties",
                "Properties",
                "Property definitions, including custom ones.",
                Frequency.WEEKLY,
            ),
            DataType(
                "contacts",
                "Contacts",
                "Contact records with all their properties.",
                Frequency.DAILY,
                depends_on=("owners", "properties"),
            ),
            DataType(
                "companies",
                "Companies",
                "Company records with all their properties.",
                Frequency.DAILY,
                depends_on=("owners", "properties"),
            ),
            DataType(
                "deals",
                "Deals",
                "Deals and their contact and company associations.",
                Frequency.DAILY,
                _FINANCIAL_RETENTION,
                depends_on=("contacts", "companies", "pipelines"),
            ),
            DataType(
                "tickets",
                "Tickets",
                "Support tickets and their associations.",
                Frequency.DAILY,
                depends_on=("contacts", "companies", "pipelines"),
            ),
            DataType(
                "products",
                "Products",
                "The product library.",
                Frequency.WEEKLY,
                _FINANCIAL_RETENTION,
            ),
            DataType(
                "line_items",
                "Line items",
                "Products as sold on deals and quotes.",
                Frequency.DAILY,
                _FINANCIAL_RETENTION,
                depends_on=("deals", "products"),
            ),
            DataType(
                "quotes",
                "Quotes",
                "Quotes sent to buyers.",
                Frequency.DAILY,
                _FINANCIAL_RETENTION,
                depends_on=("deals", "line_items"),
            ),
        ),
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
    ),
    connector=HubSpotConnector,
    pace=PACE_SECONDS,
)
