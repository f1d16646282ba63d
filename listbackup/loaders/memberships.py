"""Memberships by (account, user), and a user's memberships."""

from __future__ import annotations

from listbackup.loaders.batch import BatchedLoader, TableBatcher
from listbackup.loaders.pages import PageLoader
from listbackup.models.accounts import Membership
from listbackup.store import memberships
from listbackup.store.memberships import MembershipKey, MembershipStore


class MembershipLoader(BatchedLoader[MembershipKey, Membership]):
    def __init__(self, batcher: TableBatcher, store: MembershipStore) -> None:
        super().__init__(
            batcher,
            store.table,
            lambda k: {"accountId": k[0], "userId": k[1]},
            memberships.to_model,
        )

    def prime_one(self, membership: Membership) -> None:
        self.prime((membership.account_id, membership.user_id), membership)


def by_user(store: MembershipStore, by_key: MembershipLoader) -> PageLoader[str, Membership]:
    """Pages of one user's memberships."""
    return PageLoader(store.list_by_user, memberships.USER_INDEX_KEYS, by_key.prime_one)
