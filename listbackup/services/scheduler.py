"""The scheduler: queue each due run of every scheduled source, exactly once.

Due sources come from a sparse, sharded index by next run time, never a scan. Each run
is claimed by the same DynamoDB transaction that writes its job and moves the source's
next run on (conditional on the next run the scheduler saw), so any number of schedulers
may tick at once and each run is queued once. A scheduler that was down catches up with
one run per source, not one per missed slot: the next run is computed from now.
"""

from __future__ import annotations

import logging

from listbackup.deps import Deps
from listbackup.errors import ConflictError
from listbackup.models.jobs import JobTrigger, JobType
from listbackup.models.sources import Source
from listbackup.services import jobs, schedules
from listbackup.store.sources import DUE_SHARDS

log = logging.getLogger(__name__)

#: Due sources read per shard and tick; a tick reads on while shards are full.
BATCH = 100


async def tick(deps: Deps) -> int:
    """Queue every run due now; the number queued."""
    queued = 0
    for shard in range(DUE_SHARDS):
        while True:
            due = await deps.store.sources.due(str(shard), deps.now(), limit=BATCH)
            for source in due:
                queued += await _run_once(deps, source)
            if len(due) < BATCH:
                break
    return queued


async def _run_once(deps: Deps, source: Source) -> int:
    if source.schedule is None:  # the index lagged behind a change: nothing to run
        return 0
    following = schedules.next_run(source.schedule, deps.now())
    if source.active_job_id is None:
        try:
            await jobs.enqueue(
                deps,
                source,
                job_type=JobType.BACKUP,
                trigger=JobTrigger.SCHEDULE,
                next_run_at=following,
            )
        except ConflictError:
            pass  # another scheduler claimed this run, or a job started: see below
        else:
            return 1
    # A job is still active (a long backup): this run is skipped, not stacked.
    fresh = await deps.store.sources.get(source.id)
    still_due = fresh is not None and fresh.next_run_at == source.next_run_at
    if fresh is not None and still_due and fresh.active_job_id:
        await deps.store.sources.skip_run(fresh, following)
        log.info("source %s: run skipped, job %s still active", fresh.id, fresh.active_job_id)
    return 0
