"""The pagination styles platforms use, as async generators of pages of records.

Each yields one page at a time, so memory stays flat however many records there are.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import httpx

from listbackup.integrations.base import Record
from listbackup.integrations.http import PlatformClient

Extract = Callable[[Any], list[Record]]
NextCursor = Callable[[Any, list[Record]], str | None]


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
) -> AsyncIterator[list[Record]]:
    """Offset pagination: ask for ``limit`` at a time until a short page."""
    offset = 0
    while True:
        body = await client.get_json(
            url, params={**params, limit_param: limit, offset_param: offset}
        )
        page = records(body)
        if page:
            yield page
        if len(page) < limit:
            return
        offset += len(page)


async def link_header_pages(
    client: PlatformClient,
    url: str,
    *,
    params: Mapping[str, Any],
    records: Extract,
) -> AsyncIterator[list[Record]]:
    """RFC 8288 ``Link: <url>; rel="next"`` pagination (Shopify, GitHub...)."""
    next_url: str | None = url
    query: Mapping[str, Any] | None = params
    while next_url:
        response = await client.request("GET", next_url, params=query)
        page = records(response.json())
        if page:
            yield page
        next_url = _next_link(response)
        query = None  # the next link carries its own query


def _next_link(response: httpx.Response) -> str | None:
    link = response.links.get("next")
    return link.get("url") if link else None
