"""How a job ends when the platform fails: passing failures are retried after a growing
backoff and resume where the last attempt stopped; refused credentials end it at once."""

from __future__ import annotations

from dataclasses import replace

from listbackup.deps import AppDeps, Deps
from listbackup.errors import InfrastructureError
from listbackup.integrations.errors import CredentialsRejected, PlatformUnavailable
from listbackup.models.connections import ConnectionStatus
from listbackup.models.jobs import JobStatus, JobTrigger, JobType
from listbackup.models.sources import SourceStatus
from listbackup.services import jobs, sources
from listbackup.store.pages import PageRequest
from tests.worker.helpers import (
    FAST,
    eventually,
    job_ended,
    objects_under,
    queue_counts,
    records_in,
    stored_source,
    worker_running,
)
from tests.worker.platform_fakes import (
    STRIPE_BASE,
    PlatformFake,
    behind,
    oauth_source,
    stripe_api,
)
from tests.worker.scripted import Script, Step, scripted

DEMO_TYPES = ("contacts", "companies", "deals")


async def log_of(deps: Deps, job_id: str) -> list[str]:
    page = await deps.store.job_logs.page(job_id, PageRequest(first=100, start=None))
    return [line.message for line in page.items]


async def test_a_passing_failure_is_retried_after_a_doubling_backoff_from_where_it_stopped(
    app_deps: AppDeps, deps: Deps
) -> None:
    script = Script(
        steps=[
            Step("companies", nth=1, after=1, error=PlatformUnavailable("Down for a bit.")),
            Step("companies", nth=2, after=2, error=InfrastructureError("S3 is slow.")),
        ]
    )
    source = await stored_source(
        deps, secret={"apiKey": "k-1", "recordsPerType": "250"}, data_types=DEMO_TYPES
    )
    job = await jobs.enqueue(deps, source, job_type=JobType.BACKUP, trigger=JobTrigger.MANUAL)

    async with worker_running(scripted(app_deps, script)):
        ended = await job_ended(deps, job.id, within=20)

    lines = await log_of(deps, job.id)
    logged = await deps.store.job_logs.page(job.id, PageRequest(first=100, start=None))
    at = {line.message.split(" (")[0]: line.at for line in logged.items}
    files = {f.data_type: f for f in await deps.store.backup_files.of_job(job.id)}
    assert ended.status is JobStatus.COMPLETED, ended
    assert ended.attempt == 3
    assert ended.error is None
    # Contacts were complete after attempt 1: never read again. Companies start over.
    assert script.fetched == ["contacts", "companies", "companies", "companies", "deals"]
    assert "Attempt 1 failed (Down for a bit.); retrying in 1 s." in lines
    assert "Attempt 2 failed (InfrastructureError); retrying in 2 s." in lines
    # The message was held for the backoff: attempt n+1 started no sooner.
    assert (at["Attempt 2 started"] - at["Attempt 1 failed"]).total_seconds() >= 0.9
    assert (at["Attempt 3 started"] - at["Attempt 2 failed"]).total_seconds() >= 1.9
    for data_type in DEMO_TYPES:
        records = await records_in(deps, files[data_type].key)
        assert len(records) == len({r["id"] for r in records}) == 250, data_type
    assert ended.progress.records_processed == 750
    assert ended.progress.bytes_written == sum(files[t].size_bytes for t in DEMO_TYPES)
    prefix = jobs.file_prefix(ended)
    assert await objects_under(deps, prefix) == sorted(f.key for f in files.values())
    assert await queue_counts(deps, JobType.BACKUP) == (0, 0)


