from __future__ import annotations

from listbackup.context import Context
from listbackup.models.accounts import Account
from listbackup.models.connections import Connection
from listbackup.models.jobs import Job, JobType
from listbackup.models.pages import Page
from listbackup.models.platforms import Platform
from listbackup.models.sources import Source, SourceStatus
from listbackup.services import platforms, sources
from listbackup.services.sources import Changes, Health, ScheduleChoice


async def source(ctx: Context, *, source_id: str) -> Source:
    return await sources.get(ctx.deps, principal=await ctx.principal(), source_id=source_id)


async def health(ctx: Context, *, source: Source) -> Health:
    return await sources.health(ctx.deps, source)


async def platform_of(ctx: Context, *, source: Source) -> Platform:
    return await platforms.get(ctx.deps, slug=source.platform)


async def for_account(
    ctx: Context, *, account: Account, first: int, after: str | None, status: SourceStatus | None
) -> Page[Source]:
    return await sources.list_for_account(
        ctx.deps,
        principal=await ctx.principal(),
        account=account,
        first=first,
        after=after,
        status=status,
    )


async def for_connection(
    ctx: Context, *, connection: Connection, first: int, after: str | None
) -> Page[Source]:
    return await sources.list_for_connection(
        ctx.deps, principal=await ctx.principal(), connection=connection, first=first, after=after
    )


async def create(
    ctx: Context,
    *,
    connection_id: str,
    name: str,
    data_types: list[str] | None,
    schedule: ScheduleChoice | None,
    retention_days: int | None,
) -> Source:
    return await sources.create(
        ctx.deps,
        principal=await ctx.principal(),
        connection_id=connection_id,
        name=name,
        data_types=data_types,
        schedule=schedule,
        retention_days=retention_days,
    )


async def update(ctx: Context, *, source_id: str, changes: Changes) -> Source:
    return await sources.update(
        ctx.deps, principal=await ctx.principal(), source_id=source_id, changes=changes
    )


async def pause(ctx: Context, *, source_id: str) -> Source:
    return await sources.pause(ctx.deps, principal=await ctx.principal(), source_id=source_id)


async def resume(ctx: Context, *, source_id: str) -> Source:
    return await sources.resume(ctx.deps, principal=await ctx.principal(), source_id=source_id)


async def delete(ctx: Context, *, source_id: str) -> Source:
    return await sources.delete(ctx.deps, principal=await ctx.principal(), source_id=source_id)


async def run(ctx: Context, *, source_id: str, job_type: JobType) -> Job:
    return await sources.run(
        ctx.deps, principal=await ctx.principal(), source_id=source_id, job_type=job_type
    )
