from __future__ import annotations

from listbackup.context import Context
from listbackup.models.accounts import Account
from listbackup.models.jobs import BackupFile, Job, JobLog, JobStatus
from listbackup.models.pages import Page
from listbackup.models.sources import Source
from listbackup.services import jobs, sources


async def job(ctx: Context, *, job_id: str) -> Job:
    return await jobs.get(ctx.deps, principal=await ctx.principal(), job_id=job_id)


async def source_of(ctx: Context, *, job: Job) -> Source | None:
    """The job's source; None once it is deleted (its backups outlive it)."""
    found = await ctx.deps.loaders.source.load(job.source_id)
    if found is None:
        return None
    return await sources.get(ctx.deps, principal=await ctx.principal(), source_id=found.id)


async def for_account(
    ctx: Context,
    *,
    account: Account,
    first: int,
    after: str | None,
    status: JobStatus | None,
    source_id: str | None,
) -> Page[Job]:
    return await jobs.list_for_account(
        ctx.deps,
        principal=await ctx.principal(),
        account=account,
        first=first,
        after=after,
        status=status,
        source_id=source_id,
    )


async def for_source(
    ctx: Context, *, source: Source, first: int, after: str | None, status: JobStatus | None
) -> Page[Job]:
    return await jobs.list_for_source(
        ctx.deps,
        principal=await ctx.principal(),
        source=source,
        first=first,
        after=after,
        status=status,
    )


async def last_of(ctx: Context, *, source: Source) -> Job | None:
    return await jobs.last_of_source(ctx.deps, principal=await ctx.principal(), source=source)


async def logs(ctx: Context, *, job: Job, first: int, after: str | None) -> Page[JobLog]:
    return await jobs.logs(
        ctx.deps, principal=await ctx.principal(), job=job, first=first, after=after
    )


async def files(ctx: Context, *, job: Job) -> list[BackupFile]:
    return await jobs.files(ctx.deps, principal=await ctx.principal(), job=job)


async def download_url(ctx: Context, *, file: BackupFile) -> str:
    return await jobs.file_url(ctx.deps, file)


async def cancel(ctx: Context, *, job_id: str) -> Job:
    return await jobs.cancel(ctx.deps, principal=await ctx.principal(), job_id=job_id)
