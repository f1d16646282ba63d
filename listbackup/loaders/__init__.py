"""Per-operation dataloaders: every DynamoDB read of an operation goes through one.

One module per domain defines its loaders; :class:`Loaders` assembles a fresh set for
each operation (an HTTP request, a WebSocket operation, a worker's job), so nothing
cached outlives it. Each loader is built on first use: most operations read two or three
kinds of thing. By-id loaders share the operation's :class:`TableBatcher`: keys of every
table asked for in one tick go out in the same BatchGetItem calls.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import cached_property

from listbackup.loaders import accounts, connections, invitations, jobs, memberships, sources
from listbackup.loaders.batch import TableBatcher
from listbackup.loaders.pages import PageLoader
from listbackup.loaders.platforms import PlatformBySlugLoader, PlatformsByCategoryLoader
from listbackup.loaders.users import UserByIdLoader
from listbackup.models.accounts import Account, Membership
from listbackup.models.connections import Connection
from listbackup.models.invitations import Invitation
from listbackup.models.jobs import Job, JobLog
from listbackup.models.sources import Source
from listbackup.store import Store


class Loaders:
    def __init__(self, store: Store, *, clock: Callable[[], datetime]) -> None:
        self._store = store
        self._clock = clock

    @cached_property
    def batcher(self) -> TableBatcher:
        return TableBatcher(self._store.clients.dynamodb)

    @cached_property
    def user(self) -> UserByIdLoader:
        return UserByIdLoader(self.batcher, self._store.users)

    @cached_property
    def account(self) -> accounts.AccountByIdLoader:
        return accounts.AccountByIdLoader(self.batcher, self._store.accounts)

    @cached_property
    def children(self) -> PageLoader[str, Account]:
        return accounts.children(self._store.accounts, self.account)

    @cached_property
    def descendants(self) -> PageLoader[str, Account]:
        return accounts.descendants(self._store.accounts, self.account)

    @cached_property
    def membership(self) -> memberships.MembershipLoader:
        return memberships.MembershipLoader(self.batcher, self._store.memberships)

    @cached_property
    def memberships_by_user(self) -> PageLoader[str, Membership]:
        return memberships.by_user(self._store.memberships, self.membership)

    @cached_property
    def invitation(self) -> invitations.InvitationByIdLoader:
        return invitations.InvitationByIdLoader(self.batcher, self._store.invitations)

    @cached_property
    def invitations_by_account(self) -> PageLoader[str, Invitation]:
        return invitations.by_account(self._store.invitations, self.invitation)

    @cached_property
    def pending_invitations(self) -> invitations.PendingInvitationsLoader:
        return invitations.PendingInvitationsLoader(self._store.invitations, clock=self._clock)

    @cached_property
    def connection(self) -> connections.ConnectionByIdLoader:
        return connections.ConnectionByIdLoader(self.batcher, self._store.connections)

    @cached_property
    def connections_by_account(self) -> PageLoader[connections.AccountPlatform, Connection]:
        return connections.by_account(self._store.connections, self.connection)

    @cached_property
    def source(self) -> sources.SourceByIdLoader:
        return sources.SourceByIdLoader(self.batcher, self._store.sources)

    @cached_property
    def sources_by_account(self) -> PageLoader[str, Source]:
        return sources.by_account(self._store.sources, self.source)

    @cached_property
    def job(self) -> jobs.JobByIdLoader:
        return jobs.JobByIdLoader(self.batcher, self._store.jobs)

    @cached_property
    def jobs_by_account(self) -> PageLoader[jobs.OwnerStatus, Job]:
        return jobs.by_account(self._store.jobs, self.job)

    @cached_property
    def jobs_by_source(self) -> PageLoader[jobs.OwnerStatus, Job]:
        return jobs.by_source(self._store.jobs, self.job)

    @cached_property
    def job_logs(self) -> PageLoader[str, JobLog]:
        return jobs.logs(self._store.job_logs)

    @cached_property
    def files_by_job(self) -> jobs.FilesByJobLoader:
        return jobs.FilesByJobLoader(self._store.backup_files)

    @cached_property
    def platform_by_slug(self) -> PlatformBySlugLoader:
        return PlatformBySlugLoader(self.batcher, self._store.platforms)

    @cached_property
    def platforms_by_category(self) -> PlatformsByCategoryLoader:
        return PlatformsByCategoryLoader(self._store.platforms, prime=self.platform_by_slug)
