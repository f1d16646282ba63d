"""The retention sweep: delete the files of jobs older than their source's retention.

The files of a live source's newest successful backup are always kept; those of a
deleted source live out their retention (a deletion hold), then go. Jobs whose files
are due come from a sparse, sharded index by their keep-until time; only the files and
manifest are deleted, and the job is marked: nothing else is ever deleted.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from listbackup.adapters.objects import delete_prefix
from listbackup.deps import Deps
from listbackup.models.jobs import Job, JobStatus
from listbackup.services import jobs
from listbackup.store.jobs import RETENTION_SHARDS
from listbackup.store.pages import PageRequest

log = logging.getLogger(__name__)

BATCH = 100
#: How soon the newest backup of a source is looked at again (a newer one may replace it).
RECHECK = timedelta(days=1)


async def sweep(deps: Deps) -> int:
    """Delete what is due now; the number of jobs whose files went."""
    removed = 0
    for shard in range(RETENTION_SHARDS):
        for job in await deps.store.jobs.past_retention(shard, deps.now(), limit=BATCH):
            removed += await _expire(deps, job)
    return removed


async def _expire(deps: Deps, job: Job) -> int:
    now = deps.now()
    source = await deps.store.sources.get(job.source_id)
    if source is not None and job.finished_at is not None:
        # The source's retention may have grown since the job finished.
        keep = job.finished_at + timedelta(days=source.retention_days)
        if keep > now:
            await deps.store.jobs.expire_files(job.id, now=now, keep_until=keep)
            return 0
        if await _newest_backup(deps, source.id) == job.id:
            await deps.store.jobs.expire_files(job.id, now=now, keep_until=now + RECHECK)
            return 0
    deleted = await delete_prefix(
        deps.clients.s3, bucket=deps.settings.bucket, prefix=jobs.file_prefix(job)
    )
    await deps.store.backup_files.delete_of_job(job.id)
    await deps.store.jobs.expire_files(job.id, now=now)
    log.info("job %s: %d objects past retention deleted", job.id, deleted)
    return 1


async def _newest_backup(deps: Deps, source_id: str) -> str | None:
    page = await deps.store.jobs.list_by_source(
        (source_id, JobStatus.COMPLETED), PageRequest(first=1, start=None)
    )
    return page.items[0].id if page.items else None
