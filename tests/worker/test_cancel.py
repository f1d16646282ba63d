"""cancelJob: a queued job ends at once and is skipped when delivered; a running one stops
within about two seconds, keeping no file; a job that ended cannot be cancelled."""

from __future__ import annotations

import time

import httpx

from listbackup.deps import AppDeps, Deps
from listbackup.models.jobs import JobStatus, JobTrigger, JobType
from listbackup.services import jobs
from listbackup.worker import Worker
from tests.helpers import Tenant, tenant
from tests.worker.helpers import (
    CANCEL,
    FINISHED,
    RUN,
    demo_source,
    eventually,
    finished,
    job_ended,
    job_now,
    job_of,
    key_of,
    objects_under,
    queue_counts,
    run_source,
    stored_source,
    uploads_under,
    worker_running,
)
from tests.worker.scripted import Script, Step, scripted


async def cancel(owner: Tenant, job_id: str) -> dict[str, object]:
    return await owner.call(CANCEL, id=job_id)


def conflict_reason(body: dict[str, object]) -> tuple[str, str]:
    errors = body["errors"]
    assert isinstance(errors, list), body
    extensions = errors[0]["extensions"]
    return extensions["code"], extensions["reason"]


async def test_a_queued_job_is_cancelled_at_once_and_skipped_when_delivered(
    client: httpx.AsyncClient, app_deps: AppDeps, deps: Deps
) -> None:
    ada = await tenant(client, "ada@example.com")
    source_id = await demo_source(ada, 20)
    job_id = await run_source(ada, source_id)

    cancelled = await cancel(ada, job_id)
    again = await cancel(ada, job_id)
    async with worker_running(app_deps):
        # The worker receives the message, finds the job ended and deletes it.
        await eventually(lambda: queue_counts(deps, JobType.BACKUP), lambda c: c == (0, 0))
        job = await job_of(ada, job_id)
    rerun = await ada.call(RUN, id=source_id)  # the source is free again

    assert cancelled == {
        "data": {"cancelJob": {"id": job_id, "status": "CANCELLED", "cancelRequested": False}}
    }
    assert conflict_reason(again) == ("CONFLICT", "JOB_FINISHED")
    assert job["status"] == "CANCELLED"
    assert job["startedAt"] is None  # never claimed: no attempt ran
    assert job["files"] == []
    assert job["logs"]["nodes"] == [{"level": "INFO", "message": "Cancelled before it started."}]
    assert job["source"]["lastJob"] == {"id": job_id}  # "else the last one"
    assert rerun["data"]["runSource"]["status"] == "QUEUED", rerun


async def test_a_running_job_stops_within_two_seconds_and_keeps_no_file(
    client: httpx.AsyncClient, worker: Worker, deps: Deps
) -> None:
    ada = await tenant(client, "ada@example.com")
    source_id = await demo_source(ada, 30_000)
    job_id = await run_source(ada, source_id)
    # Cancel it with one file complete and the next one being written.
    running = await eventually(
        lambda: job_of(ada, job_id),
        lambda j: j["progress"]["stepsCompleted"] >= 1 or j["status"] in FINISHED,
        within=30,
    )
    assert running["status"] == "RUNNING", running
    asked = time.monotonic()
    answer = await cancel(ada, job_id)
    job = await finished(ada, job_id, within=10)
    took = time.monotonic() - asked

    prefix = jobs.file_prefix(await job_now(deps, key_of(job_id)))
    assert answer == {
        "data": {"cancelJob": {"id": job_id, "status": "RUNNING", "cancelRequested": True}}
    }
    assert job["status"] == "CANCELLED"
    assert took < 2.5
    assert job["files"] == []
    assert await deps.store.backup_files.of_job(key_of(job_id)) == []
    assert await objects_under(deps, prefix) == []
    assert await uploads_under(deps, prefix) == []
    assert job["logs"]["nodes"][-1]["message"] == "Cancelled; no file was kept."
    assert conflict_reason(await cancel(ada, job_id)) == ("CONFLICT", "JOB_FINISHED")
    assert job["source"]["lastJob"] == {"id": job_id}


async def test_a_job_stuck_on_a_page_that_never_comes_is_stopped_all_the_same(
    app_deps: AppDeps, deps: Deps
) -> None:
    script = Script(steps=[Step("companies", after=1, hang=True)])
    source = await stored_source(
        deps,
        secret={"apiKey": "k-1", "recordsPerType": "250"},
        data_types=("contacts", "companies"),
    )
    job = await jobs.enqueue(deps, source, job_type=JobType.BACKUP, trigger=JobTrigger.MANUAL)

    async with worker_running(scripted(app_deps, script)):
        await eventually(lambda: _pages(script, "companies"), lambda n: n >= 1)
        asked = time.monotonic()
        await jobs.stop(deps, job.id)
        ended = await job_ended(deps, job.id, within=10)
        took = time.monotonic() - asked
        counts = await eventually(lambda: queue_counts(deps, JobType.BACKUP), lambda c: c == (0, 0))

    prefix = jobs.file_prefix(ended)
    assert ended.status is JobStatus.CANCELLED
    assert took < 2.5  # the worker stops it hard once it ignored the ask (1 s here)
    assert counts == (0, 0)
    assert await deps.store.backup_files.of_job(job.id) == []
    assert await objects_under(deps, prefix) == []
    assert await uploads_under(deps, prefix) == []


async def _pages(script: Script, data_type: str) -> int:
    return script.pages.get(data_type, 0)
