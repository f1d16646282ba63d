"""Per-request dataloaders: every DynamoDB read of a request goes through one of these.

A fresh :class:`Loaders` is built for each request, so nothing cached outlives it.
"""

from __future__ import annotations

from listbackup.loaders.platforms import PlatformBySlugLoader, PlatformsByCategoryLoader
from listbackup.store import Store


class Loaders:
    def __init__(self, store: Store) -> None:
        self.platform_by_slug = PlatformBySlugLoader(store.platforms)
        self.platforms_by_category = PlatformsByCategoryLoader(
            store.platforms, prime=self.platform_by_slug
        )
