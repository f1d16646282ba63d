"""SYNC after BACKUP reads only what changed since, where the platform can filter; the
cursor moves only when a job completes. SYNC jobs are served before BACKUP jobs.

Google Drive's fake filters files by ``modifiedTime`` (the connector's ``q``) over a list
this test owns, so records can change between two jobs; the demo platform's records are
fixed in 2024 and the other fakes do not filter.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from listbackup.deps import AppDeps, Deps
from listbackup.models.jobs import Job, JobStatus, JobTrigger, JobType
from listbackup.services import jobs
from tests.integrations.test_google_drive import BASE, DRIVES, FakeDrive, make_files
from tests.worker.helpers import (
    eventually,
    job_ended,
    records_in,
    stored_source,
    worker_running,
)
from tests.worker.platform_fakes import FRESH, PlatformFake, behind, oauth_source


async def run(deps: Deps, source_id: str, job_type: JobType) -> Job:
    source = await deps.store.sources.get(source_id)
    assert source is not None
    job = await jobs.enqueue(deps, source, job_type=job_type, trigger=JobTrigger.MANUAL)
    ended = await job_ended(deps, job.id)
    # The source hears of it (cursors, its active job cleared) just after the job ends.
    await eventually(
        lambda: deps.store.sources.get(source_id), lambda s: s is not None and not s.active_job_id
    )
    return ended


async def ids_in(deps: Deps, job: Job, data_type: str) -> list[str]:
    [file] = [f for f in await deps.store.backup_files.of_job(job.id) if f.data_type == data_type]
    return [str(r["id"]) for r in await records_in(deps, file.key)]


def drive_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


async def test_a_sync_reads_only_files_changed_since_the_last_completed_job(
    app_deps: AppDeps, deps: Deps
) -> None:
    files = make_files(30)
    drive = FakeDrive(files)
    fake = PlatformFake(drive.api)
    app = behind(app_deps, "google-drive", fake, base_url=BASE)
    source = await oauth_source(deps, "google-drive", ("drives", "files"), access_token=FRESH)

    async with worker_running(app):
        backup = await run(deps, source.id, JobType.BACKUP)
        cursor = (await deps.store.sources.get(source.id) or source).cursors["files"]
        changed = files[3:7]
        for file in changed:  # edited after the backup began reading
            file["modifiedTime"] = drive_time(datetime.fromisoformat(cursor) + timedelta(seconds=2))
        fake.refuse = ("/drive/v3/files",)
        failed = await run(deps, source.id, JobType.SYNC)
        after_failure = await deps.store.sources.get(source.id)
        fake.refuse = ()
        sync = await run(deps, source.id, JobType.SYNC)
        after_sync = await deps.store.sources.get(source.id)

    assert backup.status is JobStatus.COMPLETED
    assert await ids_in(deps, backup, "files") == [f["id"] for f in make_files(30)]
    assert failed.status is JobStatus.FAILED
    assert after_failure is not None
    assert after_failure.cursors["files"] == cursor  # a failed job does not move it
    assert sync.status is JobStatus.COMPLETED, sync
    assert sync.cursors_from["files"] == cursor
    assert await ids_in(deps, sync, "files") == [f["id"] for f in changed]
    assert await ids_in(deps, sync, "drives") == [d["id"] for d in DRIVES]  # no filter
    listed = [r for r in drive.api.requests if r.url.path.endswith("/files")]
    assert "q" not in listed[0].url.params  # the backup read everything
    assert listed[-1].url.params["q"].startswith("modifiedTime > '")
    assert after_sync is not None
    assert after_sync.cursors["files"] > cursor
    assert after_sync.cursors["files"] == sync.cursors_to["files"]


async def test_sync_jobs_are_served_before_backup_jobs(app_deps: AppDeps, deps: Deps) -> None:
    secret = {"apiKey": "k-1", "recordsPerType": "20"}
    first = await stored_source(deps, secret=secret, data_types=("contacts",))
    second = await stored_source(deps, secret=secret, data_types=("contacts",))
    backup = await jobs.enqueue(deps, first, job_type=JobType.BACKUP, trigger=JobTrigger.MANUAL)
    sync = await jobs.enqueue(deps, second, job_type=JobType.SYNC, trigger=JobTrigger.MANUAL)

    async with worker_running(app_deps, concurrency=1):
        ran_backup = await job_ended(deps, backup.id)
        ran_sync = await job_ended(deps, sync.id)

    assert ran_sync.started_at is not None
    assert ran_backup.started_at is not None
    assert ran_sync.started_at < ran_backup.started_at  # queued later, served first
