"""The pagination styles platforms use, as async generators of pages of records.

Each yields one page at a time, so memory stays flat however many records there are.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import httpx

from listbackup.integrations.base import Record
from listbackup.integrations.errors import PlatformRequestFailed
from listbackup.integrations.http import PlatformClient, json_of

Extract = Callable[[Any], list[Record]]
NextCursor = Callable[[Any, list[Record]], str | None]
#: The collection's size as the body tells it, if it does.
Total = Callable[[Any], int | None]
#: The next page's URL as the body names it, if there is one.
NextUrl = Callable[[Any], str | None]


def key(name: str) -> Extract:
    """Records under ``name`` in the JSON body."""

    def extract(body: Any) -> list[Record]:
        records: list[Record] = body.get(name) or []
        return records

    return extract


async def cursor_pages(
    client: PlatformClient,
    url: str,
    *,
    params: Mapping[str, Any],
    records: Extract,
    next_cursor: NextCursor,
    cursor_param: str,
) -> AsyncIterator[list[Record]]:
    """Cursor or page-token pagination: each page names the cursor of the next."""
    query = dict(params)
    while True:
        body = await client.get_json(url, params=query)
        page = records(body)
        if page:
            yield page
        cursor = next_cursor(body, page)
        if not cursor or not page:
            return
        query[cursor_param] = cursor


async def offset_pages(
    client: PlatformClient,
    url: str,
    *,
    params: Mapping[str, Any],
    records: Extract,
    limit: int,
    offset_param: str = "offset",
    limit_param: str = "limit",
    total: Total | None = None,
) -> AsyncIterator[list[Record]]:
    """Offset pagination: ask for ``limit`` at a time until a short page; or, when the body
    tells the ``total`` (ActiveCampaign's ``meta.total``, Mailchimp's ``total_items``), until
    that many, so a platform that caps a page below ``limit`` is still read to the end."""
    offset = 0
    while True:
        body = await client.get_json(
            url, params={**params, limit_param: limit, offset_param: offset}
        )
        page = records(body)
        if page:
            yield page
        offset += len(page)
        known = total(body) if total is not None else None
        if not page or (offset >= known if known is not None else len(page) < limit):
            return


async def link_header_pages(
    client: PlatformClient,
    url: str,
    *,
    params: Mapping[str, Any],
    records: Extract,
) -> AsyncIterator[list[Record]]:
    """RFC 8288 ``Link: <url>; rel="next"`` pagination (Shopify, GitHub...)."""
    first = await client.request("GET", url, params=params)
    async for page in _follow(client, first, records, _next_link):
        yield page


def _next_link(response: httpx.Response) -> str | None:
    link = response.links.get("next")
    return link.get("url") if link else None


NextBodyCursor = Callable[[Any], str | None]


async def post_cursor_pages(
    client: PlatformClient,
    url: str,
    *,
    body: Mapping[str, Any] | None,
    records: Extract,
    next_cursor: NextBodyCursor,
    continue_url: str | None = None,
) -> AsyncIterator[list[Record]]:
    """RPC-style cursor pagination (Dropbox): POST a JSON ``body`` to ``url``, then POST
    ``{"cursor": ...}`` to ``continue_url`` (``url`` itself if None) while ``next_cursor``
    names one. An empty page with a cursor is not the end: such APIs may return one."""
    response = await client.request("POST", url, json=dict(body) if body is not None else None)
    target = continue_url or url
    previous: str | None = None
    while True:
        payload = json_of(response)
        page = records(payload)
        if page:
            yield page
        cursor = next_cursor(payload)
        if not cursor or (cursor == previous and not page):
            return
        previous = cursor
        response = await client.request("POST", target, json={"cursor": cursor})


async def next_url_pages(
    client: PlatformClient,
    url: str,
    *,
    params: Mapping[str, Any],
    records: Extract,
    next_url: NextUrl,
) -> AsyncIterator[list[Record]]:
    """The body names the next page's full URL (Zendesk's incremental ``after_url``); the
    first request's ``params`` are not repeated, the URL carries its own query.

    The next URL must stay on the first page's host (credentials never follow a link
    elsewhere), and a URL already read ends the walk, so a stuck cursor cannot loop."""
    first = await client.request("GET", url, params=params)
    async for page in _follow(client, first, records, lambda r: next_url(json_of(r))):
        yield page


async def _follow(
    client: PlatformClient,
    response: httpx.Response,
    records: Extract,
    next_of: Callable[[httpx.Response], str | None],
) -> AsyncIterator[list[Record]]:
    """Pages linked one to the next by full URLs. The next URL must stay on the first
    page's host (our credentials never follow a link elsewhere), and a URL already read
    ends the walk, so a stuck cursor cannot loop."""
    origin, read = response.url, {str(response.url)}
    while True:
        page = records(json_of(response))
        if page:
            yield page
        link = next_of(response)
        if not link:
            return
        target = response.url.join(link)
        if (target.scheme, target.host, target.port) != (origin.scheme, origin.host, origin.port):
            raise PlatformRequestFailed("The platform named a next page on another host.")
        if str(target) in read:
            return
        read.add(str(target))
        response = await client.request("GET", str(target))
