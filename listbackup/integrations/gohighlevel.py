"""GoHighLevel: CRM and marketing. Follows https://marketplace.gohighlevel.com/docs/.

LeadConnector API v2 on services.leadconnectorhq.com: the OAuth location (sub-account) token
as a Bearer token and a ``Version`` header on every request, ``2021-07-28`` except the
calendar and conversation endpoints, which document ``2021-04-15``. Everything is scoped to
the connection's ``locationId`` (stored with the OAuth connection, read from
``context.credentials``). Pagination differs per endpoint:

- ``contacts`` (``GET /contacts/``) and ``opportunities`` (``GET /opportunities/search``,
  ``status=all``): ``limit=100`` then ``startAfterId`` + ``startAfter`` from the response's
  ``meta`` until ``meta.nextPageUrl`` is empty.
- ``conversations`` (``GET /conversations/search``): sorted by ``last_message_date``
  ascending, ``startAfterDate`` = the last one's ``lastMessageDate``; each conversation
  carries its ``messages`` (``GET /conversations/{id}/messages``, paged by
  ``lastMessageId`` while ``nextPage``): one more call per conversation.
- ``forms`` (``GET /forms/submissions``): ``page`` + ``limit`` within a ``startAt``..``endAt``
  date range, which defaults to the last month, so it is always given.
- ``calendar_events`` (``GET /calendars/events``): no pages; one call per calendar and
  90-day window of ``startTime``/``endTime`` (ms), from 2018 to a year ahead.
- ``custom_fields``, ``tags``, ``users``, ``pipelines``, ``calendars``: one unpaged list.

Incremental: ``conversations`` filter server-side (``startAfterDate`` = ``since``) and
``forms`` by ``startAt`` (a day early, then exactly by ``createdAt``). The contact,
opportunity and appointment lists have no updated-since filter, so they are read in full and
kept client-side when ``dateUpdated``/``updatedAt`` is after ``since`` (a record without one
is kept). The five settings lists are small and always read in full. Rate limits: 100
requests per 10 seconds and 200,000 a day per app and location; 429s are retried.
``GET /locations/{locationId}`` is the cheapest authenticated call.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from listbackup.integrations.base import Connector, ConnectorContext, Integration, OAuthSpec, Record
from listbackup.integrations.errors import CredentialsRejected
from listbackup.integrations.http import PlatformClient
from listbackup.models.platforms import AuthType, DataType, Frequency, Platform

VERSION = "2021-07-28"
#: The calendar and conversation endpoints document this version instead.
CALENDARS_VERSION = "2021-04-15"
PAGE_SIZE = 100
MESSAGES_PAGE_SIZE = 100
#: Appointments are read in windows of this length from HISTORY_START to a year ahead.
EVENT_WINDOW = timedelta(days=90)
EVENTS_AHEAD = timedelta(days=365)
HISTORY_START = datetime(2018, 1, 1, tzinfo=UTC)
_OLD_VERSION = {"Version": CALENDARS_VERSION}


def _now() -> datetime:
    return datetime.now(UTC)


class GoHighLevelConnector(Connector):
    def __init__(self, context: ConnectorContext) -> None:
        super().__init__(context)
        self.client = PlatformClient(
            context, headers={"Version": VERSION, "Accept": "application/json"}
        )

    @property
    def location_id(self) -> str:
        location = (self.context.credentials.get("locationId") or "").strip()
        if not location:
            raise CredentialsRejected(
                "This GoHighLevel connection has no location (sub-account); reconnect it."
            )
        return location

    async def check(self) -> str | None:
        body = await self.client.get_json(f"/locations/{quote(self.location_id, safe='')}")
        location = body.get("location") or {}
        name = location.get("name") or (location.get("business") or {}).get("name")
        return str(name) if name else None

    async def fetch(
        self, data_type: str, *, since: datetime | None = None
    ) -> AsyncIterator[list[Record]]:
        location = self.location_id
        path = f"/locations/{quote(location, safe='')}"
        cutoff = _utc(since) if since is not None else None
        if data_type == "custom_fields":
            pages = self._list(f"{path}/customFields", "customFields", {"model": "all"})
        elif data_type == "tags":
            pages = self._list(f"{path}/tags", "tags", {})
        elif data_type == "users":
            pages = self._list("/users/", "users", {"locationId": location})
        elif data_type == "pipelines":
            pages = self._list("/opportunities/pipelines", "pipelines", {"locationId": location})
        elif data_type == "calendars":
            pages = self._calendars(location)
        elif data_type == "contacts":
            pages = _changed(
                self._start_after("/contacts/", "contacts", {"locationId": location}),
                cutoff,
                "dateUpdated",
            )
        elif data_type == "opportunities":
            params = {"location_id": location, "status": "all"}
            pages = _changed(
                self._start_after("/opportunities/search", "opportunities", params),
                cutoff,
                "updatedAt",
            )
        elif data_type == "calendar_events":
            pages = _changed(self._events(location), cutoff, "dateUpdated")
        elif data_type == "conversations":
            pages = self._conversations(location, cutoff)
        elif data_type == "forms":
            pages = self._submissions(location, cutoff)
        else:
            raise self.unknown(data_type)
        async for page in pages:
            yield page

    async def _list(
        self,
        url: str,
        name: str,
        params: Mapping[str, Any],
        headers: Mapping[str, str] | None = None,
    ) -> AsyncIterator[list[Record]]:
        """An unpaged list."""
        body = await self.client.get_json(url, params=params, headers=headers)
        page: list[Record] = body.get(name) or []
        if page:
            yield page

    async def _start_after(
        self, url: str, name: str, params: Mapping[str, Any]
    ) -> AsyncIterator[list[Record]]:
        """``startAfterId`` + ``startAfter`` pagination, both taken from ``meta``."""
        query: dict[str, Any] = {**params, "limit": PAGE_SIZE}
        while True:
            body = await self.client.get_json(url, params=query)
            page: list[Record] = body.get(name) or []
            if page:
                yield page
            meta = body.get("meta") or {}
            after_id, after = meta.get("startAfterId"), meta.get("startAfter")
            more = bool(meta["nextPageUrl"]) if "nextPageUrl" in meta else len(page) >= PAGE_SIZE
            if not (page and more and after_id and after is not None):
                return
            if after_id == query.get("startAfterId"):
                return  # the API repeated itself: stop rather than loop
            query["startAfterId"], query["startAfter"] = after_id, after

    async def _events(self, location: str) -> AsyncIterator[list[Record]]:
        calendars = [c async for page in self._calendars(location) for c in page]
        end = _now() + EVENTS_AHEAD
        for calendar in calendars:
            seen: set[str] = set()
            start = HISTORY_START
            while start < end:
                stop = min(start + EVENT_WINDOW, end)
                body = await self.client.get_json(
                    "/calendars/events",
                    params={
                        "locationId": location,
                        "calendarId": calendar["id"],
                        "startTime": _millis(start),
                        "endTime": _millis(stop),
                    },
                    headers=_OLD_VERSION,
                )
                # An appointment across a window boundary may come back in both windows.
                page = [e for e in body.get("events") or [] if e.get("id") not in seen]
                seen.update(str(e.get("id")) for e in page)
                if page:
                    yield page
                start = stop

    def _calendars(self, location: str) -> AsyncIterator[list[Record]]:
        return self._list("/calendars/", "calendars", {"locationId": location}, _OLD_VERSION)

    async def _conversations(
        self, location: str, cutoff: datetime | None
    ) -> AsyncIterator[list[Record]]:
        query: dict[str, Any] = {
            "locationId": location,
            "limit": PAGE_SIZE,
            "sort": "asc",
            "sortBy": "last_message_date",
        }
        if cutoff is not None:
            query["startAfterDate"] = _millis(cutoff)
        while True:
            body = await self.client.get_json(
                "/conversations/search", params=query, headers=_OLD_VERSION
            )
            page: list[Record] = body.get("conversations") or []
            for conversation in page:
                conversation["messages"] = await self._messages(str(conversation["id"]))
            if page:
                yield page
            last = page[-1].get("lastMessageDate") if page else None
            if len(page) < PAGE_SIZE or last is None or last == query.get("startAfterDate"):
                return
            query["startAfterDate"] = last

    async def _messages(self, conversation_id: str) -> list[Record]:
        messages: list[Record] = []
        query: dict[str, Any] = {"limit": MESSAGES_PAGE_SIZE}
        url = f"/conversations/{quote(conversation_id, safe='')}/messages"
        while True:
            body = await self.client.get_json(url, params=query, headers=_OLD_VERSION)
            box = body.get("messages") or {}
            page: list[Record] = box.get("messages") or []
            messages.extend(page)
            last = box.get("lastMessageId")
            if not (box.get("nextPage") and page and last) or last == query.get("lastMessageId"):
                return messages
            query["lastMessageId"] = last

    async def _submissions(
        self, location: str, cutoff: datetime | None
    ) -> AsyncIterator[list[Record]]:
        # The range is whole days, in a time zone the docs do not name: start a day early
        # and end a day late, then keep exactly what was submitted after the cutoff.
        first = (cutoff - timedelta(days=1)) if cutoff is not None else HISTORY_START
        params = {
            "locationId": location,
            "limit": PAGE_SIZE,
            "startAt": first.date().isoformat(),
            "endAt": (_now() + timedelta(days=1)).date().isoformat(),
        }
        number = 1
        while True:
            body = await self.client.get_json(
                "/forms/submissions", params={**params, "page": number}
            )
            page: list[Record] = body.get("submissions") or []
            kept = [s for s in page if _after(s, "createdAt", cutoff)]
            if kept:
                yield kept
            following = (body.get("meta") or {}).get("nextPage")
            if not page or not isinstance(following, int) or following <= number:
                return
            number = following

    async def aclose(self) -> None:
        await self.client.aclose()


async def _changed(
    pages: AsyncIterator[list[Record]], cutoff: datetime | None, field: str
) -> AsyncIterator[list[Record]]:
    """The records of ``pages`` whose ``field`` is after ``cutoff`` (all without a cutoff)."""
    async for page in pages:
        kept = [record for record in page if _after(record, field, cutoff)]
        if kept:
            yield kept


def _after(record: Record, field: str, cutoff: datetime | None) -> bool:
    """Whether ``record[field]`` is after ``cutoff``; kept when there is no usable time."""
    if cutoff is None:
        return True
    stamp = record.get(field)
    if not isinstance(stamp, str):
        return True
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return True
    return _utc(moment) > cutoff


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _millis(moment: datetime) -> int:
    return int(_utc(moment).timestamp() * 1000)


INTEGRATION = Integration(
    platform=Platform(
        slug="gohighlevel",
        name="GoHighLevel",
        category="crm",
        description="Contacts, opportunities, appointments and conversations from HighLevel.",
        auth_type=AuthType.OAUTH2,
        data_types=(
            DataType(
                "custom_fields",
                "Custom fields",
                "Custom contact and opportunity fields.",
                Frequency.WEEKLY,
            ),
            DataType("tags", "Tags", "Contact tags.", Frequency.WEEKLY),
            DataType("users", "Users", "Users with access to the location.", Frequency.WEEKLY),
            DataType(
                "contacts",
                "Contacts",
                "Contacts with custom field values and tags.",
                Frequency.DAILY,
                depends_on=("custom_fields", "tags", "users"),
            ),
            DataType(
                "pipelines",
                "Pipelines",
                "Opportunity pipelines and their stages.",
                Frequency.WEEKLY,
            ),
            DataType(
                "opportunities",
                "Opportunities",
                "Opportunities in each pipeline.",
                Frequency.DAILY,
                depends_on=("contacts", "pipelines", "users"),
            ),
            DataType(
                "calendars",
                "Calendars",
                "Booking calendars and their settings.",
                Frequency.WEEKLY,
                depends_on=("users",),
            ),
            DataType(
                "calendar_events",
                "Appointments",
                "Appointments booked on calendars.",
                Frequency.DAILY,
                depends_on=("calendars", "contacts"),
            ),
            DataType(
                "conversations",
                "Conversations",
                "SMS, email and chat threads with messages.",
                Frequency.DAILY,
                depends_on=("contacts",),
            ),
            DataType(
                "forms",
                "Form submissions",
                "Forms and what contacts submitted.",
                Frequency.DAILY,
                depends_on=("contacts",),
            ),
        ),
    ),
    # API v2. Every request needs the header `Version: 2021-07-28` (some calendar and
    # conversation endpoints document `2021-04-15`) and a location (sub-account) token.
    api_base_url="https://services.leadconnectorhq.com",
    docs_url="https://marketplace.gohighlevel.com/docs/",
    oauth=OAuthSpec(
        # The white-label LeadConnector host; https://marketplace.gohighlevel.com is the
        # branded equivalent.
        authorize_url="https://marketplace.leadconnectorhq.com/oauth/chooselocation",
        # Form-encoded; send `user_type=Location` to get a location token.
        token_url="https://services.leadconnectorhq.com/oauth/token",
        scopes=(
            "locations.readonly",
            "locations/customFields.readonly",
            "locations/tags.readonly",
            "users.readonly",
            "contacts.readonly",
            "opportunities.readonly",
            "calendars.readonly",
            "calendars/events.readonly",
            "conversations.readonly",
            "conversations/message.readonly",
            "forms.readonly",
        ),
    ),
    connector=GoHighLevelConnector,
)
