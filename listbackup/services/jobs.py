"""Backup jobs as users see them: run a source, cancel a job, read jobs, logs and files.

A job belongs to its source's account: anyone who sees the account sees its jobs;
MANAGE_INTEGRATIONS runs and cancels them; VIEW_ALL_DATA sees and downloads the files.
An invisible job answers exactly like a missing one. Running a job writes it and marks
it as the source's one active job in one transaction, then sends it to the queue of its
type; the worker (services/backups.py) does the rest.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import asdict
from datetime import datetime, timedelta

from listbackup import ids
from listbackup.adapters.objects import download_url
from listbackup.deps import Deps
from listbackup.errors import ConflictError
from listbackup.models.accounts import Account, Permission
from listbackup.models.jobs import (
    BackupFile,
    Job,
    JobLog,
    JobStatus,
    JobTrigger,
    JobType,
    LogLevel,
)
from listbackup.models.pages import Page
from listbackup.models.sources import Source
from listbackup.models.users import Principal
from listbackup.services import access

log = logging.getLogger(__name__)

SOURCE = "listbackup.jobs"
NO_JOB = "No job with that id."
DOWNLOAD_URL_SECONDS = 900


def file_prefix(job: Job) -> str:
    return f"accounts/{job.account_id}/sources/{job.source_id}/jobs/{job.id}/"


async def get(deps: Deps, *, principal: Principal, job_id: str) -> Job:
    job = await deps.loaders.job.load(job_id) if job_id else None
    return await access.visible(deps, principal=principal, item=job, missing=NO_JOB)


async def enqueue(
    deps: Deps,
    source: Source,
    *,
    job_type: JobType,
    trigger: JobTrigger,
    next_run_at: datetime | None = None,
) -> Job:
    """Write a QUEUED job, make it the source's active one (with ``next_run_at``: also
    claim the scheduled run) in one transaction, then queue it. ConflictError when the
    source has an active job (or, for a scheduled run, another scheduler won it)."""
    now = deps.now()
    job = Job(
        id=str(uuid.uuid4()),
        source_id=source.id,
        account_id=source.account_id,
        connection_id=source.connection_id,
        platform=source.platform,
        type=job_type,
        trigger=trigger,
        status=JobStatus.QUEUED,
        data_types=source.data_types,
        retention_days=source.retention_days,
        created_at=now,
        cursors_from=dict(source.cursors) if job_type is JobType.SYNC else {},
    )
    await deps.store.transact(
        [
            deps.store.jobs.put_new(job),
            deps.store.sources.start_job(source, job.id, next_run_at=next_run_at),
        ]
    )
    await deps.queues.send(job_type, job_id=job.id, source_id=source.id, attempt=1)
    deps.loaders.job.prime(job.id, job)
    await publish(deps, job, "Job Queued")
    return job


async def cancel(deps: Deps, *, principal: Principal, job_id: str) -> Job:
    """A queued job is CANCELLED at once; a running one is asked to stop, and does within
    about two seconds (the answer is the job as it is then: RUNNING, cancel requested).
    CONFLICT for a job that already ended."""
    job = await get(deps, principal=principal, job_id=job_id)
    await access.require(
        deps,
        principal=principal,
        account_id=job.account_id,
        permission=Permission.MANAGE_INTEGRATIONS,
    )
    stopped = await stop(deps, job.id)
    if stopped is None:
        raise ConflictError("This job has already ended.", reason="JOB_FINISHED")
    deps.loaders.job.clear(stopped.id).prime(stopped.id, stopped)
    return stopped


async def stop(deps: Deps, job_id: str) -> Job | None:
    """Cancel a queued job, or ask its worker to stop a running one; None if it ended."""
    cancelled = await deps.store.jobs.cancel_queued(job_id, now=deps.now())
    if cancelled is not None:
        await deps.store.sources.job_ended(
            cancelled.source_id, cancelled.id, changes={"lastJobId": cancelled.id}
        )
        await publish(deps, cancelled, "Job Cancelled")
        await log_line(deps, cancelled, LogLevel.INFO, "Cancelled before it started.")
        return cancelled
    return await deps.store.jobs.request_cancel(job_id)


def already_active(job_id: str) -> ConflictError:
    return ConflictError(
        "This source already has a job queued or running.",
        reason="JOB_ALREADY_ACTIVE",
        jobId=ids.encode(ids.JOB, job_id),
    )


async def list_for_account(
    deps: Deps,
    *,
    principal: Principal,
    account: Account,
    first: int,
    after: str | None,
    status: JobStatus | None,
    source_id: str | None,
) -> Page[Job]:
    """The account's jobs, newest first (of one status, of one source)."""
    await access.visible_account(deps, principal=principal, account_id=account.id)
    if source_id is not None:
        source = await deps.loaders.source.load(source_id) if source_id else None
        # A source of another account lists nothing here, whatever it is.
        if source is None or source.account_id != account.id:
            return Page(items=(), end_cursor=None)
        return await deps.loaders.jobs_by_source.load(((source_id, status), first, after))
    return await deps.loaders.jobs_by_account.load(((account.id, status), first, after))


