"""Dropbox against a local fake of its documented RPC API (POST + JSON cursors)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from listbackup.integrations.base import TokenSource
from listbackup.integrations.dropbox import LIST_LIMIT, DropboxConnector
from tests.integrations.fakes import (
    Fake,
    FakeApi,
    Sleeps,
    StaticTokens,
    collect,
    context,
    too_many_requests,
)

BASE = "https://api.dropbox.test/2"
START = datetime(2025, 1, 1, tzinfo=UTC)


def _entry(n: int) -> dict[str, Any]:
    if n % 5 == 0:
        return {".tag": "folder", "id": f"id:folder{n:05d}", "path_lower": f"/d{n}"}
    modified = (START + timedelta(hours=n)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        ".tag": "file",
        "id": f"id:file{n:05d}",
        "path_lower": f"/d{n - n % 5}/f{n}.txt",
        "server_modified": modified,
        "size": n,
    }


#: 5,500 entries: pages of 2,000, 2,000, then an empty page that still has more, then 1,500.
ENTRIES = [_entry(n) for n in range(5500)]
FILES = [e for e in ENTRIES if e[".tag"] == "file"]
FOLDERS = [e for e in ENTRIES if e[".tag"] == "folder"]
#: cursor -> (first entry, last entry, has_more)
LIST_PAGES = {
    "": (0, 2000, "c1"),
    "c1": (2000, 4000, "c2"),
    "c2": (4000, 4000, "c3"),  # empty page, has_more: Dropbox may do that
    "c3": (4000, 5500, None),
}
SHARED = [{"shared_folder_id": f"sf{n}", "name": f"Shared {n}"} for n in range(3)]
LINKS = [{"id": f"id:link{n}", "url": f"https://dropbox.test/s/{n}"} for n in range(7)]
REQUESTS = [{"id": f"fr{n}", "title": f"Request {n}"} for n in range(5)]


def dropbox_api(*, accepts: str = "token-1", throttle_once: bool = True) -> FakeApi:
    throttled = {"done": not throttle_once}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.headers.get("Authorization") != f"Bearer {accepts}":
            return httpx.Response(
                401,
                json={"error_summary": "expired_access_token/", "error": {".tag": "expired"}},
            )
        assert request.method == "POST"
        path = request.url.path.removeprefix("/2")
        if path == "/users/get_current_account":
            assert request.content == b"null"
            assert request.headers["Content-Type"] == "application/json"
            return httpx.Response(
                200, json={"account_id": "dbid:1", "name": {"display_name": "Franz (Personal)"}}
            )
        body = json.loads(request.content)
        if path == "/files/list_folder/continue" and not throttled["done"]:
            throttled["done"] = True
            return too_many_requests("4")
        return _answer(path, body)

    return FakeApi(handler)


def _answer(path: str, body: dict[str, Any]) -> httpx.Response:  # noqa: PLR0911 - per endpoint
    if path == "/files/list_folder":
        assert body == {"path": "", "recursive": True, "limit": LIST_LIMIT}
        return _list_page("")
    if path == "/files/list_folder/continue":
        assert set(body) == {"cursor"}
        return _list_page(body["cursor"])
    if path in ("/sharing/list_folders", "/sharing/list_folders/continue"):
        start = int(body.get("cursor", "0"))
        page = SHARED[start : start + 2]
        more = start + 2 < len(SHARED)
        return httpx.Response(200, json={"entries": page, **({"cursor": "2"} if more else {})})
    if path == "/sharing/list_folder_members":
        users = [{"user": {"account_id": f"dbid:{body['shared_folder_id']}"}}]
        return httpx.Response(200, json={"users": users, "groups": [], "cursor": "more"})
    if path == "/sharing/list_folder_members/continue":
        return httpx.Response(200, json={"users": [], "invitees": [{"invitee": {"email": "x"}}]})
    if path == "/sharing/list_shared_links":
        return _slice(LINKS, body, "links", 3)
    if path in ("/file_requests/list_v2", "/file_requests/list/continue"):
        return _slice(REQUESTS, body, "file_requests", 2)
    return httpx.Response(404, json={"error_summary": "not_found"})


def _list_page(cursor: str) -> httpx.Response:
    start, end, next_cursor = LIST_PAGES[cursor]
    return httpx.Response(
        200,
        json={
            "entries": ENTRIES[start:end],
            "cursor": next_cursor or "final",
            "has_more": next_cursor is not None,
        },
    )


def _slice(
    items: list[dict[str, Any]], body: dict[str, Any], name: str, size: int
) -> httpx.Response:
    start = int(body.get("cursor", "0"))
    more = start + size < len(items)
    return httpx.Response(
        200, json={name: items[start : start + size], "cursor": str(start + size), "has_more": more}
    )


def connector(
    api: FakeApi, *, sleeps: Sleeps | None = None, tokens: TokenSource | None = None
) -> DropboxConnector:
    return DropboxConnector(context(api, BASE, tokens=tokens or StaticTokens(), sleeps=sleeps))


def platform_fake(accepts: str = "token-1") -> Fake:
    api = dropbox_api(accepts=accepts, throttle_once=False)
    return Fake(lambda tokens: connector(api, tokens=tokens), api, "file_requests")


async def test_every_file_once_in_order_through_a_429_and_an_empty_page() -> None:
    api, sleeps = dropbox_api(), Sleeps()

    pages = await collect(connector(api, sleeps=sleeps), "files")

    assert [f["id"] for page in pages for f in page] == [f["id"] for f in FILES]
    assert len(pages) == 3  # the empty page yields nothing, but the listing goes on
    assert sleeps.waits == [4.0]  # the Retry-After, honoured
    continued = [json.loads(r.content) for r in api.requests if r.url.path.endswith("/continue")]
    assert [c["cursor"] for c in continued] == ["c1", "c1", "c2", "c3"]  # c1 again after 429


async def test_folders_are_the_folder_entries_of_the_same_listing() -> None:
    pages = await collect(connector(dropbox_api(throttle_once=False)), "folders")

    assert [f["id"] for page in pages for f in page] == [f["id"] for f in FOLDERS]


async def test_check_names_the_account_with_a_null_body() -> None:
    assert await connector(dropbox_api()).check() == "Franz (Personal)"


async def test_since_filters_files_client_side_on_server_modified() -> None:
    api = dropbox_api(throttle_once=False)
    since = START + timedelta(hours=5000)

    pages = await collect(connector(api), "files", since=since)

    kept = [f["id"] for page in pages for f in page]
    stamp = since.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert kept == [f["id"] for f in FILES if f["server_modified"] > stamp]
    assert len(kept) == 400  # entries 5001..5499, less their 99 folders
    # No server-side filter exists: the whole listing is still read.
    assert json.loads(api.requests[0].content) == {"path": "", "recursive": True, "limit": 2000}
    assert len(api.requests) == 4


async def test_shared_folders_come_with_their_members() -> None:
    pages = await collect(connector(dropbox_api()), "shared_folders")

    folders = [f for page in pages for f in page]
    assert [f["shared_folder_id"] for f in folders] == ["sf0", "sf1", "sf2"]
    assert folders[0]["members"] == {
        "users": [{"user": {"account_id": "dbid:sf0"}}],
        "groups": [],
        "invitees": [{"invitee": {"email": "x"}}],
    }


@pytest.mark.parametrize(
    ("data_type", "expected"), [("shared_links", LINKS), ("file_requests", REQUESTS)]
)
async def test_cursor_listings_yield_everything_once(
    data_type: str, expected: list[dict[str, Any]]
) -> None:
    pages = await collect(connector(dropbox_api()), data_type)

    assert [r["id"] for page in pages for r in page] == [r["id"] for r in expected]
    assert len(pages) >= 3
