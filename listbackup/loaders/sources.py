"""Sources by id, and an account's sources."""

from __future__ import annotations

from listbackup.loaders.batch import BatchedLoader, TableBatcher
from listbackup.loaders.pages import PageLoader
from listbackup.models.sources import Source
from listbackup.store import sources
from listbackup.store.sources import SourceStore


class SourceByIdLoader(BatchedLoader[str, Source]):
    def __init__(self, batcher: TableBatcher, store: SourceStore) -> None:
        super().__init__(batcher, store.table, lambda k: {"id": k}, sources.to_model)

    def prime_one(self, source: Source) -> None:
        self.prime(source.id, source)


def by_account(store: SourceStore, by_id: SourceByIdLoader) -> PageLoader[str, Source]:
    """Pages of an account's sources, oldest first."""
    return PageLoader(store.list_by_account, sources.ACCOUNT_INDEX_KEYS, by_id.prime_one)
