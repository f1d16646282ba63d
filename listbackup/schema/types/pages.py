"""Cursor pagination: every list that can grow returns a ``Page`` of its type with
pageInfo. ``Page[Account]`` is ``AccountPage`` in the schema, and so on for each type."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

import strawberry

from listbackup.models.pages import DEFAULT_PAGE_SIZE
from listbackup.models.pages import Page as ModelPage

T = TypeVar("T")
M = TypeVar("M")


def page_size(first: int | None) -> int:
    """``first`` as given; null (or absent) is the default. 0 stays 0: an empty page."""
    return DEFAULT_PAGE_SIZE if first is None else first


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None

    @classmethod
    def from_page(cls, page: ModelPage[Any]) -> PageInfo:
        return cls(has_next_page=page.has_next, end_cursor=page.end_cursor)


@strawberry.type
class Page(Generic[T]):
    nodes: list[T]
    page_info: PageInfo


def page_of(page: ModelPage[M], wrap: Callable[[M], T]) -> Page[T]:
    """The schema's page of a model page, each item wrapped by its type's ``from_model``."""
    return Page(nodes=[wrap(item) for item in page.items], page_info=PageInfo.from_page(page))
