"""Loaders for users, accounts and memberships."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import datetime

from aiodataloader import DataLoader

from listbackup.models.accounts import Account, Membership
from listbackup.models.invitations import Invitation
from listbackup.models.users import User
from listbackup.store.accounts import AccountStore
from listbackup.store.invitations import InvitationStore
from listbackup.store.memberships import USER_INDEX_KEYS, MembershipKey, MembershipStore
from listbackup.store.pages import Page, page_request
from listbackup.store.users import UserStore

#: (user id, first, after cursor) of one page of a user's memberships.
MembershipPageKey = tuple[str, int, str | None]


class UserByIdLoader(DataLoader[str, User | None]):
    def __init__(self, store: UserStore) -> None:
        super().__init__()
        self._store = store

    async def batch_load_fn(self, keys: Sequence[str]) -> list[User | None]:
        return await self._store.get_many(keys)


class AccountByIdLoader(DataLoader[str, Account | None]):
    def __init__(self, store: AccountStore) -> None:
        super().__init__()
        self._store = store

    async def batch_load_fn(self, keys: Sequence[str]) -> list[Account | None]:
        return await self._store.get_many(keys)


class MembershipLoader(DataLoader[MembershipKey, Membership | None]):
    def __init__(self, store: MembershipStore) -> None:
        super().__init__()
        self._store = store

    async def batch_load_fn(self, keys: Sequence[MembershipKey]) -> list[Membership | None]:
        return await self._store.get_many(keys)


class MembershipsByUserLoader(DataLoader[MembershipPageKey, Page[Membership]]):
    """Pages of a user's direct memberships; primes the (account, user) loader."""

    def __init__(self, store: MembershipStore, *, prime: MembershipLoader) -> None:
        super().__init__()
        self._store = store
        self._by_key = prime

    async def batch_load_fn(self, keys: Sequence[MembershipPageKey]) -> list[Page[Membership]]:
        pages = await asyncio.gather(
            *(
                self._store.list_by_user(user_id, page_request(first, after, USER_INDEX_KEYS))
                for user_id, first, after in keys
            )
        )
        for page in pages:
            for membership in page.items:
                self._by_key.prime((membership.account_id, membership.user_id), membership)
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
