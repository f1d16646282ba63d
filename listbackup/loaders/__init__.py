"""Per-request dataloaders: every DynamoDB read of a request goes through one of these.

A fresh :class:`Loaders` is built for each request, so nothing cached outlives it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from listbackup.loaders.platforms import PlatformBySlugLoader, PlatformsByCategoryLoader
from listbackup.loaders.tenancy import (
    AccountByIdLoader,
    MembershipLoader,
    MembershipsByUserLoader,
    PendingInvitationsLoader,
    UserByIdLoader,
)
from listbackup.store import Store


class Loaders:
    def __init__(self, store: Store, *, clock: Callable[[], datetime]) -> None:
        self.platform_by_slug = PlatformBySlugLoader(store.platforms)
        self.platforms_by_category = PlatformsByCategoryLoader(
            store.platforms, prime=self.platform_by_slug
        )
        self.user = UserByIdLoader(store.users)
        self.account = AccountByIdLoader(store.accounts)
        self.membership = MembershipLoader(store.memberships)
        self.memberships_by_user = MembershipsByUserLoader(store.memberships, prime=self.membership)
        self.pending_invitations = PendingInvitationsLoader(store.invitations, clock=clock)
