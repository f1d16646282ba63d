"""Accounts by id, and the tree below one: its children and all its descendants."""

from __future__ import annotations

from listbackup.loaders.batch import BatchedLoader, TableBatcher
from listbackup.loaders.pages import PageLoader
from listbackup.models.accounts import Account
from listbackup.models.pages import Page
from listbackup.store import accounts
from listbackup.store.accounts import AccountStore
from listbackup.store.pages import PageRequest


class AccountByIdLoader(BatchedLoader[str, Account]):
    def __init__(self, batcher: TableBatcher, store: AccountStore) -> None:
        super().__init__(batcher, store.table, lambda k: {"id": k}, accounts.to_model)

    def prime_one(self, account: Account) -> None:
        self.prime(account.id, account)


def children(store: AccountStore, by_id: AccountByIdLoader) -> PageLoader[str, Account]:
    """Pages of an account's direct children, oldest first."""
    return PageLoader(store.children, accounts.PARENT_INDEX_KEYS, by_id.prime_one)


def descendants(store: AccountStore, by_id: AccountByIdLoader) -> PageLoader[str, Account]:
    """Pages of every account below one, at any depth, in path order."""

    async def fetch(account_id: str, page: PageRequest) -> Page[Account]:
        account = await by_id.load(account_id)
        if account is None:
            return Page(items=(), end_cursor=None)
        return await store.descendants(account, page)

    return PageLoader(fetch, accounts.ROOT_PATH_INDEX_KEYS, by_id.prime_one)
