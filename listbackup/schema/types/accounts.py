"""Accounts, memberships and invitations (the tenancy part of the schema)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from listbackup import ids
from listbackup.context import Context
from listbackup.models import accounts as models
from listbackup.models.invitations import Invitation as InvitationModel
from listbackup.resolvers import accounts as resolvers
from listbackup.resolvers import connections as connection_resolvers
from listbackup.resolvers import invitations as invitation_resolvers
from listbackup.resolvers import members as member_resolvers
from listbackup.schema import node
from listbackup.schema.enums import (
    AccountStatus,
    InvitationStatus,
    MembershipStatus,
    Permission,
    Role,
)
from listbackup.schema.types.connections import PlatformConnectionPage
from listbackup.schema.types.pages import DEFAULT_PAGE_SIZE, PageInfo, page_size
from listbackup.services.members import Member
from listbackup.store.pages import Page

if TYPE_CHECKING:
    from listbackup.schema.types.users import User

UserType = Annotated["User", strawberry.lazy("listbackup.schema.types.users")]


_ORDER = {permission: index for index, permission in enumerate(models.Permission)}


def _sorted(permissions: frozenset[models.Permission]) -> list[models.Permission]:
    """Permissions in the contract's order."""
    return sorted(permissions, key=_ORDER.__getitem__)


@strawberry.type
class AccountSettings:
    allow_sub_accounts: bool
    max_sub_accounts: int | None
    default_retention_days: int
    timezone: str

    @classmethod
    def from_model(cls, settings: models.AccountSettings) -> AccountSettings:
        return cls(
            allow_sub_accounts=settings.allow_sub_accounts,
            max_sub_accounts=settings.max_sub_accounts,
            default_retention_days=settings.default_retention_days,
            timezone=settings.timezone,
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
    ) -> AccountPage:
        page = await resolvers.children(
            info.context, account=self.model, first=page_size(first), after=after
        )
        return AccountPage.from_page(page)

    @strawberry.field(description="Every account below this one, at any depth.")
    async def descendants(
        self,
        info: Info[Context, None],
        first: int | None = DEFAULT_PAGE_SIZE,
        after: str | None = None,
    ) -> AccountPage:
        page = await resolvers.descendants(
            info.context, account=self.model, first=page_size(first), after=after
        )
        return AccountPage.from_page(page)

    @strawberry.field(description="The caller's role here, inherited from an ancestor or not.")
    async def viewer_role(self, info: Info[Context, None]) -> Role | None:
        return (await resolvers.viewer_access(info.context, account=self.model)).role

    @strawberry.field(description="What the caller may do here.")
    async def viewer_permissions(self, info: Info[Context, None]) -> list[Permission]:
        granted = await resolvers.viewer_access(info.context, account=self.model)
        return _sorted(granted.permissions)

    @strawberry.field(description="Members here, then those who inherit access from above.")
    async def members(
        self,
        info: Info[Context, None],
        first: int | None = DEFAULT_PAGE_SIZE,
        after: str | None = None,
    ) -> MembershipPage:
        page = await member_resolvers.list_members(
            info.context, account=self.model, first=page_size(first), after=after
        )
        return MembershipPage(
            nodes=[Membership.from_member(m) for m in page.items],
            page_info=PageInfo.from_page(page),
        )

    @strawberry.field(description="Connections of this account, optionally of one platform.")
    async def connections(
        self,
        info: Info[Context, None],
        first: int | None = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        platform_id: strawberry.ID | None = None,
    ) -> PlatformConnectionPage:
        platform = node.key(ids.PLATFORM, platform_id) if platform_id else None
        page = await connection_resolvers.for_account(
            info.context,
            account=self.model,
            first=page_size(first),
            after=after,
            platform=platform,
        )
        return PlatformConnectionPage.from_page(page)

    @strawberry.field(description="Invitations to this account; needs INVITE_USERS.")
    async def invitations(
        self,
        info: Info[Context, None],
        first: int | None = DEFAULT_PAGE_SIZE,
        after: str | None = None,
    ) -> InvitationPage:
        page = await invitation_resolvers.for_account(
            info.context, account=self.model, first=page_size(first), after=after
        )
        return InvitationPage(
            nodes=[Invitation.from_model(i) for i in page.items],
            page_info=PageInfo.from_page(page),
        )


node.register(models.Account, Account.from_model)


@strawberry.type
class AccountPage:
    nodes: list[Account]
    page_info: PageInfo

    @classmethod
    def from_page(cls, page: Page[models.Account]) -> AccountPage:
        return cls(
            nodes=[Account.from_model(a) for a in page.items],
            page_info=PageInfo.from_page(page),
        )


@strawberry.type
class Membership:
    role: Role
    permissions: list[Permission]
    status: MembershipStatus
    inherited: bool = strawberry.field(
        description="True when the role comes from a membership on an ancestor account."
    )
    joined_at: datetime
    model: strawberry.Private[models.Membership]
    listed_on: strawberry.Private[str | None] = None

    @classmethod
    def from_model(
        cls,
        membership: models.Membership,
        *,
        inherited: bool = False,
        listed_on: str | None = None,
    ) -> Membership:
        return cls(
            role=membership.role,
            permissions=_sorted(membership.permissions),
            status=membership.status,
            inherited=inherited,
            joined_at=membership.joined_at,
            model=membership,
            listed_on=listed_on,
        )

    @classmethod
    def from_member(cls, member: Member) -> Membership:
        return cls.from_model(
            member.membership, inherited=member.inherited, listed_on=member.listed_on
        )

    @strawberry.field(
        description="The account holding the membership (an ancestor when inherited)."
    )
    async def account(self, info: Info[Context, None]) -> Account:
        found = await member_resolvers.account_of(
            info.context, membership=self.model, listed_on=self.listed_on
        )
        return Account.from_model(found)

    @strawberry.field
    async def user(self, info: Info[Context, None]) -> UserType:
        found = await member_resolvers.user_of(info.context, membership=self.model)
        user: UserType = node.wrap(found)
        return user


@strawberry.type
class MembershipPage:
    nodes: list[Membership]
    page_info: PageInfo

    @classmethod
    def from_page(cls, page: Page[models.Membership]) -> MembershipPage:
        return cls(
            nodes=[Membership.from_model(m) for m in page.items],
            page_info=PageInfo.from_page(page),
        )


@strawberry.type
class Invitation(node.Node):
    id: strawberry.ID
    email: str
    role: Role
    expires_at: datetime
    created_at: datetime
    model: strawberry.Private[InvitationModel]

    @classmethod
    def from_model(cls, invitation: InvitationModel) -> Invitation:
        return cls(
            id=strawberry.ID(ids.encode(ids.INVITATION, invitation.id)),
            email=invitation.email,
            role=invitation.role,
            expires_at=invitation.expires_at,
            created_at=invitation.created_at,
            model=invitation,
        )

    @strawberry.field(description="EXPIRED once a pending invitation passes expiresAt.")
    def status(self, info: Info[Context, None]) -> InvitationStatus:
        return self.model.status_at(info.context.now())

    @strawberry.field
    async def account(self, info: Info[Context, None]) -> Account:
        found = await invitation_resolvers.account_of(info.context, invitation=self.model)
        return Account.from_model(found)

    @strawberry.field
    async def invited_by(self, info: Info[Context, None]) -> UserType | None:
        found = await invitation_resolvers.inviter_of(info.context, invitation=self.model)
        inviter: UserType | None = node.wrap(found) if found else None
        return inviter


node.register(InvitationModel, Invitation.from_model)


@strawberry.type
class InvitationPage:
    nodes: list[Invitation]
    page_info: PageInfo
