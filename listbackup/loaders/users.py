"""Users by id."""

from __future__ import annotations

from listbackup.loaders.batch import BatchedLoader, TableBatcher
from listbackup.models.users import User
from listbackup.store import users
from listbackup.store.users import UserStore


class UserByIdLoader(BatchedLoader[str, User]):
    def __init__(self, batcher: TableBatcher, store: UserStore) -> None:
        super().__init__(batcher, store.table, lambda k: {"id": k}, users.to_model)
