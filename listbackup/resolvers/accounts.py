from __future__ import annotations

from listbackup.context import Context
from listbackup.models.accounts import Access, Account
from listbackup.models.pages import Page
from listbackup.models.users import User
from listbackup.services import access, accounts
from listbackup.services.accounts import SettingsChanges


async def account(ctx: Context, *, account_id: str) -> Account:
    return await accounts.get(ctx.deps, principal=await ctx.principal(), account_id=account_id)


async def viewer_access(ctx: Context, *, account: Account) -> Access:
    principal = await ctx.principal()
    return await access.access(ctx.deps, user_id=principal.user_id, account=account)


async def parent(ctx: Context, *, account: Account) -> Account | None:
    return await accounts.parent(ctx.deps, principal=await ctx.principal(), account=account)


async def ancestors(ctx: Context, *, account: Account) -> list[Account]:
    return await accounts.ancestors(ctx.deps, principal=await ctx.principal(), account=account)


async def children(
    ctx: Context, *, account: Account, first: int, after: str | None
) -> Page[Account]:
    return await accounts.children(
        ctx.deps, principal=await ctx.principal(), account=account, first=first, after=after
    )


async def descendants(
    ctx: Context, *, account: Account, first: int, after: str | None
) -> Page[Account]:
    return await accounts.descendants(
        ctx.deps, principal=await ctx.principal(), account=account, first=first, after=after
    )


async def create(ctx: Context, *, name: str, parent_id: str, company: str | None) -> Account:
    return await accounts.create(
        ctx.deps, principal=await ctx.principal(), name=name, parent_id=parent_id, company=company
    )


async def update(
    ctx: Context,
    *,
    account_id: str,
    name: str | None,
    company: str | None,
    clear_company: bool,
    settings: SettingsChanges | None,
) -> Account:
    return await accounts.update(
        ctx.deps,
        principal=await ctx.principal(),
        account_id=account_id,
        name=name,
        company=company,
        clear_company=clear_company,
        settings=settings,
    )


async def move(ctx: Context, *, account_id: str, new_parent_id: str) -> Account:
    return await accounts.move(
        ctx.deps,
        principal=await ctx.principal(),
        account_id=account_id,
        new_parent_id=new_parent_id,
    )


async def delete(ctx: Context, *, account_id: str) -> Account:
    return await accounts.delete(ctx.deps, principal=await ctx.principal(), account_id=account_id)


async def switch(ctx: Context, *, account_id: str) -> User:
    return await accounts.switch(ctx.deps, principal=await ctx.principal(), account_id=account_id)
