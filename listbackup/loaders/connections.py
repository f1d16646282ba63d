"""Connections by id, and an account's connections (of one platform, or all)."""

from __future__ import annotations

from listbackup.loaders.batch import BatchedLoader, TableBatcher
from listbackup.loaders.pages import PageLoader
from listbackup.models.connections import Connection
from listbackup.store import connections
from listbackup.store.connections import ConnectionStore

#: (account id, platform slug or None for every platform).
AccountPlatform = tuple[str, str | None]


class ConnectionByIdLoader(BatchedLoader[str, Connection]):
    def __init__(self, batcher: TableBatcher, store: ConnectionStore) -> None:
        super().__init__(batcher, store.table, lambda k: {"id": k}, connections.to_model)

    def prime_one(self, connection: Connection) -> None:
        self.prime(connection.id, connection)


def by_account(
    store: ConnectionStore, by_id: ConnectionByIdLoader
) -> PageLoader[AccountPlatform, Connection]:
    """Pages of an account's connections, oldest first, filtered before paging."""
    return PageLoader(store.list_by_account, connections.ACCOUNT_INDEX_KEYS, by_id.prime_one)
