from __future__ import annotations

from listbackup.context import Context
from listbackup.models.accounts import Account
from listbackup.models.connections import Connection
from listbackup.models.platforms import Platform
from listbackup.services import connections, oauth, platforms
from listbackup.services.connections import TestResult
from listbackup.services.oauth import OAuthStart
from listbackup.store.pages import Page


async def connection(ctx: Context, *, connection_id: str) -> Connection:
    return await connections.get(
        loaders=ctx.loaders, principal=await ctx.principal(), connection_id=connection_id
    )


async def platform_of(ctx: Context, *, connection: Connection) -> Platform:
    return await platforms.get(loaders=ctx.loaders, slug=connection.platform)


async def for_account(
    ctx: Context, *, account: Account, first: int, after: str | None, platform: str | None
) -> Page[Connection]:
    return await connections.list_for_account(
        loaders=ctx.loaders,
        principal=await ctx.principal(),
        account=account,
        first=first,
        after=after,
        platform=platform,
    )


async def create_api_key(
    ctx: Context, *, account_id: str, platform: str, name: str, credentials: object
) -> Connection:
    deps = ctx.deps
    return await connections.create_api_key(
        store=deps.store,
        loaders=ctx.loaders,
        platforms=deps.platforms,
        events=deps.events,
        principal=await ctx.principal(),
        account_id=account_id,
        platform_slug=platform,
        name=name,
        credentials=credentials,
        now=ctx.now(),
    )


async def update(
    ctx: Context, *, connection_id: str, name: str | None, credentials: object | None
) -> Connection:
    deps = ctx.deps
    return await connections.update(
        store=deps.store,
        loaders=ctx.loaders,
        platforms=deps.platforms,
        principal=await ctx.principal(),
        connection_id=connection_id,
        name=name,
        credentials=credentials,
        now=ctx.now(),
    )


async def test(ctx: Context, *, connection_id: str) -> TestResult:
    deps = ctx.deps
    return await connections.test(
        store=deps.store,
        loaders=ctx.loaders,
        platforms=deps.platforms,
        events=deps.events,
        principal=await ctx.principal(),
        connection_id=connection_id,
        now=ctx.now(),
    )


async def delete(ctx: Context, *, connection_id: str) -> Connection:
    return await connections.delete(
        store=ctx.deps.store,
        loaders=ctx.loaders,
        principal=await ctx.principal(),
        connection_id=connection_id,
    )


async def start_oauth(
    ctx: Context, *, account_id: str, platform: str, name: str | None, shop: str | None
) -> OAuthStart:
    deps = ctx.deps
    return await oauth.start(
        store=deps.store,
        loaders=ctx.loaders,
        platforms=deps.platforms,
        principal=await ctx.principal(),
        account_id=account_id,
        platform_slug=platform,
        name=name,
        shop=shop,
        public_url=deps.settings.public_url,
        now=ctx.now(),
    )


async def complete_oauth(ctx: Context, *, state: str, code: str) -> Connection:
    deps = ctx.deps
    return await oauth.complete(
        store=deps.store,
        loaders=ctx.loaders,
        platforms=deps.platforms,
        events=deps.events,
        state=state,
        code=code,
        public_url=deps.settings.public_url,
        now=ctx.now(),
        principal=await ctx.principal(),
    )


async def reconnect(ctx: Context, *, connection_id: str) -> OAuthStart:
    deps = ctx.deps
    return await oauth.reconnect(
        store=deps.store,
        loaders=ctx.loaders,
        platforms=deps.platforms,
        principal=await ctx.principal(),
        connection_id=connection_id,
        public_url=deps.settings.public_url,
        now=ctx.now(),
    )
