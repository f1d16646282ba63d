from __future__ import annotations

from listbackup.context import Context
from listbackup.models.accounts import Account
from listbackup.models.connections import Connection
from listbackup.models.pages import Page
from listbackup.models.platforms import Platform
from listbackup.services import connections, oauth, platforms
from listbackup.services.connections import TestResult
from listbackup.services.oauth import OAuthStart


async def connection(ctx: Context, *, connection_id: str) -> Connection:
    return await connections.get(
        ctx.deps, principal=await ctx.principal(), connection_id=connection_id
    )


async def platform_of(ctx: Context, *, connection: Connection) -> Platform:
    return await platforms.get(ctx.deps, slug=connection.platform)


async def for_account(
    ctx: Context, *, account: Account, first: int, after: str | None, platform: str | None
) -> Page[Connection]:
    return await connections.list_for_account(
        ctx.deps,
        principal=await ctx.principal(),
        account=account,
        first=first,
        after=after,
        platform=platform,
    )


async def create_api_key(
    ctx: Context, *, account_id: str, platform: str, name: str, credentials: object
) -> Connection:
    return await connections.create_api_key(
        ctx.deps,
        principal=await ctx.principal(),
        account_id=account_id,
        platform_slug=platform,
        name=name,
        credentials=credentials,
    )


async def update(
    ctx: Context, *, connection_id: str, name: str | None, credentials: object | None
) -> Connection:
    return await connections.update(
        ctx.deps,
        principal=await ctx.principal(),
        connection_id=connection_id,
        name=name,
        credentials=credentials,
    )


async def test(ctx: Context, *, connection_id: str) -> TestResult:
    return await connections.test(
        ctx.deps, principal=await ctx.principal(), connection_id=connection_id
    )


async def delete(ctx: Context, *, connection_id: str) -> Connection:
    return await connections.delete(
        ctx.deps, principal=await ctx.principal(), connection_id=connection_id
    )


async def start_oauth(
    ctx: Context, *, account_id: str, platform: str, name: str | None, shop: str | None
) -> OAuthStart:
    return await oauth.start(
        ctx.deps,
        principal=await ctx.principal(),
        account_id=account_id,
        platform_slug=platform,
        name=name,
        shop=shop,
    )


async def complete_oauth(ctx: Context, *, state: str, code: str) -> Connection:
    return await oauth.complete(ctx.deps, state=state, code=code, principal=await ctx.principal())


async def reconnect(ctx: Context, *, connection_id: str) -> OAuthStart:
    return await oauth.reconnect(
        ctx.deps, principal=await ctx.principal(), connection_id=connection_id
    )
