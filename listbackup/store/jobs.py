"""The jobs table: a job's state, claimed and held by one worker at a time.

A worker claims a QUEUED job (or a RUNNING one whose lease lapsed: its worker died) with
a conditional write, then holds it with a lease it renews; every later write is
conditional on that lease, so a worker that lost its job cannot change it. Every state
or progress write adds one to ``seq``: the event published after it carries that number.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from listbackup.errors import ConflictError
from listbackup.models.jobs import Job, JobStatus, JobTrigger, JobType, Progress
from listbackup.models.pages import Page
from listbackup.store.dynamo import (
    Filter,
    Item,
    from_item,
    iso,
    optional_time,
    page_of,
    parse_time,
    put_new,
    query_page,
    to_item,
    translate_errors,
    update_parts,
)
from listbackup.store.pages import PageRequest, encode_cursor

if TYPE_CHECKING:
    from types_aiobotocore_dynamodb import DynamoDBClient

ACCOUNT_INDEX = "account-index"
ACCOUNT_INDEX_KEYS = ("id", "accountId", "createdAt")
SOURCE_INDEX = "source-index"
SOURCE_INDEX_KEYS = ("id", "sourceId", "createdAt")
RETENTION_INDEX = "retention-index"
RETENTION_SHARDS = 4

_QUEUED, _RUNNING = JobStatus.QUEUED.value, JobStatus.RUNNING.value
#: (index, its key attribute, the cursor's key attributes).
_BY_ACCOUNT = (ACCOUNT_INDEX, "accountId", ACCOUNT_INDEX_KEYS)
_BY_SOURCE = (SOURCE_INDEX, "sourceId", SOURCE_INDEX_KEYS)


class JobStore:
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._client = client
        self.table = table

    def put_new(self, job: Job) -> dict[str, Any]:
        return put_new(self.table, to_item_data(job), "id")

    async def get(self, job_id: str) -> Job | None:
        """A consistent read, for the worker deciding what a delivered message means."""
        with translate_errors("GetItem"):
            response = await self._client.get_item(
                TableName=self.table, Key=to_item({"id": job_id}), ConsistentRead=True
            )
        item = response.get("Item")
        return to_model(from_item(item)) if item else None

    async def claim(
        self, job_id: str, *, owner: str, now: datetime, lease_until: datetime, attempt: int
    ) -> Job | None:
        """QUEUED (or RUNNING with a lapsed lease) -> RUNNING, held by ``owner``."""
        return await self._write(
            job_id,
            set_={
                "status": _RUNNING,
                "leaseOwner": owner,
                "leaseUntil": lease_until,
                "attempt": attempt,
                "startedAt": now,
            },
            condition="#status = :queued OR (#status = :running AND #leaseUntil < :now)",
            values={":queued": _QUEUED, ":running": _RUNNING, ":now": iso(now)},
        )

    async def renew(self, job_id: str, *, owner: str, lease_until: datetime) -> Job | None:
        """Extend the lease; None when ``owner`` no longer holds the job."""
        return await self._write(
            job_id, set_={"leaseUntil": lease_until}, seq=False, **_held_by(owner)
        )

    async def record(
        self,
        job_id: str,
        *,
        owner: str,
        progress: Progress,
        completed: tuple[str, ...] | None = None,
        cursors_to: Mapping[str, str] | None = None,
        lease_until: datetime | None = None,
    ) -> Job | None:
        changes: dict[str, Any] = {"progress": progress_map(progress)}
        if lease_until is not None:
            changes["leaseUntil"] = lease_until
        if completed is not None:
            changes["completed"] = list(completed)
        if cursors_to is not None:
            changes["cursorsTo"] = dict(cursors_to) or None
        return await self._write(job_id, set_=changes, **_held_by(owner))

    async def finish(
        self,
        job_id: str,
        *,
        owner: str,
        status: JobStatus,
        now: datetime,
        error: str | None = None,
        keep_until: datetime | None = None,
        progress: Progress | None = None,
    ) -> Job | None:
        """RUNNING -> COMPLETED, FAILED or CANCELLED (with its final ``progress``); with
        ``keep_until``, the job's files enter the retention index."""
        changes: dict[str, Any] = {
            "status": status.value,
            "finishedAt": now,
            "error": error,
            "leaseOwner": None,
            "leaseUntil": None,
        }
        if progress is not None:
            changes["progress"] = progress_map(progress)
        if keep_until is not None:
            changes |= {"keepUntil": keep_until, "retentionShard": _shard(job_id)}
        return await self._write(job_id, set_=changes, **_held_by(owner))

    async def requeue(self, job_id: str, *, owner: str, error: str | None = None) -> Job | None:
        """RUNNING -> QUEUED: released at shutdown, or waiting for a retry's backoff."""
        return await self._write(
            job_id,
            set_={
                "status": _QUEUED,
                "leaseOwner": None,
                "leaseUntil": None,
                "error": error,
            },
            **_held_by(owner),
        )

    async def cancel_queued(self, job_id: str, *, now: datetime) -> Job | None:
        return await self._write(
            job_id,
            set_={"status": JobStatus.CANCELLED.value, "finishedAt": now},
            condition="#status = :queued",
            values={":queued": _QUEUED},
        )

    async def request_cancel(self, job_id: str) -> Job | None:
        """Ask the worker running the job to stop; it does within a couple of seconds."""
        return await self._write(
            job_id,
            set_={"cancelRequested": True},
            seq=False,
            condition="#status = :running",
            values={":running": _RUNNING},
        )

    async def abandon(
        self, job_id: str, *, error: str, now: datetime, keep_until: datetime
    ) -> Job | None:
        """A job no worker will finish (its message went to the dead-letter queue): FAILED,
        unless it already ended; the files it completed enter the retention index."""
        return await self._write(
            job_id,
            set_={
                "status": JobStatus.FAILED.value,
                "error": error,
                "finishedAt": now,
                "leaseOwner": None,
                "leaseUntil": None,
                "keepUntil": keep_until,
                "retentionShard": _shard(job_id),
            },
            condition="#status IN (:queued, :running)",
            values={":queued": _QUEUED, ":running": _RUNNING},
        )

    async def expire_files(
        self, job_id: str, *, now: datetime, keep_until: datetime | None = None
    ) -> None:
        """The retention sweep deleted the job's files (or, with ``keep_until``, decided to
        keep them until then)."""
        changes: dict[str, Any]
        if keep_until is not None:
            changes = {"keepUntil": keep_until}
        else:
            changes = {"filesExpiredAt": now, "keepUntil": None, "retentionShard": None}
        await self._write(job_id, set_=changes, seq=False, condition="attribute_exists(id)")

    async def _write(
        self,
        job_id: str,
        *,
        set_: Mapping[str, Any],
        condition: str,
        values: Mapping[str, Any] | None = None,
        seq: bool = True,
    ) -> Job | None:
        try:
            with translate_errors("UpdateItem"):
                response = await self._client.update_item(
                    TableName=self.table,
                    Key=to_item({"id": job_id}),
                    ReturnValues="ALL_NEW",
                    **update_parts(
                        set_=set_,
                        add={"seq": 1} if seq else None,
                        condition=f"attribute_exists(id) AND ({condition})",
                        values=values,
                    ),
                )
        except ConflictError:
            return None
        return to_model(from_item(response["Attributes"]))

    async def list_by_account(
        self, owner: tuple[str, JobStatus | None], page: PageRequest
    ) -> Page[Job]:
        """Newest first, optionally of one status."""
        account_id, status = owner
        return await self._list(_BY_ACCOUNT, account_id, status, page)

    async def list_by_source(
        self, owner: tuple[str, JobStatus | None], page: PageRequest
    ) -> Page[Job]:
        source_id, status = owner
        return await self._list(_BY_SOURCE, source_id, status, page)

    async def _list(
        self,
        by: tuple[str, str, tuple[str, ...]],
        value: str,
        status: JobStatus | None,
        page: PageRequest,
    ) -> Page[Job]:
        """A page of one index (name, key attribute, cursor keys), newest first."""
        index, key, cursor_keys = by
        query: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": index,
            "KeyConditionExpression": f"{key} = :k",
            "ScanIndexForward": False,
        }
        items, last = await page_of(
            self._client,
            page.first,
            page.start,
            cursor_keys,
            values={":k": value},
            where=(
                Filter("#status = :s", {":s": status.value}, {"#status": "status"})
                if status is not None
                else None
            ),
            **query,
        )
        return Page([to_model(item) for item in items], encode_cursor(last))

    async def past_retention(self, shard: int, now: datetime, *, limit: int) -> list[Job]:
        """Completed jobs of a shard whose files are due for deletion, oldest first."""
        items, _ = await query_page(
            self._client,
            limit,
            None,
            TableName=self.table,
            IndexName=RETENTION_INDEX,
            KeyConditionExpression="retentionShard = :s AND keepUntil <= :now",
            ExpressionAttributeValues=to_item({":s": str(shard), ":now": iso(now)}),
        )
        return [to_model(item) for item in items]


