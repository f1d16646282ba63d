"""The connector base every HTTP platform builds on: the platform declares its streams
(:mod:`listbackup.integrations.streams`), how it authenticates and the per-connection
parts of its URLs; the base owns the HTTP client (one per connector, opened on first use
and closed by :meth:`aclose`, or the process's shared one for short uses), builds each
request, pages, retries and refreshes (:mod:`listbackup.integrations.http`).

A platform whose reading of some data type is genuinely special (Drive's permissions,
HubSpot's search) overrides :meth:`HttpConnector.read` for those and leaves the rest to
``super().read``; the declaration stays the source of what is read.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import replace
from datetime import datetime
from types import MappingProxyType
from typing import Any, ClassVar
from urllib.parse import quote

import httpx

from listbackup.integrations.base import Connector, ConnectorContext, Record
from listbackup.integrations.errors import ConnectorError
from listbackup.integrations.http import PlatformClient, Request
from listbackup.integrations.pagination import records_at
from listbackup.integrations.streams import Attach, Parent, Stream, Streams


def named(*candidates: Any) -> str | None:
    """The first of ``candidates`` that names something, as a name."""
    return next((str(value) for value in candidates if value), None)


def _fill(text: str, values: Mapping[str, str]) -> str:
    for name, value in values.items():
        text = text.replace("{" + name + "}", value)
    return text


class HttpConnector(Connector):
    """Reads a platform's declared streams over HTTP for one connection."""

    #: The platform's streams, by data type key (every data type of its catalogue entry).
    streams: ClassVar[Streams]
    #: Headers every request carries (API versions, Accept...).
    headers: ClassVar[Mapping[str, str]] = MappingProxyType({})
    #: Where an OAuth connection's access token goes, and what precedes it there.
    token_header: ClassVar[str] = "Authorization"  # noqa: S105 - a header name
    token_prefix: ClassVar[str] = "Bearer "  # noqa: S105 - a scheme

    def __init__(self, context: ConnectorContext) -> None:
        super().__init__(context)
        # Checked here, so a connection with bad credentials fails before any request.
        self._values = dict(self.placeholders())
        self.client = PlatformClient(
            context,
            base_url=_fill(context.base_url, self._values),
            headers=self.headers,
            auth=self.auth(),
            token_header=self.token_header,
            token_prefix=self.token_prefix,
            throttled=self.throttled,
        )

    # -- what a platform may declare beyond its streams

    def placeholders(self) -> Mapping[str, str]:
        """The connection's values for the ``{name}`` placeholders of the base URL, the
        paths and the parameters (``{shop}``, ``{dc}``, ``{locationId}``), each checked:
        they become part of requests. Raises a :class:`ConnectorError` saying what is wrong."""
        return {}

    def auth(self) -> httpx.Auth | None:
        """How an API-key connection authenticates (HTTP Basic, a key header); an OAuth
        connection's token goes in :attr:`token_header` without this."""
        return None

    def throttled(self, response: httpx.Response) -> bool:
        """Whether an answer that is no 429 still means "slow down" (Drive's quota 403s)."""
        return False

    # -- reading

    async def fetch(
        self, data_type: str, *, since: datetime | None = None
    ) -> AsyncIterator[list[Record]]:
        stream = self.streams.get(data_type)
        if stream is None:
            raise self.unknown(data_type)
        async for page in self._records(stream, since):
            yield page

    def read(self, stream: Stream, since: datetime | None) -> AsyncIterator[list[Record]]:
        """The pages of ``stream`` as declared: per parent if it has one, else its
        request paged by its paginator. The hook a special reading overrides."""
        if stream.parent is not None:
            return self._children(stream, stream.parent, since)
        return self.pages(stream, since)

    def pages(
        self, stream: Stream, since: datetime | None = None, *, parent: Any = None
    ) -> AsyncIterator[list[Record]]:
        """``stream``'s request (for one ``parent``) and the pages it starts."""
        return stream.paginator.pages(
            self.client, self.request(stream, since, parent=parent), records_at(stream.records)
        )

    def request(self, stream: Stream, since: datetime | None, *, parent: Any = None) -> Request:
        """``stream``'s first request: placeholders filled, ``since`` where it filters."""
        params = {
            name: _fill(value, self._values) if isinstance(value, str) else value
            for name, value in stream.params.items()
        }
        if since is not None and stream.since is not None and stream.since.param:
            params[stream.since.param] = stream.since.format(since)
        path = self.path(stream.path, parent=parent)
        return Request(path, params, stream.method, stream.body, stream.headers)

    def path(self, template: str, *, parent: Any = None) -> str:
        """``template`` with the connection's placeholders (and ``{parent}``), URL-quoted."""
        values = {name: quote(value, safe="") for name, value in self._values.items()}
        if parent is not None:
            values["parent"] = quote(str(parent), safe="")
        return _fill(template, values)

    def record_id(self, data_type: str, record: Record) -> str:
        stream = self.streams.get(data_type)
        return stream.record_id(record) if stream else super().record_id(data_type, record)

    async def aclose(self) -> None:
        await self.client.aclose()

    async def _records(self, stream: Stream, since: datetime | None) -> AsyncIterator[list[Record]]:
        async for page in self.read(stream, since):
            kept = stream.kept(page, since)
            if kept and stream.attach is not None:
                kept = [await self._attached(stream.attach, record) for record in kept]
            if kept:
                yield kept

    async def _attached(self, attach: Attach, record: Record) -> Record:
        first = Request(
            self.path(attach.path, parent=record[attach.key]), attach.params, headers=attach.headers
        )
        pages = attach.paginator.pages(self.client, first, records_at(attach.records))
        return {**record, attach.into: [item async for page in pages for item in page]}

    async def _children(
        self, stream: Stream, parent: Parent, since: datetime | None
    ) -> AsyncIterator[list[Record]]:
        async for keys in self._parents(parent, since if parent.since else None):
            for key in keys:
                try:
                    async for page in self.pages(
                        stream, None if parent.since else since, parent=key
                    ):
                        yield [{**r, parent.tag: key} for r in page] if parent.tag else page
                except ConnectorError as exc:
                    if exc.status not in parent.skip:
                        raise

    async def _parents(self, parent: Parent, since: datetime | None) -> AsyncIterator[list[Any]]:
        """The parents' keys, a page at a time."""
        if parent.keys:
            yield list(parent.keys)
            return
        source = self.streams[parent.stream]
        params = {k: v for k, v in {**source.params, **parent.params}.items() if v is not None}
        async for page in self._records(replace(source, params=params), since):
            yield [r[parent.key] for r in page if parent.where is None or parent.where(r)]
