"""What the worker tests share: sources over the API or straight through the stores, a
worker in the test's loop or in a subprocess, and looks at the job, queue and bucket."""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager, suppress
from datetime import UTC, datetime
from typing import Any, TypeVar

from listbackup import ids
from listbackup.adapters.queues import QUEUE_OF
from listbackup.config import Settings
from listbackup.deps import AppDeps, Deps
from listbackup.models.connections import Connection, ConnectionStatus
from listbackup.models.jobs import Job, JobType
from listbackup.models.platforms import AuthType
from listbackup.models.sources import Source
from listbackup.resources import SPEC
from listbackup.worker import Timing, Worker
from tests.helpers import Tenant

T = TypeVar("T")

DEMO = ids.encode(ids.PLATFORM, "demo")
CONNECT = """
mutation($account: ID!, $records: String!, $key: String!) {
  createApiKeyConnection(input: {accountId: $account, platformId: "UGxhdGZvcm06ZGVtbw",
    name: "Demo", credentials: {apiKey: $key, recordsPerType: $records}}) { id }
}
"""
CREATE = """
mutation($connection: ID!, $dataTypes: [String!], $retention: Int) {
  createSource(input: {connectionId: $connection, name: "Demo", dataTypes: $dataTypes,
                       retentionDays: $retention}) { id }
}
"""
RUN = """
mutation($id: ID!, $type: JobType) { runSource(id: $id, type: $type) { id status trigger attempt } }
"""
CANCEL = "mutation($id: ID!) { cancelJob(id: $id) { id status cancelRequested } }"
JOB = """
query($id: ID!) { job(id: $id) {
  id status attempt error type trigger startedAt finishedAt cancelRequested
  progress { percent currentStep stepsCompleted stepsTotal recordsProcessed bytesWritten }
  files { key dataType recordCount sizeBytes sha256 downloadUrl }
  logs { nodes { level message } }
  source { id status statusReason lastRunAt lastJob { id } }
} }
"""
FINISHED = ("COMPLETED", "FAILED", "CANCELLED")
#: A worker in the test's loop, fast: five-second leases, heartbeats five times a second.
FAST = Timing(
    lease_seconds=5,
    heartbeat_seconds=0.2,
    poll_seconds=1,
    cancel_seconds=1.0,
    grace_seconds=3.0,
    scheduler_seconds=0.5,
    dead_letter_seconds=0.5,
    retention_seconds=3600,
    retry_base_seconds=1,
)


# ---------------------------------------------------------------- over the API


async def demo_source(
    owner: Tenant,
    records: int,
    *,
    data_types: Sequence[str] | None = None,
    retention_days: int | None = None,
    key: str = "k-123",
) -> str:
    """A demo connection and a source of it (every data type unless told), over the API."""
    made = await owner.call(CONNECT, account=owner.root, records=str(records), key=key)
    assert "errors" not in made, made
    connection = made["data"]["createApiKeyConnection"]["id"]
    source = await owner.call(
        CREATE, connection=connection, dataTypes=data_types, retention=retention_days
    )
    assert "errors" not in source, source
    source_id: str = source["data"]["createSource"]["id"]
    return source_id


async def run_source(owner: Tenant, source_id: str, job_type: str = "BACKUP") -> str:
    started = await owner.call(RUN, id=source_id, type=job_type)
    assert "errors" not in started, started
    job_id: str = started["data"]["runSource"]["id"]
    return job_id


async def job_of(owner: Tenant, job_id: str) -> dict[str, Any]:
    body = await owner.call(JOB, id=job_id)
    assert "errors" not in body, body
    job: dict[str, Any] = body["data"]["job"]
    return job


async def finished(owner: Tenant, job_id: str, *, within: float = 30) -> dict[str, Any]:
    async with asyncio.timeout(within):
        while True:
            job = await job_of(owner, job_id)
            if job["status"] in FINISHED:
                return job
            await asyncio.sleep(0.2)


def key_of(global_id: str) -> str:
    """The table key behind a GraphQL id."""
    decoded = ids.decode(global_id)
    assert decoded is not None, global_id
    return decoded[1]


# ---------------------------------------------------------------- through the stores


async def stored_source(
    deps: Deps,
    *,
    platform: str = "demo",
    secret: Mapping[str, Any],
    data_types: Sequence[str],
    auth_type: AuthType = AuthType.API_KEY,
    retention_days: int = 30,
    account_id: str | None = None,
) -> Source:
    """A connection (its secret sealed in the vault) and a source of it, written through
    the stores as the API would: for tests of the worker that need no user."""
    now = deps.now()
    account = account_id or f"acct-{uuid.uuid4().hex[:8]}"
    connection = Connection(
        id=str(uuid.uuid4()),
        account_id=account,
        platform=platform,
        name=platform.title(),
        auth_type=auth_type,
        status=ConnectionStatus.ACTIVE,
        created_at=now,
    )
    sealed = await deps.store.vault.seal(
        account_id=account, connection_id=connection.id, secret=secret
    )
    source = Source(
        id=str(uuid.uuid4()),
        account_id=account,
        connection_id=connection.id,
        platform=platform,
        name=platform.title(),
        data_types=tuple(data_types),
        retention_days=retention_days,
        created_at=now,
    )
    await deps.store.transact(
        [
            deps.store.connections.put_new(connection),
            deps.store.vault.put(sealed),
            deps.store.sources.put_new(source),
        ]
    )
    return source


