"""A message that exhausts its receives goes to the dead-letter queue, and the worker's
dead-letter loop fails its job: no job is left RUNNING forever."""

from __future__ import annotations

from datetime import timedelta

from listbackup.adapters.queues import MAX_RECEIVES
from listbackup.deps import AppDeps, Deps
from listbackup.models.jobs import JobStatus, JobTrigger, JobType
from listbackup.services import jobs
from tests.worker.helpers import (
    eventually,
    job_ended,
    queue_counts,
    stored_source,
    worker_running,
)


async def test_a_job_whose_workers_all_died_fails_from_the_dead_letter_queue(
    app_deps: AppDeps, deps: Deps
) -> None:
    source = await stored_source(
        deps, secret={"apiKey": "k-1", "recordsPerType": "20"}, data_types=("contacts",)
    )
    job = await jobs.enqueue(deps, source, job_type=JobType.BACKUP, trigger=JobTrigger.MANUAL)
    queues = deps.queues
    # Three workers each receive the message and die: the last one after claiming the
    # job, so it is RUNNING under a lease that nobody renews.
    for attempt in range(1, MAX_RECEIVES[JobType.BACKUP] + 1):
        [delivery] = await eventually(
            lambda: queues.receive(JobType.BACKUP, most=1, wait_seconds=0), bool
        )
        assert delivery.receive_count == attempt
        if delivery.receive_count == MAX_RECEIVES[JobType.BACKUP]:
            now = deps.now()
            claimed = await deps.store.jobs.claim(
                job.id,
                owner="died-on-the-last-attempt",
                now=now,
                lease_until=now + timedelta(seconds=1),
                attempt=delivery.receive_count,
            )
            assert claimed is not None
        await queues.hold(delivery, 0)

    async with worker_running(app_deps):
        ended = await job_ended(deps, job.id)
        dead = await eventually(
            lambda: queue_counts(deps, JobType.BACKUP, dead=True), lambda c: c == (0, 0)
        )

    after = await deps.store.sources.get(source.id)
    assert ended.status is JobStatus.FAILED
    assert ended.attempt == 3
    assert ended.error == (
        "No worker could finish this job after 3 attempts; "
        "run it again, and contact support if it keeps failing."
    )
    assert dead == (0, 0)  # the dead letter was dealt with and deleted
    assert await queue_counts(deps, JobType.BACKUP) == (0, 0)
    assert after is not None
    assert (after.active_job_id, after.last_job_id) == (None, job.id)
