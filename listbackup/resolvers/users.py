from __future__ import annotations

from listbackup.context import Context
from listbackup.models.accounts import Account, Membership
from listbackup.models.invitations import Invitation
from listbackup.models.pages import Page
from listbackup.models.users import ProfileChanges, User
from listbackup.services import users


async def viewer(ctx: Context) -> User:
    return (await ctx.principal()).user


async def update_profile(ctx: Context, *, changes: ProfileChanges) -> User:
    return await users.update_profile(ctx.deps, principal=await ctx.principal(), changes=changes)


async def user(ctx: Context, *, user_id: str) -> User:
    return await users.get(ctx.deps, principal=await ctx.principal(), user_id=user_id)


async def current_account(ctx: Context, *, user: User) -> Account | None:
    return await users.current_account(ctx.deps, principal=await ctx.principal(), user=user)


async def memberships(
    ctx: Context, *, user: User, first: int, after: str | None
) -> Page[Membership]:
    return await users.memberships(
        ctx.deps, principal=await ctx.principal(), user=user, first=first, after=after
    )


async def pending_invitations(ctx: Context, *, user: User) -> list[Invitation]:
    return await users.pending_invitations(ctx.deps, principal=await ctx.principal(), user=user)
