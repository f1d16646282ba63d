"""Keap against a local fake of its documented REST v1 API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx

from listbackup.integrations.base import TokenSource
from listbackup.integrations.keap import STREAMS, KeapConnector
from tests.integrations.fakes import (
    Fake,
    FakeApi,
    Sleeps,
    StaticTokens,
    collect,
    context,
    too_many_requests,
)

BASE = "https://api.keap.test/crm/rest/v1"
CONTACTS = [{"id": n, "given_name": f"C{n}"} for n in range(1, 2501)]
COMPANIES = [{"id": n, "company_name": f"Co {n}"} for n in range(1, 4)]
CAMPAIGNS = [{"id": 40 + n, "name": f"Campaign {n}"} for n in range(2)]
#: The other lists: two records each.
OTHERS: dict[str, list[dict[str, Any]]] = {
    key: [{"id": n} for n in (1, 2)]
    for key in STREAMS
    if key not in ("contacts", "companies", "campaigns")
}


class KeapFake:
    def __init__(self, *, accepted: str = "token-1", throttle_once: bool = True) -> None:
        self.accepted = accepted
        self.throttled = not throttle_once
        self.api = FakeApi(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.headers.get("Authorization") != f"Bearer {self.accepted}":
            return httpx.Response(401, json={"message": "Invalid Access Token"})
        path = request.url.path.removeprefix("/crm/rest/v1")
        if path == "/contacts" and request.url.params["offset"] != "0" and not self.throttled:
            self.throttled = True
            return too_many_requests("3")
        if path == "/account/profile":
            return httpx.Response(200, json={"name": "Acme Dental", "email": "a@example.com"})
        if path.startswith("/campaigns/"):
            assert request.url.params["optional_properties"] == "goals,sequences"
            campaign_id = int(path.rsplit("/", 1)[-1])
            return httpx.Response(200, json={"id": campaign_id, "sequences": [{"id": 1}]})
        lists = {"contacts": CONTACTS, "companies": COMPANIES, "campaigns": CAMPAIGNS, **OTHERS}
        name = path.strip("/")
        if name in lists:
            return self.offset_page(request, name, lists[name])
        return httpx.Response(404, json={"message": "not found"})

    @staticmethod
    def offset_page(
        request: httpx.Request, name: str, records: list[dict[str, Any]]
    ) -> httpx.Response:
        offset = int(request.url.params["offset"])
        limit = int(request.url.params["limit"])
        assert limit <= 1000
        page = records[offset : offset + limit]
        following = f"{BASE}/{name}?limit={limit}&offset={offset + limit}"
        return httpx.Response(
            200, json={name: page, "count": len(page), "next": following, "previous": ""}
        )


def connector(
    fake: KeapFake, tokens: TokenSource | None = None, sleeps: Sleeps | None = None
) -> KeapConnector:
    return KeapConnector(context(fake.api, BASE, tokens=tokens or StaticTokens(), sleeps=sleeps))


def platform_fake(accepts: str = "token-1") -> Fake:
    keap = KeapFake(accepted=accepts, throttle_once=False)
    return Fake(lambda tokens: connector(keap, tokens), keap.api, "contacts")


async def test_every_contact_once_in_order_through_a_429() -> None:
    fake, sleeps = KeapFake(), Sleeps()

    pages = await collect(connector(fake, sleeps=sleeps), "contacts")

    assert [c["id"] for page in pages for c in page] == [c["id"] for c in CONTACTS]
    assert [len(p) for p in pages] == [1000, 1000, 500]
    assert sleeps.waits == [3.0]  # the Retry-After, honoured
    assert [r.url.params["offset"] for r in fake.api.requests] == ["0", "1000", "1000", "2000"]
    first = fake.api.requests[0].url.params
    assert first["limit"] == "1000"
    assert first["order"] == "id"
    assert first["order_direction"] == "ASCENDING"
    assert "custom_fields" in first["optional_properties"].split(",")
    assert "since" not in first


async def test_check_names_the_business() -> None:
    assert await connector(KeapFake()).check() == "Acme Dental"


async def test_since_filters_contacts_by_last_update() -> None:
    fake = KeapFake(throttle_once=False)
    since = datetime(2026, 1, 1, 12, 30, 5, 123456, tzinfo=timezone(timedelta(hours=2)))

    await collect(connector(fake), "contacts", since=since)

    assert {r.url.params["since"] for r in fake.api.requests} == {"2026-01-01T10:30:05.123Z"}


async def test_since_is_left_out_where_the_list_cannot_filter() -> None:
    fake = KeapFake()

    pages = await collect(connector(fake), "companies", since=datetime(2026, 1, 1, tzinfo=UTC))

    assert pages == [COMPANIES]
    assert "since" not in fake.api.requests[0].url.params


async def test_campaigns_are_read_whole_for_their_sequences() -> None:
    fake = KeapFake()

    pages = await collect(connector(fake), "campaigns")

    assert pages == [[{"id": c["id"], "sequences": [{"id": 1}]} for c in CAMPAIGNS]]
