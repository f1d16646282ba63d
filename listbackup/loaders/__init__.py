"""Per-request dataloaders: every DynamoDB read of a request goes through one of these.

A fresh :class:`Loaders` is built for each request, so nothing cached outlives it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from listbackup.loaders.batch import TableBatcher
from listbackup.loaders.platforms import PlatformBySlugLoader, PlatformsByCategoryLoader
from listbackup.loaders.tenancy import TenancyLoaders
from listbackup.store import Store


class Loaders(TenancyLoaders):
    def __init__(self, store: Store, *, clock: Callable[[], datetime]) -> None:
        self.batcher = TableBatcher(store.clients.dynamodb)
        super().__init__(store, self.batcher, clock)
        self.platform_by_slug = PlatformBySlugLoader(self.batcher, store.platforms)
        self.platforms_by_category = PlatformsByCategoryLoader(
            store.platforms, prime=self.platform_by_slug
        )
