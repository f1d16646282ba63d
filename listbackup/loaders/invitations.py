"""Invitations by id, an account's invitations, and those pending for an email."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import datetime

from aiodataloader import DataLoader

from listbackup.loaders.batch import BatchedLoader, TableBatcher
from listbackup.loaders.pages import PageLoader
from listbackup.models.invitations import Invitation
from listbackup.store import invitations
from listbackup.store.invitations import InvitationStore


class InvitationByIdLoader(BatchedLoader[str, Invitation]):
    def __init__(self, batcher: TableBatcher, store: InvitationStore) -> None:
        super().__init__(batcher, store.table, lambda k: {"id": k}, invitations.to_model)

    def prime_one(self, invitation: Invitation) -> None:
        self.prime(invitation.id, invitation)


def by_account(store: InvitationStore, by_id: InvitationByIdLoader) -> PageLoader[str, Invitation]:
    """Pages of the invitations an account sent."""
    return PageLoader(store.list_by_account, invitations.ACCOUNT_INDEX_KEYS, by_id.prime_one)


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
