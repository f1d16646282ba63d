"""Loaders for users, accounts, memberships and invitations.

By-id loaders go through the request's :class:`TableBatcher`, so keys of every table
asked for in one tick share BatchGetItem calls. List loaders run one Query per key (all
of a tick's concurrently) and prime the by-id loaders with what they read.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Generic, TypeVar

from aiodataloader import DataLoader

from listbackup.loaders.batch import BatchedLoader, TableBatcher
from listbackup.models.accounts import Account, Membership
from listbackup.models.connections import Connection
from listbackup.models.invitations import Invitation
from listbackup.models.users import User
from listbackup.store import Store, accounts, connections, invitations, memberships, users
from listbackup.store.invitations import InvitationStore
from listbackup.store.memberships import MembershipKey
from listbackup.store.pages import Page, PageRequest, page_request

K = TypeVar("K")
V = TypeVar("V")
Owner = TypeVar("Owner")

#: (owner, first, after cursor) of one page of a list; the owner is usually an id.
PageKey = tuple[Owner, int, str | None]


class UserByIdLoader(BatchedLoader[str, User]):
    def __init__(self, batcher: TableBatcher, store: Store) -> None:
        super().__init__(batcher, store.users.table, lambda k: {"id": k}, users.to_model)


class AccountByIdLoader(BatchedLoader[str, Account]):
    def __init__(self, batcher: TableBatcher, store: Store) -> None:
        super().__init__(batcher, store.accounts.table, lambda k: {"id": k}, accounts.to_model)


class MembershipLoader(BatchedLoader[MembershipKey, Membership]):
    def __init__(self, batcher: TableBatcher, store: Store) -> None:
        super().__init__(
            batcher,
            store.memberships.table,
            lambda k: {"accountId": k[0], "userId": k[1]},
            memberships.to_model,
        )


class InvitationByIdLoader(BatchedLoader[str, Invitation]):
    def __init__(self, batcher: TableBatcher, store: Store) -> None:
        super().__init__(
            batcher, store.invitations.table, lambda k: {"id": k}, invitations.to_model
        )


class ConnectionByIdLoader(BatchedLoader[str, Connection]):
    def __init__(self, batcher: TableBatcher, store: Store) -> None:
        super().__init__(
            batcher, store.connections.table, lambda k: {"id": k}, connections.to_model
        )


class _PageLoader(DataLoader[PageKey[Owner], Page[V]], Generic[Owner, V]):
    """Pages of a Query-backed list; each key is validated by ``page_request``."""

    def __init__(
        self,
        fetch: Callable[[Owner, PageRequest], Awaitable[Page[V]]],
        cursor_keys: Sequence[str],
        prime: Callable[[V], None],
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


class PendingInvitationsLoader(DataLoader[str, list[Invitation]]):
    """Invitations that can still be accepted, by invited email."""

    def __init__(self, store: InvitationStore, *, clock: Callable[[], datetime]) -> None:
        super().__init__()
        self._store = store
        self._clock = clock

    async def batch_load_fn(self, keys: Sequence[str]) -> list[list[Invitation]]:
        now = self._clock()
        return list(
            await asyncio.gather(*(self._store.list_pending_for_email(k, now) for k in keys))
        )


class TenancyLoaders:
    def __init__(self, store: Store, batcher: TableBatcher, clock: Callable[[], datetime]) -> None:
        self.user = UserByIdLoader(batcher, store)
        self.account = AccountByIdLoader(batcher, store)
        self.membership = MembershipLoader(batcher, store)
        self.invitation = InvitationByIdLoader(batcher, store)
        self.connection = ConnectionByIdLoader(batcher, store)

        def prime_account(account: Account) -> None:
            self.account.prime(account.id, account)

        def prime_membership(membership: Membership) -> None:
            self.membership.prime((membership.account_id, membership.user_id), membership)

        def prime_invitation(invitation: Invitation) -> None:
            self.invitation.prime(invitation.id, invitation)

        self.memberships_by_user = _PageLoader(
            store.memberships.list_by_user, memberships.USER_INDEX_KEYS, prime_membership
        )
        self.children = _PageLoader(
            store.accounts.children, accounts.PARENT_INDEX_KEYS, prime_account
        )
        self.invitations_by_account = _PageLoader(
            store.invitations.list_by_account, invitations.ACCOUNT_INDEX_KEYS, prime_invitation
        )

        async def descendants(account_id: str, page: PageRequest) -> Page[Account]:
            account = await self.account.load(account_id)
            if account is None:
                return Page(items=(), end_cursor=None)
            return await store.accounts.descendants(account, page)

        self.descendants = _PageLoader(descendants, accounts.ROOT_PATH_INDEX_KEYS, prime_account)

        def prime_connection(connection: Connection) -> None:
            self.connection.prime(connection.id, connection)

        self.connections_by_account = _PageLoader(
            store.connections.list_by_account, connections.ACCOUNT_INDEX_KEYS, prime_connection
        )
        self.pending_invitations = PendingInvitationsLoader(store.invitations, clock=clock)