async def test_after_the_last_attempt_the_job_fails_with_what_to_do(
    app_deps: AppDeps, deps: Deps
) -> None:
    script = Script(
        steps=[Step("contacts", nth=n, after=1, error=ConnectionResetError()) for n in (1, 2, 3)]
    )
    source = await stored_source(
        deps, secret={"apiKey": "k-1", "recordsPerType": "250"}, data_types=DEMO_TYPES
    )
    job = await jobs.enqueue(deps, source, job_type=JobType.BACKUP, trigger=JobTrigger.MANUAL)
    no_backoff = replace(FAST, retry_base_seconds=0)

    async with worker_running(scripted(app_deps, script), timing=no_backoff):
        ended = await job_ended(deps, job.id)

    after = await deps.store.sources.get(source.id)
    assert ended.status is JobStatus.FAILED
    assert ended.attempt == 3
    assert script.fetched == ["contacts"] * 3
    assert ended.error is not None
    assert "failed 3 times" in ended.error
    assert "run it again" in ended.error
    assert after is not None
    assert (after.active_job_id, after.last_job_id) == (None, job.id)
    assert after.stored_status is SourceStatus.ACTIVE  # the credentials were fine
    assert await deps.store.backup_files.of_job(job.id) == []
    # Settled for good: not left in the queue, nor sent to the dead-letter queue.
    assert await queue_counts(deps, JobType.BACKUP) == (0, 0)
    assert await queue_counts(deps, JobType.BACKUP, dead=True) == (0, 0)


async def test_refused_credentials_fail_the_job_at_once_and_mark_the_source(
    app_deps: AppDeps, deps: Deps
) -> None:
    refused = CredentialsRejected("The platform refused our credentials; reconnect it.")
    script = Script(steps=[Step("companies", after=1, error=refused)])
    source = await stored_source(
        deps, secret={"apiKey": "k-1", "recordsPerType": "250"}, data_types=DEMO_TYPES
    )
    job = await jobs.enqueue(deps, source, job_type=JobType.BACKUP, trigger=JobTrigger.MANUAL)

    async with worker_running(scripted(app_deps, script)):
        ended = await job_ended(deps, job.id)
        # The message goes once the job has ended: no other attempt.
        counts = await eventually(lambda: queue_counts(deps, JobType.BACKUP), lambda c: c == (0, 0))

    after = await deps.store.sources.get(source.id)
    fresh = app_deps.for_operation()
    connection = await fresh.loaders.connection.load(source.connection_id)
    health = await sources.health(fresh, after) if after else None
    assert ended.status is JobStatus.FAILED
    assert ended.attempt == 1
    assert script.fetched == ["contacts", "companies"]  # no retry
    assert ended.error is not None
    assert "reconnect" in ended.error
    assert counts == (0, 0)
    assert connection is not None
    assert connection.status is ConnectionStatus.EXPIRED
    assert connection.last_error == refused.message
    assert after is not None
    assert after.stored_status is SourceStatus.ERROR
    assert after.status_reason == ended.error
    assert health is not None
    assert health.status is SourceStatus.ERROR
    assert after.active_job_id is None


async def test_an_oauth_token_still_refused_after_one_refresh_fails_the_job_at_once(
    app_deps: AppDeps, deps: Deps
) -> None:
    fake = PlatformFake(stripe_api(), issues="token-the-platform-refuses-too")
    source = await oauth_source(deps, "stripe", ("customers", "products"))
    job = await jobs.enqueue(deps, source, job_type=JobType.BACKUP, trigger=JobTrigger.MANUAL)

    async with worker_running(behind(app_deps, "stripe", fake, base_url=STRIPE_BASE)):
        ended = await job_ended(deps, job.id)

    fresh = app_deps.for_operation()
    connection = await fresh.loaders.connection.load(source.connection_id)
    after = await deps.store.sources.get(source.id)
    assert ended.status is JobStatus.FAILED
    assert ended.attempt == 1
    assert fake.refreshes == 1
    assert len(fake.api.requests) == 2  # the stale token, then the refreshed one: no more
    assert connection is not None
    assert connection.status is ConnectionStatus.EXPIRED
    assert after is not None
    assert after.stored_status is SourceStatus.ERROR