def _held_by(owner: str) -> dict[str, Any]:
    return {
        "condition": "#status = :running AND #leaseOwner = :owner",
        "values": {":running": _RUNNING, ":owner": owner},
    }


def _shard(job_id: str) -> str:
    return str(sum(job_id.encode()) % RETENTION_SHARDS)


def progress_map(progress: Progress) -> dict[str, Any]:
    return {
        "stepsCompleted": progress.steps_completed,
        "stepsTotal": progress.steps_total,
        "currentStep": progress.current_step,
        "recordsProcessed": progress.records_processed,
        "bytesWritten": progress.bytes_written,
    }


def to_item_data(job: Job) -> dict[str, Any]:
    return {
        "id": job.id,
        "sourceId": job.source_id,
        "accountId": job.account_id,
        "connectionId": job.connection_id,
        "platform": job.platform,
        "type": job.type.value,
        "trigger": job.trigger.value,
        "status": job.status.value,
        "dataTypes": list(job.data_types),
        "retentionDays": job.retention_days,
        "createdAt": iso(job.created_at),
        "attempt": job.attempt,
        "progress": {k: v for k, v in progress_map(job.progress).items() if v is not None},
        "completed": list(job.completed) or None,
        "error": job.error,
        "startedAt": iso(job.started_at) if job.started_at else None,
        "finishedAt": iso(job.finished_at) if job.finished_at else None,
        "seq": job.seq,
        "cursorsFrom": dict(job.cursors_from) or None,
        "cursorsTo": dict(job.cursors_to) or None,
    }