async def eventually(
    look: Callable[[], Awaitable[T]],
    done: Callable[[T], bool],
    *,
    within: float = 20,
    every: float = 0.1,
) -> T:
    """Look every ``every`` seconds until ``done`` says yes; the last look."""
    async with asyncio.timeout(within):
        while True:
            seen = await look()
            if done(seen):
                return seen
            await asyncio.sleep(every)


async def job_now(deps: Deps, job_id: str) -> Job:
    job = await deps.store.jobs.get(job_id)
    assert job is not None, job_id
    return job


async def job_ended(deps: Deps, job_id: str, *, within: float = 20) -> Job:
    return await eventually(
        lambda: job_now(deps, job_id), lambda j: j.status.finished, within=within
    )


@asynccontextmanager
async def worker_running(
    app: AppDeps, *, timing: Timing = FAST, concurrency: int = 2
) -> AsyncIterator[Worker]:
    """A worker in the test's loop; stopped (and drained) on the way out."""
    worker = Worker(app, concurrency=concurrency, timing=timing)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        yield worker
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


# ---------------------------------------------------------------- queues and bucket


async def queue_counts(deps: Deps, job_type: JobType, *, dead: bool = False) -> tuple[int, int]:
    """(waiting, in flight) messages of a job queue, as SQS counts them."""
    queue = next(q for q in SPEC.queues if q.name == QUEUE_OF[job_type])
    names = deps.settings.names
    name = names.dead_letter_queue(queue) if dead else names.queue(queue)
    sqs = deps.clients.sqs
    url = (await sqs.get_queue_url(QueueName=name))["QueueUrl"]
    found = await sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )
    attributes = found["Attributes"]
    return (
        int(attributes["ApproximateNumberOfMessages"]),
        int(attributes["ApproximateNumberOfMessagesNotVisible"]),
    )


async def objects_under(deps: Deps, prefix: str) -> list[str]:
    """Every object version and delete marker under ``prefix``: what S3 still holds."""
    found = await deps.clients.s3.list_object_versions(Bucket=deps.settings.bucket, Prefix=prefix)
    return sorted(v["Key"] for v in [*found.get("Versions", []), *found.get("DeleteMarkers", [])])


async def uploads_under(deps: Deps, prefix: str) -> list[str]:
    """Multipart uploads begun under ``prefix`` and neither completed nor aborted."""
    found = await deps.clients.s3.list_multipart_uploads(Bucket=deps.settings.bucket, Prefix=prefix)
    return sorted(u["Key"] for u in found.get("Uploads", []))


async def records_in(deps: Deps, key: str) -> list[dict[str, Any]]:
    """The records of one backup file, as a customer would read them."""
    got = await deps.clients.s3.get_object(Bucket=deps.settings.bucket, Key=key)
    body = await got["Body"].read()
    return [json.loads(line) for line in gzip.decompress(body).decode().splitlines()]


def iso_now() -> str:
    return datetime.now(UTC).isoformat()


# ---------------------------------------------------------------- a worker process


def worker_env(settings: Settings, **timing: str) -> dict[str, str]:
    """The environment of ``listbackup worker`` against this test session's local AWS."""
    assert settings.cognito_user_pool_id
    assert settings.cognito_client_id
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # compiled once, not at every start
    env |= {
        "LISTBACKUP_STAGE": "test",
        "LISTBACKUP_COGNITO_USER_POOL_ID": settings.cognito_user_pool_id,
        "LISTBACKUP_COGNITO_CLIENT_ID": settings.cognito_client_id,
        "LISTBACKUP_LOG_LEVEL": "WARNING",
        "LISTBACKUP_WORKER_HEARTBEAT_SECONDS": "0.2",
        "LISTBACKUP_WORKER_POLL_SECONDS": "1",
        "LISTBACKUP_WORKER_RETRY_BASE_SECONDS": "1",
    }
    env |= {f"LISTBACKUP_WORKER_{name.upper()}": value for name, value in timing.items()}
    return env


@asynccontextmanager
async def worker_process(
    settings: Settings, *, concurrency: int = 1, **timing: str
) -> AsyncIterator[asyncio.subprocess.Process]:
    """``python -m listbackup worker`` in a subprocess; killed on the way out if alive.
    Its output goes where the test's goes: pytest shows it when the test fails."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "listbackup",
        "worker",
        "--concurrency",
        str(concurrency),
        env=worker_env(settings, **timing),
    )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
        with suppress(TimeoutError):
            await asyncio.wait_for(process.wait(), 10)


async def exit_code(process: asyncio.subprocess.Process, *, within: float = 20) -> int:
    return await asyncio.wait_for(process.wait(), within)
