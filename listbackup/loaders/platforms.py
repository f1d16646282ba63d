"""Loaders for the platform catalogue."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from aiodataloader import DataLoader

from listbackup.loaders.batch import BatchedLoader, TableBatcher
from listbackup.models.platforms import Platform
from listbackup.store.platforms import PlatformStore, to_model

#: Key of :class:`PlatformsByCategoryLoader` meaning "every category".
ALL = ""


class PlatformBySlugLoader(BatchedLoader[str, Platform]):
    def __init__(self, batcher: TableBatcher, store: PlatformStore) -> None:
        super().__init__(batcher, store.table, lambda slug: {"slug": slug}, to_model)


class PlatformsByCategoryLoader(DataLoader[str, list[Platform]]):
    """The catalogue by category (``ALL`` for all of it); primes the by-slug loader."""

    def __init__(self, store: PlatformStore, *, prime: PlatformBySlugLoader) -> None:
        super().__init__()
        self._store = store
        self._by_slug = prime

    async def batch_load_fn(self, keys: Sequence[str]) -> list[list[Platform]]:
        results = await asyncio.gather(*(self._store.list(key or None) for key in keys))
        for platforms in results:
            for platform in platforms:
                self._by_slug.prime(platform.slug, platform)
        return list(results)
