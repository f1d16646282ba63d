"""Per-operation dataloaders: every DynamoDB read of an operation goes through one.

One module per domain defines its loaders; :class:`Loaders` assembles a fresh set for
each operation (an HTTP request, a WebSocket operation, a worker's job), so nothing
cached outlives it. By-id loaders share the operation's :class:`TableBatcher`: keys of
every table asked for in one tick go out in the same BatchGetItem calls.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from listbackup.loaders import accounts, connections, invitations, jobs, memberships, sources
from listbackup.loaders.batch import TableBatcher
from listbackup.loaders.platforms import PlatformBySlugLoader, PlatformsByCategoryLoader
from listbackup.loaders.users import UserByIdLoader
from listbackup.store import Store


class Loaders:
    def __init__(self, store: Store, *, clock: Callable[[], datetime]) -> None:
        self.batcher = TableBatcher(store.clients.dynamodb)
        batcher = self.batcher

        self.user = UserByIdLoader(batcher, store.users)

        self.account = accounts.AccountByIdLoader(batcher, store.accounts)
        self.children = accounts.children(store.accounts, self.account)
        self.descendants = accounts.descendants(store.accounts, self.account)

        self.membership = memberships.MembershipLoader(batcher, store.memberships)
        self.memberships_by_user = memberships.by_user(store.memberships, self.membership)

        self.invitation = invitations.InvitationByIdLoader(batcher, store.invitations)
        self.invitations_by_account = invitations.by_account(store.invitations, self.invitation)
        self.pending_invitations = invitations.PendingInvitationsLoader(
            store.invitations, clock=clock
        )

        self.connection = connections.ConnectionByIdLoader(batcher, store.connections)
        self.connections_by_account = connections.by_account(store.connections, self.connection)

        self.source = sources.SourceByIdLoader(batcher, store.sources)
        self.sources_by_account = sources.by_account(store.sources, self.source)

        self.job = jobs.JobByIdLoader(batcher, store.jobs)
        self.jobs_by_account = jobs.by_account(store.jobs, self.job)
        self.jobs_by_source = jobs.by_source(store.jobs, self.job)
        self.job_logs = jobs.logs(store.job_logs)
        self.files_by_job = jobs.FilesByJobLoader(store.backup_files)

        self.platform_by_slug = PlatformBySlugLoader(batcher, store.platforms)
        self.platforms_by_category = PlatformsByCategoryLoader(
            store.platforms, prime=self.platform_by_slug
        )
