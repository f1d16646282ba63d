"""Zendesk against a local fake of its documented Support API (cursor pages, exports)."""

from __future__ import annotations

import base64
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from listbackup.integrations.errors import CredentialsRejected, PlatformRequestFailed
from listbackup.integrations.zendesk import INTEGRATION, ZendeskConnector
from tests.integrations.fakes import Fake, FakeApi, Sleeps, collect, context, too_many_requests

BASE = INTEGRATION.api_base_url  # https://{subdomain}.zendesk.com/api/v2
HOST = "https://acme.zendesk.com"
CREDENTIALS = {"subdomain": "acme", "email": "agent@acme.test", "apiToken": "tok-1"}
BASIC = "Basic " + base64.b64encode(b"agent@acme.test/token:tok-1").decode()
USERS = [{"id": n, "name": f"User {n}"} for n in range(1, 251)]
TICKETS = [{"id": n, "status": "open"} for n in range(1, 101)]
EXPORT_PAGE = 40  # Zendesk's is 1000; smaller here to keep the fake light
#: The other cursor-paged lists: two records each.
LISTS: dict[str, list[dict[str, object]]] = {"users": list(USERS)} | {
    name: [{"id": n} for n in (1, 2)]
    for name in (
        "organizations",
        "groups",
        "ticket_fields",
        "satisfaction_ratings",
        "macros",
        "views",
    )
}


def zendesk_api(
    *,
    throttle_once: bool = True,
    tickets: list[dict[str, object]] = TICKETS,
    me: dict[str, object] | None = None,
    next_host: str = HOST,
    offset_paged: str = "",
) -> FakeApi:
    """``offset_paged`` names a list answered as an endpoint that pages by offset would."""
    throttled = {"done": not throttle_once}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.headers.get("Authorization") != BASIC:
            return httpx.Response(401, json={"error": "Couldn't authenticate you"})
        params = request.url.params
        if ("page[after]" in params or "cursor" in params) and not throttled["done"]:
            throttled["done"] = True
            return too_many_requests("3")
        return route(request.url.path.removeprefix("/api/v2"), params)

    def route(path: str, params: httpx.QueryParams) -> httpx.Response:
        if path == "/users/me.json":
            return httpx.Response(200, json={"user": me or {"id": 7, "name": "Ada Agent"}})
        name = path.strip("/").removesuffix(".json")
        if path == offset_paged:
            next_page = f"{HOST}/api/v2/{name}?page=2"
            return httpx.Response(200, json={name: LISTS[name][:1], "next_page": next_page})
        if name in LISTS:
            return cursor_page(name, LISTS[name], params)
        if path.startswith("/incremental/"):
            name = path.split("/")[2]
            return export_page(name, {"tickets": tickets, "users": USERS}[name], path, params)
        ticket = int(path.split("/")[2])  # /tickets/{id}/comments.json
        if ticket == 3:
            return httpx.Response(404, json={"error": "RecordNotFound"})
        comments = [{"id": ticket * 10 + n, "body": "hi"} for n in range(2)]
        return cursor_page("comments", comments, params)

    def export_page(
        name: str, items: list[dict[str, object]], path: str, params: httpx.QueryParams
    ) -> httpx.Response:
        if "cursor" in params:
            assert set(params) == {"cursor"}  # the after_url carries its own query
            start = int(params["cursor"].removeprefix("c"))
        else:
            assert set(params) == {"start_time"}
            start = 0
        end = start + EXPORT_PAGE
        body = {
            name: items[start:end],
            "after_cursor": f"c{end}",
            "after_url": f"{next_host}/api/v2{path}?cursor=c{end}",
            "end_of_stream": end >= len(items),
        }
        return httpx.Response(200, json=body)

    return FakeApi(handler)


def cursor_page(
    name: str, items: list[dict[str, object]], params: httpx.QueryParams
) -> httpx.Response:
    size = int(params["page[size]"])
    start = int(params.get("page[after]", "c0").removeprefix("c"))
    end = start + size
    more = end < len(items)
    return httpx.Response(
        200,
        json={
            name: items[start:end],
            "meta": {"has_more": more, "after_cursor": f"c{end}", "before_cursor": f"c{start}"},
            "links": {"next": f"{HOST}/api/v2/{name}.json?page[size]={size}&page[after]=c{end}"},
        },
    )


def connector(
    api: FakeApi,
    *,
    credentials: dict[str, str] = CREDENTIALS,
    sleeps: Sleeps | None = None,
    base: str = BASE,
) -> ZendeskConnector:
    return ZendeskConnector(context(api, base, credentials=credentials, sleeps=sleeps))


def platform_fake(accepts: str = "") -> Fake:
    """An API-key platform: ``accepts`` is for OAuth ones."""
    api = zendesk_api(throttle_once=False)
    return Fake(lambda tokens: connector(api), api)


