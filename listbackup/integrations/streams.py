"""How a platform declares its data types' streams, in the spirit of Airbyte's CDK: each
data type names its endpoint, its paginator, where its records sit, their id and how it
reads incrementally; the connector base (:mod:`listbackup.integrations.connector`) does
the HTTP, the retries and the paging.

::

    Stream(
        DataType("customers", "Customers", "Customer records.", Frequency.DAILY),
        "/customers",
        records="data",
        paginator=Cursor("starting_after", after_last),  # the last id, while has_more
        params={"limit": 100},
        since=Since("created[gte]", epoch_seconds),
    )

Where a data type's reading is genuinely special, the platform's connector overrides
``read()`` for it; the declaration still names what is read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from listbackup.integrations.base import Record
from listbackup.integrations.pagination import Paginator, Unpaged
from listbackup.models.platforms import DataType

#: How ``since`` is written where the API takes it.
Format = Callable[[datetime], Any]


def utc(moment: datetime) -> datetime:
    """``moment`` in UTC; a naive one is taken to be UTC already."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def epoch_seconds(moment: datetime) -> int:
    return int(utc(moment).timestamp())


def epoch_millis(moment: datetime) -> int:
    return int(utc(moment).timestamp() * 1000)


def iso_seconds(moment: datetime) -> str:
    """``2026-01-01T12:00:00+00:00``"""
    return utc(moment).isoformat(timespec="seconds")


def iso_millis_z(moment: datetime) -> str:
    """``2026-01-01T12:00:00.000Z``"""
    return utc(moment).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def rfc3339_z(moment: datetime) -> str:
    """``2026-01-01T12:00:00Z``"""
    return utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, slots=True)
class Since:
    """How a stream reads only what changed since a time: the query parameter the API
    filters on and the format it takes it in; and, where the API cannot filter (or filters
    coarsely), the record ``field`` compared client-side, so only later records are kept."""

    param: str | None = None
    format: Format = iso_seconds
    field: str | None = None

    def keeps(self, record: Record, since: datetime) -> bool:
        """Whether ``record`` changed after ``since``; one with no readable time is kept."""
        if self.field is None:
            return True
        stamp = record.get(self.field)
        if not isinstance(stamp, str):
            return True
        try:
            moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        except ValueError:
            return True
        return utc(moment) > utc(since)


@dataclass(frozen=True, slots=True)
class Parent:
    """The stream is read once per parent (Airbyte's substreams): per record of another
    declared ``stream`` (its ``key`` field) or per fixed ``keys``; the parent's key fills
    ``{parent}`` in the child's path."""

    stream: str = ""
    keys: tuple[str, ...] = ()
    key: str = "id"
    #: The parent stream's parameters changed for this listing (None drops one).
    params: Mapping[str, Any] = field(default_factory=dict)
    #: Whether ``since`` selects the parents (a new revision changes its file) rather than
    #: the children (the child's own ``since`` then applies).
    since: bool = False
    #: The parents worth reading (not deleted tickets, not folders).
    where: Callable[[Record], bool] | None = None
    #: The field each child record gets, holding its parent's key (``ticket_id``).
    tag: str | None = None
    #: Statuses that mean this parent's children are gone or not ours to read: skipped.
    skip: frozenset[int] = frozenset()

    def __post_init__(self) -> None:
        if bool(self.stream) == bool(self.keys):
            raise ValueError("A parent is another stream's records or fixed keys, not both.")


@dataclass(frozen=True, slots=True)
class Attach:
    """Each record carries a list read from an endpoint of its own (a conversation's
    messages, a price rule's discount codes): one more listing per record, its ``key``
    filling ``{parent}`` in the path."""

    #: The record's field the list goes in.
    into: str
    path: str
    records: str
    paginator: Paginator = field(default_factory=Unpaged)
    key: str = "id"
    params: Mapping[str, Any] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Stream:
    """One data type as the platform's API serves it."""

    data_type: DataType
    #: Under the API base URL; ``{name}`` placeholders are the connection's (``{locationId}``)
    #: or the parent's key (``{parent}``), URL-quoted.
    path: str
    #: Where the records sit in the body (dotted when nested); "" is the body itself.
    records: str
    paginator: Paginator = field(default_factory=Unpaged)
    #: The field that identifies a record, or fields together (``objectType`` + ``name``).
    id: str | tuple[str, ...] = "id"
    #: Query parameters of the first request; ``{name}`` values are the connection's.
    params: Mapping[str, Any] = field(default_factory=dict)
    since: Since | None = None
    method: str = "GET"
    #: The JSON body of a POST (Dropbox's RPC listings).
    body: Mapping[str, Any] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    #: Which of the listing's records belong to this data type (Dropbox's files, folders).
    where: Callable[[Record], bool] | None = None
    parent: Parent | None = None
    attach: Attach | None = None

    @property
    def key(self) -> str:
        return self.data_type.key

    def record_id(self, record: Record) -> str:
        names = (self.id,) if isinstance(self.id, str) else self.id
        return "/".join(str(record.get(name)) for name in names)

    def kept(self, page: list[Record], since: datetime | None) -> list[Record]:
        """The page's records of this data type (and changed since, where only we can tell)."""
        if self.where is not None:
            page = [record for record in page if self.where(record)]
        if since is not None and self.since is not None and self.since.field is not None:
            page = [record for record in page if self.since.keeps(record, since)]
        return page


Streams = Mapping[str, Stream]


def streams(*declared: Stream) -> Streams:
    """A platform's streams by data type key, in catalogue order."""
    by_key = {stream.key: stream for stream in declared}
    if len(by_key) != len(declared):
        raise ValueError("Two streams declare the same data type.")
    return MappingProxyType(by_key)


def data_types(declared: Streams) -> tuple[DataType, ...]:
    """The catalogue's data types, as the streams declare them."""
    return tuple(stream.data_type for stream in declared.values())


def where_equal(name: str, value: Any) -> Callable[[Record], bool]:
    """Records whose ``name`` is ``value``."""
    return lambda record: record.get(name) == value


def where_not_in(name: str, values: Iterable[Any]) -> Callable[[Record], bool]:
    """Records whose ``name`` is none of ``values``."""
    excluded = frozenset(values)
    return lambda record: record.get(name) not in excluded
