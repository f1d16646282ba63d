"""Real worker processes (``listbackup worker``): one killed mid-job gives it up within a
lease and another resumes it; one told to stop finishes its data type, gives the job
back and exits 0. Either way the final files hold every record exactly once."""

from __future__ import annotations

import base64
import os
import signal

import httpx

from listbackup.adapters.objects import MIN_PART_SIZE, NdjsonWriter
from listbackup.config import Settings
from listbackup.deps import AppDeps, Deps
from listbackup.models.jobs import Job, JobStatus, JobTrigger, JobType
from listbackup.services import jobs
from tests.helpers import tenant
from tests.worker.helpers import (
    demo_source,
    eventually,
    exit_code,
    job_ended,
    job_now,
    key_of,
    objects_under,
    queue_counts,
    records_in,
    run_source,
    stored_source,
    uploads_under,
    worker_process,
    worker_running,
)

RECORDS = 50_000  # per data type: long enough to have a middle to hit (2.4 µs a demo record)
DEMO_TYPES = ("contacts", "companies", "deals")


async def every_record_once(deps: Deps, job: Job) -> None:
    files = {f.data_type: f for f in await deps.store.backup_files.of_job(job.id)}
    assert set(files) == {*DEMO_TYPES, "manifest"}
    for data_type in DEMO_TYPES:
        records = await records_in(deps, files[data_type].key)
        assert len(records) == RECORDS, data_type
        assert len({r["id"] for r in records}) == RECORDS, data_type
    assert job.progress.records_processed == 3 * RECORDS
    prefix = jobs.file_prefix(job)
    assert await objects_under(deps, prefix) == sorted(f.key for f in files.values())
    assert await uploads_under(deps, prefix) == []


async def test_a_killed_worker_s_job_is_resumed_by_another_once_its_lease_lapses(
    client: httpx.AsyncClient, settings: Settings, app_deps: AppDeps, deps: Deps
) -> None:
    async with worker_process(settings, lease_seconds="2") as process:
        ada = await tenant(client, "ada@example.com")  # while the process starts
        job_id = key_of(await run_source(ada, await demo_source(ada, RECORDS)))
        midway = await eventually(
            lambda: job_now(deps, job_id),
            lambda j: bool(j.completed) or j.status.finished,
            within=30,
        )
        process.kill()
        assert await exit_code(process) == -signal.SIGKILL
    assert midway.status is JobStatus.RUNNING, midway
    first_file = {f.data_type: f for f in await deps.store.backup_files.of_job(job_id)}
    orphaned = await job_now(deps, job_id)

    async with worker_running(app_deps):
        ended = await job_ended(deps, job_id, within=40)

    files = {f.data_type: f for f in await deps.store.backup_files.of_job(job_id)}
    assert orphaned.status is JobStatus.RUNNING  # nobody gave it back: its lease lapses
    assert ended.status is JobStatus.COMPLETED, ended
    assert ended.attempt == 2
    # What the dead worker had completed is kept, not read again.
    for data_type in orphaned.completed:
        assert files[data_type] == first_file[data_type]
    await every_record_once(deps, ended)
    assert await queue_counts(deps, JobType.BACKUP) == (0, 0)


async def test_sigterm_drains_the_worker_and_another_completes_the_job(
    client: httpx.AsyncClient, settings: Settings, app_deps: AppDeps, deps: Deps
) -> None:
    async with worker_process(settings, grace_seconds="15") as process:
        ada = await tenant(client, "ada@example.com")
        job_id = key_of(await run_source(ada, await demo_source(ada, RECORDS)))
        # Told to stop in the middle of its first data type...
        reading = await eventually(
            lambda: job_now(deps, job_id),
            lambda j: j.progress.records_processed > 0 or j.status.finished,
            within=30,
        )
        process.terminate()
        code = await exit_code(process, within=30)
    released = await job_now(deps, job_id)
    waiting = await queue_counts(deps, JobType.BACKUP)

    async with worker_running(app_deps):
        ended = await job_ended(deps, job_id, within=30)

    assert reading.status is JobStatus.RUNNING
    assert reading.completed == ()
    assert code == 0
    # ...it finished that data type, then gave the job back: queued, its message visible.
    assert released.status is JobStatus.QUEUED
    assert released.completed == ("contacts",)
    assert waiting == (1, 0)
    assert ended.status is JobStatus.COMPLETED
    assert ended.attempt == 2
    await every_record_once(deps, ended)


async def test_the_next_attempt_aborts_the_upload_a_dead_worker_left_half_done(
    app_deps: AppDeps, deps: Deps
) -> None:
    """The demo's files are too small for a part of their own (5 MiB), so the killed
    process above never had an upload open; this is what one that had leaves behind."""
    source = await stored_source(
        deps, secret={"apiKey": "k-1", "recordsPerType": "300"}, data_types=DEMO_TYPES
    )
    job = await jobs.enqueue(deps, source, job_type=JobType.BACKUP, trigger=JobTrigger.MANUAL)
    prefix = jobs.file_prefix(job)
    dead = NdjsonWriter(
        deps.clients.s3,
        bucket=deps.settings.bucket,
        key=f"{prefix}contacts.ndjson.gz",
        part_size=MIN_PART_SIZE,
        level=1,
    )
    # Random bytes do not compress: 5.6 MiB of them fill one part.
    noise = [{"id": n, "blob": base64.b64encode(os.urandom(4096)).decode()} for n in range(1440)]
    await dead.write(noise)  # a part is uploaded; then the process "dies": no abort
    left = await uploads_under(deps, prefix)

    async with worker_running(app_deps):
        ended = await job_ended(deps, job.id)

    files = {f.data_type: f for f in await deps.store.backup_files.of_job(job.id)}
    assert left == [f"{prefix}contacts.ndjson.gz"]
    assert ended.status is JobStatus.COMPLETED
    assert await uploads_under(deps, prefix) == []
    records = await records_in(deps, files["contacts"].key)
    assert [r["id"] for r in records] == [f"contact-{n:07d}" for n in range(300)]
