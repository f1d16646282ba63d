"""Accounts: the tree, its settings, and the root fields that read and change it."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from listbackup import ids
from listbackup.context import Context
from listbackup.models import accounts as models
from listbackup.models.pages import DEFAULT_PAGE_SIZE
from listbackup.resolvers import accounts as resolvers
from listbackup.resolvers import connections as connection_resolvers
from listbackup.resolvers import invitations as invitation_resolvers
from listbackup.resolvers import jobs as job_resolvers
from listbackup.resolvers import members as member_resolvers
from listbackup.resolvers import sources as source_resolvers
from listbackup.schema import node
from listbackup.schema.enums import (
    AccountStatus,
    JobStatus,
    Permission,
    Role,
    SourceStatus,
    sorted_permissions,
)
from listbackup.schema.types.connections import PlatformConnection
from listbackup.schema.types.invitations import Invitation
from listbackup.schema.types.jobs import Job
from listbackup.schema.types.members import Membership
from listbackup.schema.types.pages import Page, page_of, page_size
from listbackup.schema.types.sources import Source
from listbackup.services.accounts import SettingsChanges

if TYPE_CHECKING:
    from listbackup.schema.types.users import User

UserType = Annotated["User", strawberry.lazy("listbackup.schema.types.users")]


@strawberry.type
class AccountSettings:
    allow_sub_accounts: bool
    max_sub_accounts: int | None
    default_retention_days: int = strawberry.field(
        description="How long a new source keeps its backups, in days (90 until set; while "
        "unset, a new source keeps its data types' longest default)."
    )
    timezone: str
    max_sources: int = strawberry.field(description="Most backup sources (a plan limit).")
    min_schedule_minutes: int = strawberry.field(
        description="Shortest interval between two scheduled runs of a source (a plan limit)."
    )

    @classmethod
    def from_model(cls, settings: models.AccountSettings) -> AccountSettings:
        return cls(
            allow_sub_accounts=settings.allow_sub_accounts,
            max_sub_accounts=settings.max_sub_accounts,
            default_retention_days=settings.retention_days_shown,
            timezone=settings.timezone,
            max_sources=settings.max_sources,
            min_schedule_minutes=settings.min_schedule_minutes,
        )


@strawberry.type
class Account(node.Node):
    id: strawberry.ID
    name: str
    company: str | None
    status: AccountStatus
    level: int
    settings: AccountSettings
    created_at: datetime
    model: strawberry.Private[models.Account]

    @classmethod
    def from_model(cls, account: models.Account) -> Account:
        return cls(
            id=strawberry.ID(ids.encode(ids.ACCOUNT, account.id)),
            name=account.name,
            company=account.company,
            status=account.status,
            level=account.level,
            settings=AccountSettings.from_model(account.settings),
            created_at=account.created_at,
            model=account,
        )

    @strawberry.field(description="The parent account, when the caller can see it.")
    async def parent(self, info: Info[Context, None]) -> Account | None:
        found = await resolvers.parent(info.context, account=self.model)
        return Account.from_model(found) if found else None

    @strawberry.field(description="Root first, excluding this account: the breadcrumb.")
    async def ancestors(self, info: Info[Context, None]) -> list[Account]:
        found = await resolvers.ancestors(info.context, account=self.model)
        return [Account.from_model(a) for a in found]

    @strawberry.field
    async def children(
        self,
        info: Info[Context, None],
        first: int | None = DEFAULT_PAGE_SIZE,
        after: str | None = None,
    ) -> Page[Account]:
        page = await resolvers.children(
            info.context, account=self.model, first=page_size(first), after=after
        )
        return page_of(page, Account.from_model)

    @strawberry.field(description="Every account below this one, at any depth.")
    async def descendants(
        self,
        info: Info[Context, None],
        first: int | None = DEFAULT_PAGE_SIZE,
        after: str | None = None,
    ) -> Page[Account]:
        page = await resolvers.descendants(
            info.context, account=self.model, first=page_size(first), after=after
        )
        return page_of(page, Account.from_model)

    @strawberry.field(description="The caller's role here, inherited from an ancestor or not.")
    async def viewer_role(self, info: Info[Context, None]) -> Role | None:
        return (await resolvers.viewer_access(info.context, account=self.model)).role

    @strawberry.field(description="What the caller may do here.")
    async def viewer_permissions(self, info: Info[Context, None]) -> list[Permission]:
        granted = await resolvers.viewer_access(info.context, account=self.model)
        return sorted_permissions(granted.permissions)

    @strawberry.field(description="Members here, then those who inherit access from above.")
    async def members(
        self,
        info: Info[Context, None],
        first: int | None = DEFAULT_PAGE_SIZE,
        after: str | None = None,
    ) -> Page[Membership]:
        page = await member_resolvers.list_members(
            info.context, account=self.model, first=page_size(first), after=after
        )
        return page_of(page, Membership.from_member)

    @strawberry.field(description="Connections of this account, optionally of one platform.")
    async def connections(
        self,
        info: Info[Context, None],
        first: int | None = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        platform_id: strawberry.ID | None = None,
    ) -> Page[PlatformConnection]:
        platform = node.key(ids.PLATFORM, platform_id) if platform_id else None
        page = await connection_resolvers.for_account(
            info.context,
            account=self.model,
            first=page_size(first),
            after=after,
            platform=platform,
        )
        return page_of(page, PlatformConnection.from_model)

    @strawberry.field(description="Backup sources of this account (not its sub-accounts).")
    async def sources(
        self,
        info: Info[Context, None],
        first: int | None = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        status: SourceStatus | None = None,
    ) -> Page[Source]:
        page = await source_resolvers.for_account(
            info.context, account=self.model, first=page_size(first), after=after, status=status
        )
        return page_of(page, Source.from_model)

    @strawberry.field(description="Jobs of this account's sources, newest first.")
    async def jobs(
        self,
        info: Info[Context, None],
        first: int | None = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        status: JobStatus | None = None,
        source_id: strawberry.ID | None = None,
    ) -> Page[Job]:
        page = await job_resolvers.for_account(
            info.context,
            account=self.model,
            first=page_size(first),
            after=after,
            status=status,
            source_id=node.key(ids.SOURCE, source_id) if source_id is not None else None,
        )
        return page_of(page, Job.from_model)

    @strawberry.field(description="Invitations to this account; needs INVITE_USERS.")
    async def invitations(
        self,
        info: Info[Context, None],
        first: int | None = DEFAULT_PAGE_SIZE,
        after: str | None = None,
    ) -> Page[Invitation]:
        page = await invitation_resolvers.for_account(
            info.context, account=self.model, first=page_size(first), after=after
        )
        return page_of(page, Invitation.from_model)


node.register(models.Account, Account.from_model)


@strawberry.input
class CreateAccountInput:
    name: str
    parent_id: strawberry.ID
    company: str | None = None


@strawberry.input(description="Only the fields given change; null maxSubAccounts lifts the limit.")
class AccountSettingsInput:
    allow_sub_accounts: bool | None = strawberry.UNSET
    max_sub_accounts: int | None = strawberry.UNSET
    default_retention_days: int | None = strawberry.UNSET
    timezone: str | None = strawberry.UNSET
    max_sources: int | None = strawberry.field(
        default=strawberry.UNSET, description="Needs MANAGE_BILLING."
    )
    min_schedule_minutes: int | None = strawberry.field(
        default=strawberry.UNSET, description="Needs MANAGE_BILLING."
    )

    def to_changes(self) -> SettingsChanges:
        def given(value: object) -> object:
            return None if value is strawberry.UNSET else value

        return SettingsChanges(
            allow_sub_accounts=given(self.allow_sub_accounts),  # type: ignore[arg-type]
            max_sub_accounts=given(self.max_sub_accounts),  # type: ignore[arg-type]
            clear_max_sub_accounts=self.max_sub_accounts is None,
            default_retention_days=given(self.default_retention_days),  # type: ignore[arg-type]
            timezone=given(self.timezone),  # type: ignore[arg-type]
            max_sources=given(self.max_sources),  # type: ignore[arg-type]
            min_schedule_minutes=given(self.min_schedule_minutes),  # type: ignore[arg-type]
        )


@strawberry.input(description="Only the fields given change; null company clears it.")
class UpdateAccountInput:
    name: str | None = strawberry.UNSET
    company: str | None = strawberry.UNSET
    settings: AccountSettingsInput | None = strawberry.UNSET


@strawberry.type
class AccountQuery:
    @strawberry.field(description="An account the caller can see.")
    async def account(self, info: Info[Context, None], id: strawberry.ID) -> Account | None:
        found = await resolvers.account(info.context, account_id=node.key(ids.ACCOUNT, id))
        return Account.from_model(found)


@strawberry.type
class AccountMutation:
    @strawberry.mutation(description="A sub-account under parentId; needs CREATE_SUB_ACCOUNTS.")
    async def create_account(
        self,
        info: Info[Context, None],
        input: CreateAccountInput,
    ) -> Account:
        created = await resolvers.create(
            info.context,
            name=input.name,
            parent_id=node.key(ids.ACCOUNT, input.parent_id),
            company=input.company,
        )
        return Account.from_model(created)

    @strawberry.mutation(description="Needs MODIFY_SETTINGS.")
    async def update_account(
        self,
        info: Info[Context, None],
        id: strawberry.ID,
        input: UpdateAccountInput,
    ) -> Account:
        settings = input.settings if input.settings not in (None, strawberry.UNSET) else None
        updated = await resolvers.update(
            info.context,
            account_id=node.key(ids.ACCOUNT, id),
            name=input.name or None,
            company=input.company or None,
            clear_company=input.company is None,
            settings=settings.to_changes() if settings else None,
        )
        return Account.from_model(updated)

    @strawberry.mutation(
        description="Re-parents the account and its whole subtree within its root's tree "
        "(a root never moves). Needs DELETE_ACCOUNT on the account and CREATE_SUB_ACCOUNTS "
        "on the new parent, and may not raise the caller's own access to the account."
    )
    async def move_account(
        self,
        info: Info[Context, None],
        id: strawberry.ID,
        new_parent_id: strawberry.ID,
    ) -> Account:
        moved = await resolvers.move(
            info.context,
            account_id=node.key(ids.ACCOUNT, id),
            new_parent_id=node.key(ids.ACCOUNT, new_parent_id),
        )
        return Account.from_model(moved)

    @strawberry.mutation(description="Needs DELETE_ACCOUNT; refused while anything depends on it.")
    async def delete_account(self, info: Info[Context, None], id: strawberry.ID) -> strawberry.ID:
        deleted = await resolvers.delete(info.context, account_id=node.key(ids.ACCOUNT, id))
        return strawberry.ID(ids.encode(ids.ACCOUNT, deleted.id))

    @strawberry.mutation(description="Makes the account the one the user works in.")
    async def switch_account(
        self, info: Info[Context, None], account_id: strawberry.ID
    ) -> UserType:
        found = await resolvers.switch(info.context, account_id=node.key(ids.ACCOUNT, account_id))
        user: UserType = node.wrap(found)
        return user
