"""GoHighLevel against a local fake of its documented LeadConnector API v2."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from listbackup.integrations import gohighlevel
from listbackup.integrations.base import TokenSource
from listbackup.integrations.errors import CredentialsRejected
from listbackup.integrations.gohighlevel import (
    CALENDARS_VERSION,
    HISTORY_START,
    VERSION,
    GoHighLevelConnector,
)
from tests.integrations.fakes import (
    Fake,
    FakeApi,
    Sleeps,
    StaticTokens,
    collect,
    context,
    too_many_requests,
)

BASE = "https://services.leadconnector.test"
LOCATION = "loc-1"
START = datetime(2025, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 3, 1, tzinfo=UTC)
Item = dict[str, Any]


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


CONTACTS: list[Item] = [
    {
        "id": f"con{n:04d}",
        "dateAdded": _iso(START + timedelta(hours=n)),
        "dateUpdated": _iso(START + timedelta(hours=n, days=1)),
    }
    for n in range(250)
]
OPPORTUNITIES: list[Item] = [
    {"id": f"opp{n:04d}", "updatedAt": _iso(START + timedelta(hours=n))} for n in range(230)
]
CONVERSATIONS: list[Item] = [
    {"id": f"conv{n:04d}", "lastMessageDate": _ms(START + timedelta(hours=n))} for n in range(210)
]
SUBMISSIONS: list[Item] = [
    {"id": f"sub{n:04d}", "createdAt": _iso(START + timedelta(hours=n))} for n in range(250)
]
CALENDARS: list[Item] = [{"id": "cal-a", "name": "Sales"}, {"id": "cal-b", "name": "Support"}]
#: Appointments every 20 days; one on each calendar spans a 90-day window boundary.
EVENTS: dict[str, list[Item]] = {
    cal["id"]: [
        {
            "id": f"{cal['id']}-evt{n:03d}",
            "startTime": _ms(HISTORY_START + timedelta(days=20 * n)),
            "endTime": _ms(HISTORY_START + timedelta(days=20 * n, hours=1)),
            "dateUpdated": _iso(HISTORY_START + timedelta(days=20 * n)),
        }
        for n in range(3)
    ]
    + [
        {
            "id": f"{cal['id']}-across",
            "startTime": _ms(HISTORY_START + timedelta(days=89)),
            "endTime": _ms(HISTORY_START + timedelta(days=91)),
            "dateUpdated": _iso(NOW - timedelta(days=1)),
        }
    ]
    for cal in CALENDARS
}
SETTINGS: dict[str, tuple[str, list[Item]]] = {
    f"/locations/{LOCATION}/customFields": ("customFields", [{"id": "cf1"}, {"id": "cf2"}]),
    f"/locations/{LOCATION}/tags": ("tags", [{"id": "t1", "name": "VIP"}]),
    "/users/": ("users", [{"id": "u1"}, {"id": "u2"}, {"id": "u3"}]),
    "/opportunities/pipelines": ("pipelines", [{"id": "p1", "stages": []}]),
    "/calendars/": ("calendars", CALENDARS),
}


class FakeLeadConnector:
    def __init__(self, *, accepts: str = "token-1", throttle_once: bool = True) -> None:
        self.token = accepts
        self.throttled = not throttle_once
        self.api = FakeApi(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:  # noqa: PLR0911 - per endpoint
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return httpx.Response(401, json={"statusCode": 401, "message": "Invalid JWT"})
        path, params = request.url.path, request.url.params
        old = path.startswith(("/calendars", "/conversations"))
        assert request.headers["Version"] == (CALENDARS_VERSION if old else VERSION)
        if path == f"/locations/{LOCATION}":
            return httpx.Response(200, json={"location": {"id": LOCATION, "name": "Acme Dental"}})
        if path in SETTINGS:
            name, items = SETTINGS[path]
            if path.startswith("/locations"):
                assert path.endswith("/tags") or params["model"] == "all"
            else:
                assert params["locationId"] == LOCATION
            return httpx.Response(200, json={name: items})
        if "startAfterId" in params and not self.throttled:
            self.throttled = True
            return too_many_requests("2")
        if path == "/contacts/":
            assert params["locationId"] == LOCATION
            return start_after_page(CONTACTS, params, "contacts", "dateAdded")
        if path == "/opportunities/search":
            assert (params["location_id"], params["status"]) == (LOCATION, "all")
            return start_after_page(OPPORTUNITIES, params, "opportunities", "updatedAt")
        return self.handle_more(path, params)

    def handle_more(self, path: str, params: httpx.QueryParams) -> httpx.Response:
        if path == "/calendars/events":
            assert params["locationId"] == LOCATION
            start, end = int(params["startTime"]), int(params["endTime"])
            found = [
                e
                for e in EVENTS[params["calendarId"]]
                if e["startTime"] < end and e["endTime"] > start
            ]
            return httpx.Response(200, json={"events": found})
        if path == "/conversations/search":
            assert (params["sort"], params["sortBy"]) == ("asc", "last_message_date")
            after = int(params.get("startAfterDate", -1))
            found = [c for c in CONVERSATIONS if c["lastMessageDate"] > after]
            limit = int(params["limit"])
            return httpx.Response(200, json={"conversations": found[:limit], "total": len(found)})
        if path.startswith("/conversations/") and path.endswith("/messages"):
            conversation = path.split("/")[2]
            box: Item
            if "lastMessageId" in params:
                box = {"lastMessageId": "m2", "nextPage": False, "messages": [{"id": "m2"}]}
            else:
                box = {"lastMessageId": "m1", "nextPage": True, "messages": [{"id": "m1"}]}
            box["messages"][0]["conversationId"] = conversation
            return httpx.Response(200, json={"messages": box})
        if path == "/forms/submissions":
            assert params["locationId"] == LOCATION
            number, limit = int(params["page"]), int(params["limit"])
            day = params["startAt"]
            found = [s for s in SUBMISSIONS if s["createdAt"][:10] >= day]
            chunk = found[(number - 1) * limit : number * limit]
            more = number * limit < len(found)
            meta = {
                "total": len(found),
                "currentPage": number,
                "nextPage": number + 1 if more else None,
            }
            return httpx.Response(200, json={"submissions": chunk, "meta": meta})
        return httpx.Response(404, json={"statusCode": 404, "message": "Not found"})


def start_after_page(
    items: list[Item], params: httpx.QueryParams, name: str, stamp: str
) -> httpx.Response:
    limit = int(params["limit"])
    assert limit == 100
    after_id = params.get("startAfterId")
    start = 0
    if after_id is not None:
        start = next(i for i, item in enumerate(items) if item["id"] == after_id) + 1
        assert params["startAfter"] == str(_ms(datetime.fromisoformat(items[start - 1][stamp])))
    page = items[start : start + limit]
    more = start + limit < len(items)
    meta = {
        "total": len(items),
        "nextPageUrl": f"{BASE}/{name}?page=next" if more else None,
        "startAfterId": page[-1]["id"] if page else None,
        "startAfter": _ms(datetime.fromisoformat(page[-1][stamp])) if page else None,
    }
    return httpx.Response(200, json={name: page, "meta": meta})


def connector(
    fake: FakeLeadConnector,
    *,
    sleeps: Sleeps | None = None,
    tokens: TokenSource | None = None,
    credentials: dict[str, str] | None = None,
) -> GoHighLevelConnector:
    return GoHighLevelConnector(
        context(
            fake.api,
            BASE,
            credentials={"locationId": LOCATION} if credentials is None else credentials,
            tokens=tokens or StaticTokens(),
            sleeps=sleeps,
        )
    )


def platform_fake(accepts: str = "token-1") -> Fake:
    ghl = FakeLeadConnector(accepts=accepts, throttle_once=False)
    return Fake(lambda tokens: connector(ghl, tokens=tokens), ghl.api, "contacts")


def ids(pages: list[list[Item]]) -> list[str]:
    return [str(r["id"]) for page in pages for r in page]


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gohighlevel, "_now", lambda: NOW)


@pytest.mark.parametrize(
    ("data_type", "items", "sizes"),
    [("contacts", CONTACTS, [100, 100, 50]), ("opportunities", OPPORTUNITIES, [100, 100, 30])],
)
async def test_start_after_pages_yield_everything_once_through_a_429(
    data_type: str, items: list[Item], sizes: list[int]
) -> None:
    fake, sleeps = FakeLeadConnector(), Sleeps()

    pages = await collect(connector(fake, sleeps=sleeps), data_type)

    assert ids(pages) == [item["id"] for item in items]
    assert [len(p) for p in pages] == sizes
    assert sleeps.waits == [2.0]  # the Retry-After, honoured
    assert [r.url.params.get("startAfterId") for r in fake.api.requests] == [
        None,
        items[99]["id"],
        items[99]["id"],  # again, after the 429
        items[199]["id"],
    ]


async def test_contacts_since_are_kept_client_side_on_date_updated() -> None:
    fake = FakeLeadConnector(throttle_once=False)
    since = START + timedelta(days=1, hours=199, minutes=30)

    pages = await collect(connector(fake), "contacts", since=since)

    assert ids(pages) == [c["id"] for c in CONTACTS[200:]]
    assert len(fake.api.requests) == 3  # no updated-since filter: everything is read
    assert not any("date" in key.lower() for r in fake.api.requests for key in r.url.params)


async def test_conversations_come_with_their_messages_oldest_first() -> None:
    fake = FakeLeadConnector()

    pages = await collect(connector(fake), "conversations")

    assert ids(pages) == [c["id"] for c in CONVERSATIONS]
    assert [len(p) for p in pages] == [100, 100, 10]
    first = pages[0][0]
    assert first["messages"] == [
        {"id": "m1", "conversationId": "conv0000"},
        {"id": "m2", "conversationId": "conv0000"},
    ]
    searches = [r for r in fake.api.requests if r.url.path == "/conversations/search"]
    assert [r.url.params.get("startAfterDate") for r in searches] == [
        None,
        str(CONVERSATIONS[99]["lastMessageDate"]),
        str(CONVERSATIONS[199]["lastMessageDate"]),
    ]


async def test_conversations_since_filter_server_side() -> None:
    fake = FakeLeadConnector()
    since = START + timedelta(hours=150)

    pages = await collect(connector(fake), "conversations", since=since)

    assert ids(pages) == [c["id"] for c in CONVERSATIONS[151:]]
    assert fake.api.requests[0].url.params["startAfterDate"] == str(_ms(since))


async def test_form_submissions_page_by_number_over_the_whole_history() -> None:
    fake = FakeLeadConnector()

    pages = await collect(connector(fake), "forms")

    assert ids(pages) == [s["id"] for s in SUBMISSIONS]
    assert [len(p) for p in pages] == [100, 100, 50]
    first = fake.api.requests[0].url.params
    assert (first["startAt"], first["endAt"]) == ("2018-01-01", "2026-03-02")
    assert [r.url.params["page"] for r in fake.api.requests] == ["1", "2", "3"]


async def test_form_submissions_since_start_a_day_early_then_filter_exactly() -> None:
    fake = FakeLeadConnector()
    since = START + timedelta(days=1, hours=12)

    pages = await collect(connector(fake), "forms", since=since)

    assert ids(pages) == [s["id"] for s in SUBMISSIONS[37:]]
    assert fake.api.requests[0].url.params["startAt"] == "2025-01-01"


async def test_calendar_events_per_calendar_and_window_each_once() -> None:
    fake = FakeLeadConnector()

    pages = await collect(connector(fake), "calendar_events")

    expected = [e["id"] for cal in CALENDARS for e in sorted(EVENTS[cal["id"]], key=_start)]
    assert ids(pages) == expected
    windows = [r for r in fake.api.requests if r.url.path == "/calendars/events"]
    end = _ms(NOW + timedelta(days=365))
    assert {int(r.url.params["endTime"]) for r in windows} >= {end}
    days = (NOW + timedelta(days=365) - HISTORY_START).days  # 2018-01-01 .. 2027-03-01
    assert len(windows) == 2 * -(-days // 90)  # 38 windows of 90 days, per calendar


async def test_calendar_events_since_keep_recently_updated_ones() -> None:
    pages = await collect(
        connector(FakeLeadConnector()), "calendar_events", since=NOW - timedelta(days=7)
    )

    assert ids(pages) == ["cal-a-across", "cal-b-across"]


@pytest.mark.parametrize(
    ("data_type", "path"),
    [
        ("custom_fields", f"/locations/{LOCATION}/customFields"),
        ("tags", f"/locations/{LOCATION}/tags"),
        ("users", "/users/"),
        ("pipelines", "/opportunities/pipelines"),
        ("calendars", "/calendars/"),
    ],
)
async def test_settings_lists(data_type: str, path: str) -> None:
    pages = await collect(connector(FakeLeadConnector()), data_type)

    assert pages == [SETTINGS[path][1]]


async def test_check_names_the_location() -> None:
    assert await connector(FakeLeadConnector()).check() == "Acme Dental"


async def test_a_connection_without_a_location_must_be_reconnected() -> None:
    with pytest.raises(CredentialsRejected):
        await collect(connector(FakeLeadConnector(), credentials={}), "contacts")


def _start(event: Item) -> int:
    return int(event["startTime"])
