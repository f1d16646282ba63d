from __future__ import annotations

from listbackup.context import Context
from listbackup.models.accounts import Account, Membership, Role
from listbackup.models.invitations import Invitation
from listbackup.models.pages import Page
from listbackup.models.users import User
from listbackup.services import invitations


async def invite(ctx: Context, *, account_id: str, email: str, role: Role) -> Invitation:
    return await invitations.invite(
        ctx.deps, principal=await ctx.principal(), account_id=account_id, email=email, role=role
    )


async def accept(ctx: Context, *, invitation_id: str) -> Membership:
    return await invitations.accept(
        ctx.deps, principal=await ctx.principal(), invitation_id=invitation_id
    )


async def revoke(ctx: Context, *, invitation_id: str) -> Invitation:
    return await invitations.revoke(
        ctx.deps, principal=await ctx.principal(), invitation_id=invitation_id
    )


async def for_account(
    ctx: Context, *, account: Account, first: int, after: str | None
) -> Page[Invitation]:
    return await invitations.list_for_account(
        ctx.deps, principal=await ctx.principal(), account=account, first=first, after=after
    )


async def account_of(ctx: Context, *, invitation: Invitation) -> Account:
    return await invitations.account(
        ctx.deps, principal=await ctx.principal(), invitation=invitation
    )


async def inviter_of(ctx: Context, *, invitation: Invitation) -> User | None:
    return await invitations.inviter(
        ctx.deps, principal=await ctx.principal(), invitation=invitation
    )
