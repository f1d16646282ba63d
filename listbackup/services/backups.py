"""Running one claimed job: every chosen data type, in dependency order, streamed page by
page from the platform into one gzip NDJSON file each, then a manifest.

The worker claims the job and keeps its lease (worker.py); this module reads, writes and
decides how the attempt ends. Nothing is half-written: a file is listed only once its
upload completed, an interrupted upload is aborted, and a data type that did not finish
is read again from its start by the next attempt, while finished ones are not.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from listbackup.adapters.objects import (
    NdjsonWriter,
    StoredObject,
    abort_incomplete_uploads,
    delete_prefix,
    put_json,
)
from listbackup.deps import Deps
from listbackup.errors import InfrastructureError
from listbackup.integrations.errors import ConnectorError, CredentialsRejected, PlatformUnavailable
from listbackup.models.connections import ConnectionStatus
from listbackup.models.jobs import BackupFile, Job, JobStatus, JobType, LogLevel, Progress
from listbackup.models.sources import SourceStatus
from listbackup.services import connections, jobs
from listbackup.store.dynamo import iso

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
FORMAT_VERSION = 1
#: The longest backoff before another attempt of a job that failed for a passing reason.
RETRY_MAX_SECONDS = 900


class Ending(enum.Enum):
    COMPLETED = "completed"
    FAILED = "failed"
    RETRY = "retry"
    CANCELLED = "cancelled"
    RELEASED = "released"
    LOST = "lost"


@dataclass
class Control:
    """What the worker tells a running job, between its pages."""

    cancel: bool = False
    #: The worker is shutting down: finish the current data type, then let go.
    drain: bool = False
    #: The lease was lost (another worker holds the job): stop without writing.
    lost: bool = False


@dataclass
class Outcome:
    ending: Ending
    job: Job | None
    error: str | None = None
    retry_in: int = 0


@dataclass
class _Counters:
    progress: Progress
    changed: bool = False
    cursors: dict[str, str] = field(default_factory=dict)
    #: What the complete files hold: a data type read again counts from these.
    done_records: int = 0
    done_bytes: int = 0


class Run:
    """One attempt of a job, as its worker drives it."""

    def __init__(
        self, deps: Deps, job: Job, *, owner: str, final_attempt: bool, retry_base_seconds: int
    ) -> None:
        self.deps = deps
        self.job = job
        self.owner = owner
        self.final_attempt = final_attempt
        #: Backoff before attempt n+1: this, doubled for each attempt before it.
        self.retry_base_seconds = retry_base_seconds
        self.control = Control()
        #: Set as the attempt writes its ending (finished, or queued for a retry): the
        #: job is no longer held, so a heartbeat that finds it so has lost nothing.
        self.ending = False
        self.counters = _Counters(
            Progress(steps_completed=len(job.completed), steps_total=len(job.data_types)),
            cursors=dict(job.cursors_to),
        )

    @property
    def prefix(self) -> str:
        return jobs.file_prefix(self.job)

    # -- the attempt --------------------------------------------------------------------

    async def execute(self) -> Outcome:
        deps, job = self.deps, self.job
        await jobs.publish(deps, job, "Job Started")
        await jobs.log_line(
            deps, job, LogLevel.INFO, f"Attempt {job.attempt} started ({job.type.value})."
        )
        try:
            return await self._read_all()
        except CredentialsRejected as exc:
            return await self._refused(exc)
        except (PlatformUnavailable, InfrastructureError, OSError) as exc:
            return await self._passing(exc)
        except ConnectorError as exc:
            return await self._fail(f"The platform refused a request: {exc.message}")

    async def _read_all(self) -> Outcome:
        deps, job = self.deps, self.job
        connection = await deps.loaders.connection.load(job.connection_id)
        if connection is None:
            return await self._fail("The connection of this source was deleted.")
        # A previous attempt that died left its parts behind: they are never completed.
        await abort_incomplete_uploads(
            deps.clients.s3, bucket=deps.settings.bucket, prefix=self.prefix
        )
        await self._count_complete_files()
        connector = await connections.connector_for(deps, connection=connection)
        try:
            for data_type in job.data_types:
                if data_type in job.completed:
                    continue
                if self.control.drain:
                    return Outcome(Ending.RELEASED, job)
                stored = await self._read(connector, data_type)
                if stored is None:
                    return await self.stopped()
                await self._file_done(data_type, stored)
        finally:
            await connector.aclose()
        if self.control.cancel or self.control.lost:
            return await self.stopped()
        return await self._complete()

    async def _count_complete_files(self) -> None:
        """Progress starts from what earlier attempts' complete files hold, not from what
        they had read of a data type they did not finish (it is read again)."""
        files = await self.deps.store.backup_files.of_job(self.job.id)
        complete = [f for f in files if f.data_type in self.job.completed]
        counters = self.counters
        counters.done_records = sum(f.record_count for f in complete)
        counters.done_bytes = sum(f.size_bytes for f in complete)
        counters.progress = replace(
            counters.progress,
            records_processed=counters.done_records,
            bytes_written=counters.done_bytes,
        )

    async def _read(self, connector: Any, data_type: str) -> StoredObject | None:
        """One data type into its file; None when told to stop half-way."""
        deps, job = self.deps, self.job
        since = None
        if job.type is JobType.SYNC and data_type in job.cursors_from:
            since = datetime.fromisoformat(job.cursors_from[data_type])
        self._progress(current_step=data_type)
        started = job.started_at or deps.now()
        async with NdjsonWriter(
            deps.clients.s3, bucket=deps.settings.bucket, key=f"{self.prefix}{data_type}.ndjson.gz"
        ) as writer:
            async for page in connector.fetch(data_type, since=since):
                if self.control.cancel or self.control.lost:
                    return None
                await writer.write(page)
                self._progress(records=len(page), written=writer.size_bytes)
                # A connector that never waits (the demo platform, a fast page) would
                # otherwise hold the loop for the whole data type: no heartbeat would
                # renew the lease, and no cancel would be seen.
                await asyncio.sleep(0)
            stored = await writer.complete()
        # The next SYNC reads what changed since this job started reading.
        self.counters.cursors[data_type] = iso(started)
        return stored

    async def _file_done(self, data_type: str, stored: StoredObject) -> None:
        deps = self.deps
        await deps.store.backup_files.put(
            BackupFile(
                job_id=self.job.id,
                key=stored.key,
                data_type=data_type,
                record_count=stored.record_count,
                size_bytes=stored.size_bytes,
                sha256=stored.sha256,
                created_at=deps.now(),
            )
        )
        self.job = replace(self.job, completed=(*self.job.completed, data_type))
        counters = self.counters
        counters.done_records += stored.record_count
        counters.done_bytes += stored.size_bytes
        counters.progress = replace(
            counters.progress,
            steps_completed=len(self.job.completed),
            records_processed=counters.done_records,
            bytes_written=counters.done_bytes,
        )
        saved = await deps.store.jobs.record(
            self.job.id,
            owner=self.owner,
            progress=self.counters.progress,
            completed=self.job.completed,
            cursors_to=self.counters.cursors,
        )
        if saved is None:
            self.control.lost = True
            return
        self.job = saved
        self.counters.changed = False
        await jobs.publish(deps, saved, "Job Progress")
        await jobs.log_line(
            deps,
            saved,
            LogLevel.INFO,
            f"{data_type}: {stored.record_count} records, {stored.size_bytes} bytes.",
        )

    def _progress(
        self, *, current_step: str | None = None, records: int = 0, written: int = 0
    ) -> None:
        """Count a page: records read so far, bytes of the complete files plus what the
        current file has produced (``written``)."""
        counters = self.counters
        progress = counters.progress
        counters.progress = replace(
            progress,
            current_step=current_step or progress.current_step,
            records_processed=progress.records_processed + records,
            bytes_written=counters.done_bytes + written,
        )
        counters.changed = True

    async def heartbeat(self, lease_until: datetime) -> Job | None:
        """Renew the lease, saving and publishing the progress if it moved (the worker
        calls this about once a second); None when the lease is lost."""
        if self.ending:
            return self.job
        store = self.deps.store.jobs
        moved, self.counters.changed = self.counters.changed, False
        if moved:
            saved = await store.record(
                self.job.id,
                owner=self.owner,
                progress=self.counters.progress,
                lease_until=lease_until,
            )
        else:
            saved = await store.renew(self.job.id, owner=self.owner, lease_until=lease_until)
        if saved is None:
            if self.ending:  # the attempt ended the job while this renewal was on its way
                return self.job
            self.control.lost = True
            return None
        self.job = replace(saved, completed=self.job.completed)
        if moved:
            await jobs.publish(self.deps, saved, "Job Progress")
        return saved

    # -- endings --------------------------------------------------------------------------

    async def _complete(self) -> Outcome:
        deps, job = self.deps, self.job
        files = await deps.store.backup_files.of_job(job.id)
        now = deps.now()
        manifest: dict[str, Any] = {
            "formatVersion": FORMAT_VERSION,
            "job": {"id": job.id, "type": job.type.value, "attempt": job.attempt},
            "source": {"id": job.source_id, "accountId": job.account_id},
            "platform": job.platform,
            "dataTypes": list(job.data_types),
            "files": [
                {
                    "dataType": f.data_type,
                    "key": f.key,
                    "recordCount": f.record_count,
                    "sizeBytes": f.size_bytes,
                    "sha256": f.sha256,
                    "format": "ndjson+gzip",
                }
                for f in sorted(files, key=lambda f: job.data_types.index(f.data_type))
                if f.data_type in job.data_types
            ],
            "cursors": self.counters.cursors,
            "startedAt": iso(job.started_at) if job.started_at else None,
            "finishedAt": iso(now),
        }
        stored = await put_json(
            deps.clients.s3,
            bucket=deps.settings.bucket,
            key=f"{self.prefix}{MANIFEST}",
            value=manifest,
        )
        await deps.store.backup_files.put(
            BackupFile(
                job_id=job.id,
                key=stored.key,
                data_type="manifest",
                record_count=len(manifest["files"]),
                size_bytes=stored.size_bytes,
                sha256=stored.sha256,
                created_at=now,
            )
        )
        total = sum(f.record_count for f in files if f.data_type != "manifest")
        # The log is complete before the job reads as finished.
        await jobs.log_line(deps, job, LogLevel.INFO, f"Completed: {total} records.")
        self.ending = True
        finished = await deps.store.jobs.finish(
            job.id,
            owner=self.owner,
            status=JobStatus.COMPLETED,
            # A heartbeat's older progress may have landed after the last file's.
            progress=self.counters.progress,
            now=now,
            keep_until=now + timedelta(days=job.retention_days),
        )
        if finished is None:
            return Outcome(Ending.LOST, None)
        await deps.store.sources.job_ended(
            job.source_id,
            job.id,
            changes={
                "lastRunAt": now,
                "lastJobId": job.id,
                "status": SourceStatus.ACTIVE,
                "statusReason": None,
                "cursors": {**await self._source_cursors(), **self.counters.cursors},
            },
        )
        await jobs.publish(deps, finished, "Job Completed")
        return Outcome(Ending.COMPLETED, finished)

    async def _source_cursors(self) -> dict[str, str]:
        source = await self.deps.store.sources.get(self.job.source_id)
        return dict(source.cursors) if source else {}

    async def _refused(self, exc: CredentialsRejected) -> Outcome:
        """Credentials refused (after one refresh): no retry would help."""
        deps, job = self.deps, self.job
        message = (
            f"The platform refused the connection's credentials: reconnect it. ({exc.message})"
        )
        await deps.store.connections.update(
            job.connection_id,
            {"status": ConnectionStatus.EXPIRED.value, "lastError": exc.message},
        )
        return await self._fail(message, source_status=SourceStatus.ERROR)

    async def _passing(self, exc: Exception) -> Outcome:
        """A failure that may pass (a platform outage, throttling, the network): another
        attempt after a backoff, unless this was the last."""
        reason = getattr(exc, "message", None) or type(exc).__name__
        if self.final_attempt:
            return await self._fail(
                f"The backup failed {self.job.attempt} times ({reason}); run it again later, "
                "and contact support if it keeps failing."
            )
        wait = min(self.retry_base_seconds * 2 ** (self.job.attempt - 1), RETRY_MAX_SECONDS)
        message = f"Attempt {self.job.attempt} failed ({reason}); retrying in {wait} s."
        self.ending = True
        requeued = await self.deps.store.jobs.requeue(self.job.id, owner=self.owner, error=message)
        if requeued is None:
            return Outcome(Ending.LOST, None)
        await jobs.publish(self.deps, requeued, "Job Queued", message)
        await jobs.log_line(self.deps, requeued, LogLevel.WARNING, message)
        return Outcome(Ending.RETRY, requeued, error=message, retry_in=wait)

    async def _fail(self, message: str, *, source_status: SourceStatus | None = None) -> Outcome:
        deps, job = self.deps, self.job
        now = deps.now()
        await jobs.log_line(deps, job, LogLevel.ERROR, message)
        self.ending = True
        failed = await deps.store.jobs.finish(
            job.id,
            owner=self.owner,
            status=JobStatus.FAILED,
            now=now,
            error=message,
            # The files it completed stay listed, and go when a completed job's would.
            keep_until=now + timedelta(days=job.retention_days),
        )
        if failed is None:
            return Outcome(Ending.LOST, None)
        changes: dict[str, Any] = {"lastRunAt": now, "lastJobId": job.id}
        if source_status is not None:
            changes |= {"status": source_status, "statusReason": message}
        await deps.store.sources.job_ended(job.source_id, job.id, changes=changes)
        await jobs.publish(deps, failed, "Job Failed", message)
        return Outcome(Ending.FAILED, failed, error=message)

    async def stopped(self) -> Outcome:
        """Told to stop between two pages: cancelled (nothing partial is kept), or the
        lease was lost (the job is someone else's now: touch nothing)."""
        if self.control.lost:
            return Outcome(Ending.LOST, None)
        deps, job = self.deps, self.job
        await delete_prefix(deps.clients.s3, bucket=deps.settings.bucket, prefix=self.prefix)
        await deps.store.backup_files.delete_of_job(job.id)
        await jobs.log_line(deps, job, LogLevel.INFO, "Cancelled; no file was kept.")
        self.ending = True
        cancelled = await deps.store.jobs.finish(
            job.id, owner=self.owner, status=JobStatus.CANCELLED, now=deps.now()
        )
        if cancelled is None:
            return Outcome(Ending.LOST, None)
        await deps.store.sources.job_ended(job.source_id, job.id, changes={"lastJobId": job.id})
        await jobs.publish(deps, cancelled, "Job Cancelled")
        return Outcome(Ending.CANCELLED, cancelled)