async def list_for_source(
    deps: Deps,
    *,
    principal: Principal,
    source: Source,
    first: int,
    after: str | None,
    status: JobStatus | None,
) -> Page[Job]:
    await access.visible_account(deps, principal=principal, account_id=source.account_id)
    return await deps.loaders.jobs_by_source.load(((source.id, status), first, after))


async def last_of_source(deps: Deps, *, principal: Principal, source: Source) -> Job | None:
    job_id = source.active_job_id or source.last_job_id
    if job_id is None:
        return None
    await access.visible_account(deps, principal=principal, account_id=source.account_id)
    return await deps.loaders.job.load(job_id)


async def logs(
    deps: Deps, *, principal: Principal, job: Job, first: int, after: str | None
) -> Page[JobLog]:
    await access.visible_account(deps, principal=principal, account_id=job.account_id)
    return await deps.loaders.job_logs.load((job.id, first, after))


async def files(deps: Deps, *, principal: Principal, job: Job) -> list[BackupFile]:
    """The job's complete files (and its manifest); needs VIEW_ALL_DATA. Expired files
    are gone: none are listed."""
    await access.require(
        deps, principal=principal, account_id=job.account_id, permission=Permission.VIEW_ALL_DATA
    )
    if job.files_expired_at is not None:
        return []
    found = await deps.loaders.files_by_job.load(job.id)
    order = {data_type: n for n, data_type in enumerate(job.data_types)}
    # In the order the job read them; the manifest, written last, last.
    return sorted(found, key=lambda f: order.get(f.data_type, len(order)))


async def file_url(deps: Deps, file: BackupFile) -> str:
    """A presigned GET of a file the caller was allowed to list (see :func:`files`)."""
    return await download_url(
        deps.clients.s3,
        bucket=deps.settings.bucket,
        key=file.key,
        expires_seconds=DOWNLOAD_URL_SECONDS,
    )


async def publish(deps: Deps, job: Job, detail_type: str, message: str | None = None) -> None:
    """A job event on the bus: ids, status, progress and the job's sequence number, so
    subscribers drop duplicates and reordered progress. Never a credential."""
    await deps.events.publish(
        SOURCE,
        detail_type,
        {
            "jobId": job.id,
            "sourceId": job.source_id,
            "accountId": job.account_id,
            "type": job.type.value,
            "status": job.status.value,
            "attempt": job.attempt,
            "progress": {**asdict(job.progress), "percent": job.progress.percent},
            "message": message if message is not None else job.error,
            "seq": job.seq,
            "at": deps.now(),
        },
    )


async def log_line(deps: Deps, job: Job, level: LogLevel, message: str) -> None:
    """A line in the job's log, kept as long as its files."""
    now = deps.now()
    await deps.store.job_logs.add(
        job.id,
        level,
        message,
        at=now,
        expires_at=now + timedelta(days=job.retention_days + 1),
    )
