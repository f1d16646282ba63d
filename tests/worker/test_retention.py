"""The retention sweep, with the clock moved on: files and manifests of jobs past their
source's retention go (job.files answers [], nothing is left under the job's prefix);
the newest successful backup of a live source stays; a deleted source's backups live
out their retention, then go; nothing else is deleted."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import httpx

from listbackup.deps import AppDeps, Deps
from listbackup.integrations.errors import PlatformRequestFailed
from listbackup.models.jobs import JobStatus, JobTrigger, JobType
from listbackup.services import jobs, retention
from listbackup.worker import Worker
from tests.helpers import Tenant, tenant
from tests.worker.helpers import (
    demo_source,
    finished,
    job_ended,
    job_now,
    key_of,
    objects_under,
    run_source,
    stored_source,
    worker_running,
)
from tests.worker.scripted import Script, Step, scripted

DELETE_SOURCE = "mutation($id: ID!) { deleteSource(id: $id) }"
FILES = (
    "query($id: ID!) { job(id: $id) { id status files { dataType } logs { nodes { message } } } }"
)


def at(deps: Deps, moment: datetime) -> Deps:
    return replace(deps, clock=lambda: moment)


async def files_of(owner: Tenant, job_id: str) -> list[str]:
    body = await owner.call(FILES, id=job_id)
    assert "errors" not in body, body
    assert body["data"]["job"]["logs"]["nodes"], "the job and its log stay"
    return sorted(f["dataType"] for f in body["data"]["job"]["files"])


async def prefix_of(deps: Deps, job_id: str) -> str:
    return jobs.file_prefix(await job_now(deps, key_of(job_id)))


async def test_the_sweep_deletes_what_is_past_retention_and_nothing_else(
    client: httpx.AsyncClient, worker: Worker, deps: Deps
) -> None:
    ada = await tenant(client, "ada@example.com")
    weekly = await demo_source(ada, 20, data_types=["contacts"], retention_days=7)
    deleted = await demo_source(ada, 20, data_types=["contacts"], retention_days=7)
    monthly = await demo_source(ada, 20, data_types=["contacts"], retention_days=30)
    old = await run_source(ada, weekly)
    gone_with_source = await run_source(ada, deleted)
    kept_longer = await run_source(ada, monthly)
    for job_id in (old, gone_with_source, kept_longer):
        assert (await finished(ada, job_id))["status"] == "COMPLETED"
    newest = await run_source(ada, weekly)
    assert (await finished(ada, newest))["status"] == "COMPLETED"
    assert "errors" not in await ada.call(DELETE_SOURCE, id=deleted)
    every = (old, gone_with_source, kept_longer, newest)
    prefixes = {job_id: await prefix_of(deps, job_id) for job_id in every}
    now = deps.now()

    early = await retention.sweep(at(deps, now + timedelta(days=3)))
    early_files = {job_id: await files_of(ada, job_id) for job_id in every}
    swept = await retention.sweep(at(deps, now + timedelta(days=8)))
    again = await retention.sweep(at(deps, now + timedelta(days=8)))

    both = ["contacts", "manifest"]
    assert early == 0
    assert early_files == dict.fromkeys(every, both)
    assert swept == 2
    assert again == 0
    for job_id in (old, gone_with_source):
        assert await files_of(ada, job_id) == []
        assert await objects_under(deps, prefixes[job_id]) == []
        assert (await job_now(deps, key_of(job_id))).status is JobStatus.COMPLETED
    for job_id in (newest, kept_longer):  # the newest of a live source; a longer retention
        assert await files_of(ada, job_id) == both
        assert len(await objects_under(deps, prefixes[job_id])) == 2


async def test_the_files_a_failed_job_completed_go_when_their_retention_ends(
    app_deps: AppDeps, deps: Deps
) -> None:
    script = Script(steps=[Step("companies", error=PlatformRequestFailed("Refused (400)."))])
    source = await stored_source(
        deps,
        secret={"apiKey": "k-1", "recordsPerType": "20"},
        data_types=("contacts", "companies"),
        retention_days=7,
    )
    job = await jobs.enqueue(deps, source, job_type=JobType.BACKUP, trigger=JobTrigger.MANUAL)
    async with worker_running(scripted(app_deps, script)):
        failed = await job_ended(deps, job.id)
    listed = [f.data_type for f in await deps.store.backup_files.of_job(job.id)]
    prefix = jobs.file_prefix(failed)
    stored = await objects_under(deps, prefix)

    swept = await retention.sweep(at(deps, deps.now() + timedelta(days=8)))

    assert failed.status is JobStatus.FAILED
    assert listed == ["contacts"]  # complete, listed: a partial backup the user may take
    assert stored == [f"{prefix}contacts.ndjson.gz"]
    assert swept == 1
    assert await deps.store.backup_files.of_job(job.id) == []
    assert await objects_under(deps, prefix) == []
