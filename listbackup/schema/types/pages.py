"""Cursor pagination: every list that can grow returns a *Page with pageInfo."""

from __future__ import annotations

from typing import Any

import strawberry

from listbackup.store.pages import Page

DEFAULT_PAGE_SIZE = 50


def page_size(first: int | None) -> int:
    """``first`` as given; null (or absent) is the default. 0 stays 0: an empty page."""
    return DEFAULT_PAGE_SIZE if first is None else first


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None

    @classmethod
    def from_page(cls, page: Page[Any]) -> PageInfo:
        return cls(has_next_page=page.has_next, end_cursor=page.end_cursor)