def to_model(item: Item) -> Job:
    progress = item.get("progress") or {}
    return Job(
        id=item["id"],
        source_id=item["sourceId"],
        account_id=item["accountId"],
        connection_id=item["connectionId"],
        platform=item["platform"],
        type=JobType(item["type"]),
        trigger=JobTrigger(item["trigger"]),
        status=JobStatus(item["status"]),
        data_types=tuple(item.get("dataTypes") or ()),
        retention_days=int(item["retentionDays"]),
        created_at=parse_time(item["createdAt"]),
        attempt=int(item.get("attempt", 1)),
        progress=Progress(
            steps_completed=int(progress.get("stepsCompleted", 0)),
            steps_total=int(progress.get("stepsTotal", 0)),
            current_step=progress.get("currentStep"),
            records_processed=int(progress.get("recordsProcessed", 0)),
            bytes_written=int(progress.get("bytesWritten", 0)),
        ),
        completed=tuple(item.get("completed") or ()),
        error=item.get("error"),
        started_at=optional_time(item.get("startedAt")),
        finished_at=optional_time(item.get("finishedAt")),
        cancel_requested=bool(item.get("cancelRequested", False)),
        seq=int(item.get("seq", 0)),
        cursors_from={str(k): str(v) for k, v in (item.get("cursorsFrom") or {}).items()},
        cursors_to={str(k): str(v) for k, v in (item.get("cursorsTo") or {}).items()},
        files_expired_at=optional_time(item.get("filesExpiredAt")),
    )
