"""One page of a list that can grow: its items and the cursor to the next page."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")

#: The most items one page holds, everywhere.
MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 50


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: Sequence[T]
    end_cursor: str | None

    @property
    def has_next(self) -> bool:
        return self.end_cursor is not None
