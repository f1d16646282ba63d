"""HubSpot against a local fake of its documented CRM v3 API."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from listbackup.integrations import hubspot, hubspot_search
from listbackup.integrations.base import TokenSource
from listbackup.integrations.hubspot import HubSpotConnector
from tests.integrations.fakes import (
    Fake,
    FakeApi,
    Sleeps,
    StaticTokens,
    collect,
    context,
    too_many_requests,
)

BASE = "https://api.hubspot.test/crm/v3"
T0 = datetime(2026, 1, 1, tzinfo=UTC)
PROPERTIES = ["email", "firstname", "lastmodifieddate", "favourite_colour"]


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _contact(n: int) -> dict[str, Any]:
    # Three contacts share each modified second, so search restarts land on ties.
    modified = _iso(T0 + timedelta(seconds=n // 3))
    return {
        "id": str(1000 + n),
        "properties": {
            "email": f"c{n}@example.com",
            "firstname": f"C{n}",
            "favourite_colour": "teal",
            "lastmodifieddate": modified,
        },
        "archived": False,
    }


CONTACTS = [_contact(n) for n in range(1000)]
DEALS = [{"id": str(n), "properties": {"dealname": f"D{n}"}} for n in range(3)]
#: Every CRM object type's records: the contacts and deals above, two of each other type.
OBJECTS = {
    obj: [{"id": f"{obj}-{n}", "properties": {"email": f"{obj}{n}@x.test"}} for n in range(2)]
    for obj in hubspot.OBJECTS
} | {"contacts": CONTACTS, "deals": DEALS}


def _defaults(record: dict[str, Any]) -> dict[str, Any]:
    """What a list returns: only a few default properties."""
    return {**record, "properties": {"email": record["properties"].get("email")}}


class HubSpotFake:
    def __init__(self, *, accepted: str = "token-1", throttle_once: bool = True) -> None:
        self.accepted = accepted
        self.throttled = not throttle_once
        self.search_cap = 10_000
        self.api = FakeApi(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.headers.get("Authorization") != f"Bearer {self.accepted}":
            return httpx.Response(401, json={"category": "INVALID_AUTHENTICATION"})
        if request.url.path == "/account-info/v3/details":
            return httpx.Response(200, json={"portalId": 62515, "accountType": "STANDARD"})
        assert request.url.path.startswith("/crm/v3/")
        return self.crm(request, request.url.path.removeprefix("/crm/v3"))

    def crm(self, request: httpx.Request, path: str) -> httpx.Response:
        routes = {
            "/objects/contacts": self.list_contacts,
            "/owners": self.list_owners,
        }
        if path in routes:
            return routes[path](request)
        if path.endswith("/search"):
            return self.search(request)
        kind, object_type = path.strip("/").split("/", 1)
        if path.endswith("/batch/read"):
            return self.batch_read(request, OBJECTS[object_type.removesuffix("/batch/read")])
        if kind == "objects":
            return self.cursor_page(request, [_defaults(r) for r in OBJECTS[object_type]])
        whole = {
            "properties": [{"name": n} for n in PROPERTIES],
            "pipelines": [{"id": f"{object_type}-p"}],
        }
        if kind in whole:
            return httpx.Response(200, json={"results": whole[kind]})
        return httpx.Response(404, json={"message": "not found"})

    def cursor_page(self, request: httpx.Request, records: list[dict[str, Any]]) -> httpx.Response:
        start = int(request.url.params.get("after", "0"))
        limit = int(request.url.params["limit"])
        body: dict[str, Any] = {"results": records[start : start + limit]}
        if start + limit < len(records):
            link = f"{BASE}/objects?after={start + limit}"
            body["paging"] = {"next": {"after": str(start + limit), "link": link}}
        return httpx.Response(200, json=body)

    def list_owners(self, request: httpx.Request) -> httpx.Response:
        return self.cursor_page(request, [{"id": str(n)} for n in range(120)])

    def list_contacts(self, request: httpx.Request) -> httpx.Response:
        if request.url.params.get("after") and not self.throttled:
            self.throttled = True
            return too_many_requests("3")
        return self.cursor_page(request, [_defaults(c) for c in CONTACTS[:250]])

    def batch_read(self, request: httpx.Request, records: list[dict[str, Any]]) -> httpx.Response:
        body = json.loads(request.content)
        assert body["properties"] == PROPERTIES
        assert len(body["inputs"]) <= 100
        by_id = {c["id"]: c for c in records}
        found = [by_id[i["id"]] for i in body["inputs"]]
        # Batch reads answer in no promised order.
        return httpx.Response(200, json={"status": "COMPLETE", "results": found[::-1]})

    def search(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        (search_filter,) = body["filterGroups"][0]["filters"]
        field, lower = search_filter["propertyName"], int(search_filter["value"])
        after, limit = int(body.get("after") or 0), body["limit"]
        if after + limit > self.search_cap:
            return httpx.Response(400, json={"message": "paging beyond the result cap"})

        def modified(record: dict[str, Any]) -> int:
            value = record["properties"][field]
            return int(datetime.fromisoformat(value).timestamp() * 1000)

        matching = sorted(
            (c for c in CONTACTS if modified(c) >= lower),
            key=lambda c: (modified(c), int(c["id"])),
        )
        answer: dict[str, Any] = {
            "total": len(matching),
            "results": matching[after : after + limit],
        }
        if after + limit < len(matching):
            answer["paging"] = {"next": {"after": str(after + limit)}}
        return httpx.Response(200, json=answer)


def connector(
    fake: HubSpotFake, tokens: TokenSource | None = None, sleeps: Sleeps | None = None
) -> HubSpotConnector:
    return HubSpotConnector(context(fake.api, BASE, tokens=tokens or StaticTokens(), sleeps=sleeps))


def platform_fake(accepts: str = "token-1") -> Fake:
    hub = HubSpotFake(accepted=accepts, throttle_once=False)
    return Fake(lambda tokens: connector(hub, tokens), hub.api, "contacts")


async def test_every_contact_once_in_order_with_every_property_through_a_429() -> None:
    fake, sleeps = HubSpotFake(), Sleeps()

    pages = await collect(connector(fake, sleeps=sleeps), "contacts")

    assert [c["id"] for page in pages for c in page] == [c["id"] for c in CONTACTS[:250]]
    assert [len(p) for p in pages] == [100, 100, 50]
    assert all(c["properties"]["favourite_colour"] == "teal" for p in pages for c in p)
    assert sleeps.waits == [3.0]  # the Retry-After, honoured
    lists = [r for r in fake.api.requests if r.url.path == "/crm/v3/objects/contacts"]
    assert [r.url.params.get("after") for r in lists] == [None, "100", "100", "200"]
    assert all(r.url.params["limit"] == "100" for r in lists)


async def test_deals_keep_their_associations_and_ask_for_them() -> None:
    fake = HubSpotFake(throttle_once=False)

    def batch_read(request: httpx.Request) -> httpx.Response:
        ids = [i["id"] for i in json.loads(request.content)["inputs"]]
        return httpx.Response(200, json={"results": [{"id": i, "properties": {}} for i in ids]})

    handle = fake.handle

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/crm/v3/objects/deals/batch/read":
            return batch_read(request)
        if request.url.path == "/crm/v3/objects/deals":
            deals = [{**d, "associations": {"contacts": {"results": []}}} for d in DEALS]
            return httpx.Response(200, json={"results": deals})
        return handle(request)

    fake.api.handler = handler

    pages = await collect(connector(fake), "deals")

    assert [d["id"] for d in pages[0]] == ["0", "1", "2"]
    assert all("associations" in d for d in pages[0])
    (listed,) = [r for r in fake.api.requests if r.url.path == "/crm/v3/objects/deals"]
    assert listed.url.params["associations"] == "contacts,companies"


async def test_check_names_the_portal() -> None:
    fake = HubSpotFake()

    assert await connector(fake).check() == "HubSpot account 62515"
    assert fake.api.requests[0].url.path == "/account-info/v3/details"


async def test_since_searches_by_last_modified_oldest_first() -> None:
    fake = HubSpotFake()
    since = T0 + timedelta(seconds=300)

    pages = await collect(connector(fake), "contacts", since=since)

    ids = [c["id"] for page in pages for c in page]
    assert ids == [c["id"] for c in CONTACTS[900:]]
    searches = [json.loads(r.content) for r in fake.api.requests if r.method == "POST"]
    assert searches[0] == {
        "filterGroups": [
            {
                "filters": [
                    {
                        "propertyName": "lastmodifieddate",
                        "operator": "GTE",
                        "value": str(int(since.timestamp() * 1000)),
                    }
                ]
            }
        ],
        "sorts": [{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}],
        "properties": PROPERTIES,
        "limit": 200,
    }
    assert [s.get("after") for s in searches] == [None]


async def test_a_search_past_the_result_cap_restarts_from_the_last_modified_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = HubSpotFake()
    fake.search_cap = 400
    monkeypatch.setattr(hubspot_search, "SEARCH_CAP", 400)
    since = T0 + timedelta(seconds=100)  # contacts 300 onwards: 700 of them

    pages = await collect(connector(fake), "contacts", since=since)

    ids = [c["id"] for page in pages for c in page]
    assert ids == [c["id"] for c in CONTACTS[300:]]  # each once, in order, across the restart
    searches = [json.loads(r.content) for r in fake.api.requests if r.method == "POST"]
    lowers = [s["filterGroups"][0]["filters"][0]["value"] for s in searches]
    restart = str(int((T0 + timedelta(seconds=699 // 3)).timestamp() * 1000))
    assert lowers == [lowers[0], lowers[0], restart, restart]
    assert [s.get("after") for s in searches] == [None, "200", None, "200"]


async def test_other_objects_search_on_hs_lastmodifieddate() -> None:
    fake = HubSpotFake()
    fake.api.handler = lambda request: httpx.Response(200, json={"results": []})

    await collect(connector(fake), "deals", since=T0)

    (search,) = [json.loads(r.content) for r in fake.api.requests if r.method == "POST"]
    assert search["filterGroups"][0]["filters"][0]["propertyName"] == "hs_lastmodifieddate"
    assert search["sorts"] == [{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}]


async def test_owners_page_with_after() -> None:
    fake = HubSpotFake()

    pages = await collect(connector(fake), "owners")

    assert [len(p) for p in pages] == [100, 20]
    assert [r.url.params.get("after") for r in fake.api.requests] == [None, "100"]


async def test_pipelines_and_properties_come_per_object_type() -> None:
    fake = HubSpotFake()

    pipelines = await collect(connector(fake), "pipelines")
    properties = await collect(connector(fake), "properties")

    assert pipelines == [
        [{"id": "deals-p", "objectType": "deals"}],
        [{"id": "tickets-p", "objectType": "tickets"}],
    ]
    assert [page[0]["objectType"] for page in properties] == list(hubspot.OBJECTS)
    assert properties[0][0] == {"name": "email", "objectType": "contacts"}
