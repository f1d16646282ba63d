"""Root fields of the tenancy part: one account, and the mutations on the tree."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from listbackup import ids
from listbackup.context import Context
from listbackup.resolvers import accounts as resolvers
from listbackup.resolvers import invitations as invitation_resolvers
from listbackup.resolvers import members as member_resolvers
from listbackup.schema import node
from listbackup.schema.enums import Permission, Role
from listbackup.schema.types.accounts import Account, Invitation, Membership
from listbackup.schema.types.users import User
from listbackup.services.accounts import SettingsChanges


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

    def to_changes(self) -> SettingsChanges:
        def given(value: object) -> object:
            return None if value is strawberry.UNSET else value

        return SettingsChanges(
            allow_sub_accounts=given(self.allow_sub_accounts),  # type: ignore[arg-type]
            max_sub_accounts=given(self.max_sub_accounts),  # type: ignore[arg-type]
            clear_max_sub_accounts=self.max_sub_accounts is None,
            default_retention_days=given(self.default_retention_days),  # type: ignore[arg-type]
            timezone=given(self.timezone),  # type: ignore[arg-type]
        )


@strawberry.input(description="Only the fields given change; null company clears it.")
class UpdateAccountInput:
    name: str | None = strawberry.UNSET
    company: str | None = strawberry.UNSET
    settings: AccountSettingsInput | None = strawberry.UNSET


@strawberry.type
class TenancyQuery:
    @strawberry.field(description="An account the caller can see.")
    async def account(self, info: Info[Context, None], id: strawberry.ID) -> Account | None:
        found = await resolvers.account(info.context, account_id=node.key(ids.ACCOUNT, id))
        return Account.from_model(found)


@strawberry.type
class TenancyMutation:
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
    async def switch_account(self, info: Info[Context, None], account_id: strawberry.ID) -> User:
        user = await resolvers.switch(info.context, account_id=node.key(ids.ACCOUNT, account_id))
        return User.from_model(user)

    @strawberry.mutation(description="Emails an invitation valid for 7 days; needs INVITE_USERS.")
    async def invite_member(
        self, info: Info[Context, None], account_id: strawberry.ID, email: str, role: Role
    ) -> Invitation:
        invitation = await invitation_resolvers.invite(
            info.context, account_id=node.key(ids.ACCOUNT, account_id), email=email, role=role
        )
        return Invitation.from_model(invitation)

    @strawberry.mutation(description="Only by the person invited, while it is pending.")
    async def accept_invitation(self, info: Info[Context, None], id: strawberry.ID) -> Membership:
        membership = await invitation_resolvers.accept(
            info.context, invitation_id=node.key(ids.INVITATION, id)
        )
        return Membership.from_model(membership)

    @strawberry.mutation(description="Needs INVITE_USERS.")
    async def revoke_invitation(self, info: Info[Context, None], id: strawberry.ID) -> Invitation:
        invitation = await invitation_resolvers.revoke(
            info.context, invitation_id=node.key(ids.INVITATION, id)
        )
        return Invitation.from_model(invitation)

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
