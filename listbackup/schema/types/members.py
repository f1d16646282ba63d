"""Members of an account: direct and inherited memberships, roles and permissions."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from listbackup import ids
from listbackup.context import Context
from listbackup.models import accounts as models
from listbackup.resolvers import members as member_resolvers
from listbackup.schema import node
from listbackup.schema.enums import MembershipStatus, Permission, Role, sorted_permissions
from listbackup.services.members import Member

if TYPE_CHECKING:
    from listbackup.schema.types.accounts import Account
    from listbackup.schema.types.users import User

AccountType = Annotated["Account", strawberry.lazy("listbackup.schema.types.accounts")]
UserType = Annotated["User", strawberry.lazy("listbackup.schema.types.users")]


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
            permissions=sorted_permissions(membership.permissions),
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
    async def account(self, info: Info[Context, None]) -> AccountType:
        found = await member_resolvers.account_of(
            info.context, membership=self.model, listed_on=self.listed_on
        )
        account: AccountType = node.wrap(found)
        return account

    @strawberry.field
    async def user(self, info: Info[Context, None]) -> UserType:
        found = await member_resolvers.user_of(info.context, membership=self.model)
        user: UserType = node.wrap(found)
        return user


@strawberry.type
class MemberMutation:
    @strawberry.mutation(
        description="Changes a direct member's role and, optionally, explicit permissions "
        "(null: the role's defaults). Needs INVITE_USERS; only owners grant OWNER."
    )
    async def update_member(
        self,
        info: Info[Context, None],
        account_id: strawberry.ID,
        user_id: strawberry.ID,
        role: Role,
        permissions: list[Permission] | None = None,
    ) -> Membership:
        member = await member_resolvers.update(
            info.context,
            account_id=node.key(ids.ACCOUNT, account_id),
            user_id=node.key(ids.USER, user_id),
            role=role,
            permissions=frozenset(permissions) if permissions is not None else None,
        )
        return Membership.from_member(member)

    @strawberry.mutation(description="Needs INVITE_USERS, except to leave an account yourself.")
    async def remove_member(
        self, info: Info[Context, None], account_id: strawberry.ID, user_id: strawberry.ID
    ) -> bool:
        await member_resolvers.remove(
            info.context,
            account_id=node.key(ids.ACCOUNT, account_id),
            user_id=node.key(ids.USER, user_id),
        )
        return True
