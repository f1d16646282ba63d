from __future__ import annotations

from listbackup.context import Context
from listbackup.models.accounts import Account, Membership, Permission, Role
from listbackup.models.pages import Page
from listbackup.models.users import User
from listbackup.services import members
from listbackup.services.members import Member


async def list_members(
    ctx: Context, *, account: Account, first: int, after: str | None
) -> Page[Member]:
    return await members.list_members(
        ctx.deps, principal=await ctx.principal(), account=account, first=first, after=after
    )


async def update(
    ctx: Context,
    *,
    account_id: str,
    user_id: str,
    role: Role,
    permissions: frozenset[Permission] | None,
) -> Member:
    return await members.update(
        ctx.deps,
        principal=await ctx.principal(),
        account_id=account_id,
        user_id=user_id,
        role=role,
        permissions=permissions,
    )


async def remove(ctx: Context, *, account_id: str, user_id: str) -> None:
    await members.remove(
        ctx.deps, principal=await ctx.principal(), account_id=account_id, user_id=user_id
    )


async def account_of(ctx: Context, *, membership: Membership, listed_on: str | None) -> Account:
    return await members.account_of(
        ctx.deps, principal=await ctx.principal(), membership=membership, listed_on=listed_on
    )


async def user_of(ctx: Context, *, membership: Membership) -> User:
    return await members.user_of(ctx.deps, membership=membership)
