from __future__ import annotations

from listbackup.context import Context
from listbackup.models.accounts import Account, Membership, Role
from listbackup.models.invitations import Invitation
from listbackup.models.users import User
from listbackup.services import invitations
from listbackup.store.pages import Page


async def invite(ctx: Context, *, account_id: str, email: str, role: Role) -> Invitation:
    deps = ctx.deps
    return await invitations.invite(
        store=deps.store,
        loaders=ctx.loaders,
        mailer=deps.mailer,
        principal=await ctx.principal(),
        account_id=account_id,
        email=email,
        role=role,
        now=ctx.now(),
        app_url=deps.settings.app_url,
    )


async def accept(ctx: Context, *, invitation_id: str) -> Membership:
    return await invitations.accept(
        store=ctx.deps.store,
        loaders=ctx.loaders,
        principal=await ctx.principal(),
        invitation_id=invitation_id,
        now=ctx.now(),
    )


async def revoke(ctx: Context, *, invitation_id: str) -> Invitation:
    return await invitations.revoke(
        store=ctx.deps.store,
        loaders=ctx.loaders,
        principal=await ctx.principal(),
        invitation_id=invitation_id,
        now=ctx.now(),
    )


async def for_account(
    ctx: Context, *, account: Account, first: int, after: str | None
) -> Page[Invitation]:
    return await invitations.list_for_account(
        loaders=ctx.loaders,
        principal=await ctx.principal(),
        account=account,
        first=first,
        after=after,
    )


async def account_of(ctx: Context, *, invitation: Invitation) -> Account:
    return await invitations.account(
        loaders=ctx.loaders, principal=await ctx.principal(), invitation=invitation
    )


async def inviter_of(ctx: Context, *, invitation: Invitation) -> User | None:
    return await invitations.inviter(
        loaders=ctx.loaders, principal=await ctx.principal(), invitation=invitation
    )
