"""GoHighLevel: CRM and marketing. Follows https://marketplace.gohighlevel.com/docs/.

LeadConnector API v2 on services.leadconnectorhq.com: the OAuth location (sub-account) token
as a Bearer token and a ``Version`` header on every request, ``2021-07-28`` except the
calendar and conversation endpoints, which document ``2021-04-15``. Everything is scoped to
the connection's ``locationId`` (stored with the OAuth connection, read from
``context.credentials``). Pagination differs per endpoint, as :data:`STREAMS` declares:
``startAfterId`` + ``startAfter`` (contacts, opportunities), the last ``lastMessageDate``
(conversations, each with its messages: one more call per conversation), page numbers
within a ``startAt``..``endAt`` range (forms), one call per calendar and 90-day window from
2018 to a year ahead (appointments), one unpaged list (the five settings lists).

Incremental: conversations filter server-side (``startAfterDate``), forms by ``startAt`` (a
day early, then exactly by ``createdAt``); contacts, opportunities and appointments have no
updated-since filter, so they are read in full and kept client-side on
``dateUpdated``/``updatedAt``; the settings lists are always read in full. Rate limits: 100
requests per 10 seconds and 200,000 a day per app and location; 429s are retried.
``GET /locations/{locationId}`` is the cheapest authenticated call.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from listbackup.integrations.base import Integration, OAuthSpec, Record
from listbackup.integrations.connector import HttpConnector, named
from listbackup.integrations.errors import CredentialsRejected
from listbackup.integrations.pagination import Cursor, PageNumber
from listbackup.integrations.streams import Attach, Since, Stream, data_types, epoch_millis, streams
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
_LOCATION = {"locationId": "{locationId}"}  # shared by several streams: never changed


def _now() -> datetime:
    return datetime.now(UTC)


def _start_after(body: Any, page: list[Record]) -> Mapping[str, Any] | None:
    """``startAfterId`` + ``startAfter``, both from ``meta``, until ``nextPageUrl`` is empty."""
    meta = body.get("meta") or {}
    after_id, after = meta.get("startAfterId"), meta.get("startAfter")
    more = bool(meta["nextPageUrl"]) if "nextPageUrl" in meta else len(page) >= PAGE_SIZE
    if not (page and more and after_id and after is not None):
        return None
    return {"startAfterId": after_id, "startAfter": after}


def _after_last_message(body: Any, page: list[Record]) -> Mapping[str, Any] | None:
    last = page[-1].get("lastMessageDate") if len(page) >= PAGE_SIZE else None
    return {"startAfterDate": last} if last is not None else None


def _next_message(body: Any, page: list[Record]) -> str | None:
    box = body.get("messages") or {}
    last = box.get("lastMessageId")
    return str(last) if box.get("nextPage") and last else None


def _next_page(body: Any) -> int | None:
    following = (body.get("meta") or {}).get("nextPage")
    return following if isinstance(following, int) else None


def _day_before(moment: datetime) -> str:
    # The range is whole days, in a time zone the docs do not name: start a day early,
    # then keep exactly what was submitted after ``since`` (the stream's ``field``).
    return (moment - timedelta(days=1)).date().isoformat()


def _searched(data_type: DataType, path: str, updated: str, **params: str) -> Stream:
    """A startAfter-paged list with no updated-since filter: kept client-side on ``updated``."""
    return Stream(
        data_type,
        path,
        records=data_type.key,
        paginator=Cursor("startAfterId", _start_after),
        params={**params, "limit": PAGE_SIZE},
        since=Since(field=updated),
    )


STREAMS = streams(
    Stream(
        DataType(
            "custom_fields",
            "Custom fields",
            "Custom contact and opportunity fields.",
            Frequency.WEEKLY,
        ),
        "/locations/{locationId}/customFields",
        "customFields",
        params={"model": "all"},
    ),
    Stream(
        DataType("tags", "Tags", "Contact tags.", Frequency.WEEKLY),
        "/locations/{locationId}/tags",
        "tags",
    ),
    Stream(
        DataType("users", "Users", "Users with access to the location.", Frequency.WEEKLY),
        "/users/",
        "users",
        params=_LOCATION,
    ),
    _searched(
        DataType(
            "contacts",
            "Contacts",
            "Contacts with custom field values and tags.",
            Frequency.DAILY,
            depends_on=("custom_fields", "tags", "users"),
        ),
        "/contacts/",
        "dateUpdated",
        **_LOCATION,
    ),
    Stream(
        DataType(
            "pipelines", "Pipelines", "Opportunity pipelines and their stages.", Frequency.WEEKLY
        ),
        "/opportunities/pipelines",
        "pipelines",
        params=_LOCATION,
    ),
    _searched(
        DataType(
            "opportunities",
            "Opportunities",
            "Opportunities in each pipeline.",
            Frequency.DAILY,
            depends_on=("contacts", "pipelines", "users"),
        ),
        "/opportunities/search",
        "updatedAt",
        location_id="{locationId}",
        status="all",
    ),
    Stream(
        DataType(
            "calendars",
            "Calendars",
            "Booking calendars and their settings.",
            Frequency.WEEKLY,
            depends_on=("users",),
        ),
        "/calendars/",
        "calendars",
        params=_LOCATION,
        headers=_OLD_VERSION,
    ),
    # Read by GoHighLevelConnector._events: per calendar and window.
    Stream(
        DataType(
            "calendar_events",
            "Appointments",
            "Appointments booked on calendars.",
            Frequency.DAILY,
            depends_on=("calendars", "contacts"),
        ),
        "/calendars/events",
        "events",
        params=_LOCATION,
        headers=_OLD_VERSION,
        since=Since(field="dateUpdated"),
    ),
    Stream(
        DataType(
            "conversations",
            "Conversations",
            "SMS, email and chat threads with messages.",
            Frequency.DAILY,
            depends_on=("contacts",),
        ),
        "/conversations/search",
        records="conversations",
        paginator=Cursor("startAfterDate", _after_last_message),
        params={**_LOCATION, "limit": PAGE_SIZE, "sort": "asc", "sortBy": "last_message_date"},
        since=Since("startAfterDate", epoch_millis),
        headers=_OLD_VERSION,
        attach=Attach(
            "messages",
            "/conversations/{parent}/messages",
            records="messages.messages",
            paginator=Cursor("lastMessageId", _next_message),
            params={"limit": MESSAGES_PAGE_SIZE},
            headers=_OLD_VERSION,
        ),
    ),
    # Within a startAt..endAt range that defaults to the last month: GoHighLevelConnector
    # gives the end.
    Stream(
        DataType(
            "forms",
            "Form submissions",
            "Forms and what contacts submitted.",
            Frequency.DAILY,
            depends_on=("contacts",),
        ),
        "/forms/submissions",
        records="submissions",
        paginator=PageNumber(_next_page),
        params={**_LOCATION, "limit": PAGE_SIZE, "startAt": HISTORY_START.date().isoformat()},
        since=Since("startAt", _day_before, field="createdAt"),
    ),
)


class GoHighLevelConnector(HttpConnector):
    streams = STREAMS
    headers = {"Version": VERSION, "Accept": "application/json"}

    def placeholders(self) -> Mapping[str, str]:
        location = (self.context.credentials.get("locationId") or "").strip()
        if not location:
            raise CredentialsRejected(
                "This GoHighLevel connection has no location (sub-account); reconnect it."
            )
        return {"locationId": location}

    async def check(self) -> str | None:
        body = await self.client.get_json(self.path("/locations/{locationId}"))
        location = body.get("location") or {}
        return named(location.get("name"), (location.get("business") or {}).get("name"))

    def read(self, stream: Stream, since: datetime | None) -> AsyncIterator[list[Record]]:
        if stream.key == "calendar_events":
            return self._events(stream)
        if stream.key == "forms":
            tomorrow = (_now() + timedelta(days=1)).date().isoformat()
            return self.pages(replace(stream, params={**stream.params, "endAt": tomorrow}), since)
        return super().read(stream, since)

    async def _events(self, stream: Stream) -> AsyncIterator[list[Record]]:
        calendars = [c async for page in self.pages(self.streams["calendars"]) for c in page]
        end = _now() + EVENTS_AHEAD
        for calendar in calendars:
            seen, start = set[str](), HISTORY_START
            while start < end:
                stop = min(start + EVENT_WINDOW, end)
                window = {"calendarId": calendar["id"], "startTime": epoch_millis(start)}
                window["endTime"] = epoch_millis(stop)
                async for events in self.pages(replace(stream, params={**stream.params, **window})):
                    # An appointment across a window boundary may come back in both windows.
                    page = [e for e in events if str(e.get("id")) not in seen]
                    seen.update(str(e.get("id")) for e in page)
                    if page:
                        yield page
                start = stop


INTEGRATION = Integration(
    platform=Platform(
        slug="gohighlevel",
        name="GoHighLevel",
        category="crm",
        description="Contacts, opportunities, appointments and conversations from HighLevel.",
        auth_type=AuthType.OAUTH2,
        data_types=data_types(STREAMS),
    ),
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
        # A location token names its location (sub-account) and company (agency).
        token_extras={"locationId": "locationId", "companyId": "companyId"},
    ),
    connector=GoHighLevelConnector,
)
