"""The pagination styles platforms use, as strategies a stream declares.

Each strategy's ``pages`` sends a stream's first request, then the next ones the way its
platform pages, and yields one page of records at a time, so memory stays flat however
many records there are. Where a page says so, a stuck cursor or a link already read ends
the walk rather than looping.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from listbackup.integrations.base import Record
from listbackup.integrations.errors import PlatformRequestFailed
from listbackup.integrations.http import PlatformClient, Request, json_of

#: The records of a body.
Extract = Callable[[Any], list[Record]]
#: The next page's cursor as the body (and its records) name it; None at the end. A
#: mapping sets several query parameters at once (GoHighLevel's startAfterId + startAfter).
NextCursor = Callable[[Any, list[Record]], str | Mapping[str, Any] | None]
#: The collection's size as the body tells it, if it does.
Total = Callable[[Any], int | None]
#: What the body names: the next page's URL, page number or cursor, if there is one.
UrlOf = Callable[[Any], str | None]
NextNumber = Callable[[Any], int | None]
NextBodyCursor = Callable[[Any], str | None]
_BAD_SHAPE = "The platform answered in a shape this connector does not know."


def records_at(path: str) -> Extract:
    """Records under ``path`` in the JSON body (dotted for nested: ``messages.messages``)."""
    names = path.split(".") if path else []

    def extract(body: Any) -> list[Record]:
        found = body
        for name in names:
            if not isinstance(found, dict):
                raise PlatformRequestFailed(_BAD_SHAPE)
            found = found.get(name)
        if found is None:
            return []
        if not isinstance(found, list):
            raise PlatformRequestFailed(_BAD_SHAPE)
        return found

    return extract


class Paginator(Protocol):
    """A pagination style: the pages of records one request starts."""

    def pages(
        self, client: PlatformClient, request: Request, records: Extract
    ) -> AsyncIterator[list[Record]]: ...


@dataclass(frozen=True, slots=True)
class Unpaged:
    """The whole listing comes in one answer."""

    async def pages(
        self, client: PlatformClient, request: Request, records: Extract
    ) -> AsyncIterator[list[Record]]:
        page = records(json_of(await client.send(request)))
        if page:
            yield page


@dataclass(frozen=True, slots=True)
class Cursor:
    """Each page names the next one's cursor (Stripe's last id, HubSpot's ``paging.next.after``,
    Drive's ``nextPageToken``), sent back as ``param``. A cursor that repeats the one just
    sent ends the walk."""

    param: str
    next: NextCursor
    #: Whether an empty page may still have more after it (Drive); else it is the end.
    more_after_empty: bool = False

    async def pages(
        self, client: PlatformClient, request: Request, records: Extract
    ) -> AsyncIterator[list[Record]]:
        query = dict(request.params)
        while True:
            body = json_of(await client.send(request, params=query))
            page = records(body)
            if page:
                yield page
            cursor = self.next(body, page)
            if not cursor or not (page or self.more_after_empty):
                return
            following = {self.param: cursor} if isinstance(cursor, str) else dict(cursor)
            if all(query.get(name) == value for name, value in following.items()):
                return  # the platform repeated itself: stop rather than loop
            query |= following


@dataclass(frozen=True, slots=True)
class Offset:
    """Offset pagination: ask for ``limit`` at a time until a short page; or, when the body
    tells the ``total`` (ActiveCampaign's ``meta.total``, Mailchimp's ``total_items``), until
    that many, so a platform that caps a page below ``limit`` is still read to the end."""

    limit: int
    offset_param: str = "offset"
    limit_param: str = "limit"
    total: Total | None = None

    async def pages(
        self, client: PlatformClient, request: Request, records: Extract
    ) -> AsyncIterator[list[Record]]:
        offset = 0
        while True:
            query = {**request.params, self.limit_param: self.limit, self.offset_param: offset}
            body = json_of(await client.send(request, params=query))
            page = records(body)
            if page:
                yield page
            offset += len(page)
            known = self.total(body) if self.total is not None else None
            if not page or (offset >= known if known is not None else len(page) < self.limit):
                return


@dataclass(frozen=True, slots=True)
class PageNumber:
    """Numbered pages: ``param`` from ``first`` on, while the body names a later page."""

    next: NextNumber
    param: str = "page"
    first: int = 1

    async def pages(
        self, client: PlatformClient, request: Request, records: Extract
    ) -> AsyncIterator[list[Record]]:
        number = self.first
        while True:
            body = json_of(
                await client.send(request, params={**request.params, self.param: number})
            )
            page = records(body)
            if page:
                yield page
            following = self.next(body)
            if not page or following is None or following <= number:
                return
            number = following


@dataclass(frozen=True, slots=True)
class LinkHeader:
    """RFC 8288 ``Link: <url>; rel="next"`` pagination (Shopify, GitHub...): the next URL
    carries the first request's filters, so only the first request names them."""

    async def pages(
        self, client: PlatformClient, request: Request, records: Extract
    ) -> AsyncIterator[list[Record]]:
        first = await client.send(request)
        async for page in _follow(client, request, first, records, _next_link):
            yield page


@dataclass(frozen=True, slots=True)
class NextUrl:
    """The body names the next page's full URL (Zendesk's incremental ``after_url``); the
    first request's parameters are not repeated, the URL carries its own query."""

    next: UrlOf

    async def pages(
        self, client: PlatformClient, request: Request, records: Extract
    ) -> AsyncIterator[list[Record]]:
        first = await client.send(request)
        async for page in _follow(client, request, first, records, self._next):
            yield page

    def _next(self, response: httpx.Response) -> str | None:
        return self.next(json_of(response))


@dataclass(frozen=True, slots=True)
class PostCursor:
    """RPC-style cursor pagination (Dropbox): POST the request's JSON body, then POST
    ``{"cursor": ...}`` to ``continue_path`` (the same path if None) while ``next`` names
    one. An empty page with a new cursor is not the end: such APIs may return one."""

    next: NextBodyCursor
    continue_path: str | None = None

    async def pages(
        self, client: PlatformClient, request: Request, records: Extract
    ) -> AsyncIterator[list[Record]]:
        response = await client.send(request)
        following = Request(
            self.continue_path or request.path, method="POST", headers=request.headers
        )
        previous: str | None = None
        while True:
            payload = json_of(response)
            page = records(payload)
            if page:
                yield page
            cursor = self.next(payload)
            if not cursor or (cursor == previous and not page):
                return
            previous = cursor
            response = await client.send(following, params={}, json={"cursor": cursor})


def _next_link(response: httpx.Response) -> str | None:
    link = response.links.get("next")
    return link.get("url") if link else None


async def _follow(
    client: PlatformClient,
    request: Request,
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
        response = await client.request("GET", str(target), headers=request.headers)