async def test_every_user_once_in_order_through_a_429() -> None:
    api, sleeps = zendesk_api(), Sleeps()

    pages = await collect(connector(api, sleeps=sleeps), "users")

    assert [u["id"] for page in pages for u in page] == [u["id"] for u in USERS]
    assert [len(p) for p in pages] == [100, 100, 50]
    assert sleeps.waits == [3.0]  # the Retry-After, honoured
    assert [r.url.params.get("page[after]") for r in api.requests] == [None, "c100", "c100", "c200"]
    assert all(r.url.params["page[size]"] == "100" for r in api.requests)
    assert {r.url.host for r in api.requests} == {"acme.zendesk.com"}


async def test_tickets_come_whole_from_the_incremental_export() -> None:
    api, sleeps = zendesk_api(), Sleeps()

    pages = await collect(connector(api, sleeps=sleeps), "tickets")

    assert [t["id"] for page in pages for t in page] == [t["id"] for t in TICKETS]
    assert [len(p) for p in pages] == [40, 40, 20]
    assert sleeps.waits == [3.0]
    assert api.requests[0].url.path == "/api/v2/incremental/tickets/cursor.json"
    assert api.requests[0].url.params["start_time"] == "0"  # archived tickets too
    assert [r.url.params.get("cursor") for r in api.requests[1:]] == ["c40", "c40", "c80"]


async def test_since_starts_the_exports_at_that_time() -> None:
    api = zendesk_api(throttle_once=False)
    since = datetime(2026, 1, 1, tzinfo=UTC)

    await collect(connector(api), "tickets", since=since)
    await collect(connector(api), "users", since=since)

    starts = {
        r.url.path: r.url.params["start_time"] for r in api.requests if "start_time" in r.url.params
    }
    assert starts == {
        "/api/v2/incremental/tickets/cursor.json": "1767225600",
        "/api/v2/incremental/users/cursor.json": "1767225600",
    }


async def test_a_start_time_within_the_last_minute_is_moved_back() -> None:
    api = zendesk_api(throttle_once=False)
    before = int(time.time())

    await collect(connector(api), "tickets", since=datetime.now(UTC) - timedelta(seconds=5))

    start = int(api.requests[0].url.params["start_time"])
    assert before - 61 <= start <= int(time.time()) - 60


async def test_comments_of_every_ticket_carry_its_id() -> None:
    tickets: list[dict[str, object]] = [
        {"id": 1, "status": "open"},
        {"id": 2, "status": "deleted"},
        {"id": 3, "status": "solved"},  # deleted between the export and its comments: 404
        {"id": 4, "status": "closed"},
    ]
    api = zendesk_api(throttle_once=False, tickets=tickets)

    pages = await collect(connector(api), "ticket_comments")

    assert [(c["ticket_id"], c["id"]) for page in pages for c in page] == [
        (1, 10),
        (1, 11),
        (4, 40),
        (4, 41),
    ]
    assert "/api/v2/tickets/2/comments.json" not in {r.url.path for r in api.requests}


async def test_check_names_the_user() -> None:
    assert await connector(zendesk_api()).check() == "Ada Agent"


async def test_an_anonymous_answer_is_credentials_rejected() -> None:
    api = zendesk_api(me={"id": None, "name": "Anonymous user"})

    with pytest.raises(CredentialsRejected):
        await connector(api).check()


async def test_a_refused_token_is_credentials_rejected() -> None:
    api = zendesk_api()

    with pytest.raises(CredentialsRejected):
        await connector(api, credentials={**CREDENTIALS, "apiToken": "tok-0"}).check()
    assert len(api.requests) == 1


@pytest.mark.parametrize(
    "subdomain", ["acme.zendesk.com", "acme.evil.test", "-acme", "acme/..", "ac me", "", "a" * 64]
)
async def test_a_bad_subdomain_is_refused_before_any_request(subdomain: str) -> None:
    api = zendesk_api()
    bad = {**CREDENTIALS, "subdomain": subdomain}

    with pytest.raises(PlatformRequestFailed, match="Zendesk subdomain"):
        await connector(api, credentials=bad).check()
    with pytest.raises(PlatformRequestFailed, match="Zendesk subdomain"):
        await collect(connector(api, credentials=bad), "users")
    assert api.requests == []


@pytest.mark.parametrize("field", ["email", "apiToken"])
async def test_a_missing_email_or_token_is_refused_before_any_request(field: str) -> None:
    api = zendesk_api()

    with pytest.raises(PlatformRequestFailed, match="email and an API token"):
        await connector(api, credentials={**CREDENTIALS, field: ""}).check()
    assert api.requests == []


async def test_an_export_link_to_another_host_is_not_followed() -> None:
    api = zendesk_api(throttle_once=False, next_host="https://evil.test")

    with pytest.raises(PlatformRequestFailed, match="another host"):
        await collect(connector(api), "tickets")
    assert {r.url.host for r in api.requests} == {"acme.zendesk.com"}


async def test_a_list_paged_by_offset_is_an_error_not_a_silent_first_page() -> None:
    with pytest.raises(PlatformRequestFailed, match="by cursor"):
        await collect(connector(zendesk_api(offset_paged="/groups.json")), "groups")


async def test_a_configured_base_url_is_kept() -> None:
    api = zendesk_api()

    await connector(api, base="http://zendesk.local:8080/api/v2").check()

    assert str(api.requests[0].url) == "http://zendesk.local:8080/api/v2/users/me.json"
