"""Pages of Query-backed lists, one Query per key (all of a tick's concurrently)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from aiodataloader import DataLoader

from listbackup.models.pages import Page
from listbackup.store.pages import PageRequest, page_request

V = TypeVar("V")
Owner = TypeVar("Owner")

#: (owner, first, after cursor) of one page of a list; the owner is usually an id.
PageKey = tuple[Owner, int, str | None]


class PageLoader(DataLoader[PageKey[Owner], Page[V]], Generic[Owner, V]):
    """Pages of one list; each key is validated by ``page_request``, and every item read
    primes the by-id loader of its kind."""

    def __init__(
        self,
        fetch: Callable[[Owner, PageRequest], Awaitable[Page[V]]],
        cursor_keys: Sequence[str],
        prime: Callable[[V], object],
    ) -> None:
        super().__init__()
        self._fetch = fetch
        self._cursor_keys = cursor_keys
        self._prime = prime

    async def batch_load_fn(self, keys: Sequence[PageKey[Owner]]) -> list[Page[V]]:
        pages = await asyncio.gather(
            *(
                self._fetch(owner, page_request(first, after, self._cursor_keys))
                for owner, first, after in keys
            )
        )
        for page in pages:
            for item in page.items:
                self._prime(item)
        return list(pages)
