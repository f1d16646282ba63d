"""Shared pagination: a next link never takes our credentials to another host."""

from __future__ import annotations

import httpx
import pytest

from listbackup.integrations.base import ConnectorContext
from listbackup.integrations.errors import PlatformRequestFailed
from listbackup.integrations.http import PlatformClient, Request
from listbackup.integrations.pagination import LinkHeader, records_at
from tests.integrations.fakes import FakeApi, Sleeps


def linked(next_link: str) -> FakeApi:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host != "api.example.test":
            return httpx.Response(200, json={"items": [{"id": "stolen"}]})
        page = int(request.url.params.get("page", "1"))
        headers = {"Link": f'<{next_link}?page={page + 1}>; rel="next"'} if page < 2 else {}
        return httpx.Response(200, json={"items": [{"id": page}]}, headers=headers)

    return FakeApi(handler)


async def _pages(api: FakeApi) -> list[list[dict[str, object]]]:
    client = PlatformClient(
        ConnectorContext(
            base_url="https://api.example.test", transport=api.transport(), sleep=Sleeps()
        ),
        headers={"Authorization": "Bearer secret"},
    )
    try:
        pages = LinkHeader().pages(client, Request("/items"), records_at("items"))
        return [p async for p in pages]
    finally:
        await client.aclose()


async def test_link_header_pages_follow_next_links_on_the_same_host() -> None:
    pages = await _pages(linked("https://api.example.test/items"))

    assert pages == [[{"id": 1}], [{"id": 2}]]


async def test_a_next_link_to_another_host_is_refused() -> None:
    api = linked("https://evil.example.test/items")

    with pytest.raises(PlatformRequestFailed):
        await _pages(api)

    assert all(r.url.host == "api.example.test" for r in api.requests)


async def _get(handler: object) -> object:
    api = FakeApi(handler)  # type: ignore[arg-type]
    client = PlatformClient(
        ConnectorContext(
            base_url="https://api.example.test", transport=api.transport(), sleep=Sleeps()
        )
    )
    try:
        return await client.get_json("/thing")
    finally:
        await client.aclose()


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(302, headers={"Location": "https://elsewhere.test/login"}),
        httpx.Response(200, text="<html>not an API</html>"),
    ],
)
async def test_redirects_and_non_json_are_the_platforms_failure(response: httpx.Response) -> None:
    with pytest.raises(PlatformRequestFailed):
        await _get(lambda request: response)


async def test_an_unreadable_retry_after_falls_back_to_backoff() -> None:
    answers = iter(
        [httpx.Response(429, headers={"Retry-After": "soon, maybe"}), httpx.Response(200, json={})]
    )

    assert await _get(lambda request: next(answers)) == {}
