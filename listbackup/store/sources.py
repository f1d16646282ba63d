"""The sources table: by id, by account, by connection, and due schedules by time.

Only an active, scheduled source carries ``dueShard``; the due-index is therefore sparse
and holds exactly the sources a scheduler may have to run. Sources are spread over
``DUE_SHARDS`` partitions by id, so a thousand sources due at 02:00 are not one hot key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from listbackup.errors import ConflictError
from listbackup.models.pages import Page
from listbackup.models.platforms import Frequency
from listbackup.models.schedules import Schedule
from listbackup.models.sources import Source, SourceStatus
from listbackup.store.dynamo import (
    Item,
    from_item,
    iso,
    optional_time,
    paginate,
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
DUE_INDEX = "due-index"
DUE_SHARDS = 8


def due_shard(source_id: str) -> str:
    return str(int(hashlib.sha256(source_id.encode()).hexdigest()[:8], 16) % DUE_SHARDS)


class SourceStore:
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._client = client
        self.table = table

    async def get(self, source_id: str) -> Source | None:
        """A consistent read, where a decision must see the latest write."""
        with translate_errors("GetItem"):
            response = await self._client.get_item(
                TableName=self.table, Key=to_item({"id": source_id}), ConsistentRead=True
            )
        item = response.get("Item")
        return to_model(from_item(item)) if item else None

    def put_new(self, source: Source) -> dict[str, Any]:
        return put_new(self.table, to_item_data(source), "id")

    def delete(self, source: Source) -> dict[str, Any]:
        """A transaction Delete of the source as it was read (no job started since)."""
        condition: dict[str, Any] = {"ConditionExpression": "attribute_exists(id)"}
        if source.active_job_id is None:
            condition["ConditionExpression"] += " AND attribute_not_exists(activeJobId)"
        return {"Delete": {"TableName": self.table, "Key": to_item({"id": source.id}), **condition}}

    def start_job(
        self, source: Source, job_id: str, *, next_run_at: datetime | None
    ) -> dict[str, Any]:
        """A transaction Update: the source's one active job is ``job_id`` (refused when
        another is active); with ``next_run_at``, also the schedule's claim on this run
        (refused unless the run is still the one the caller saw due)."""
        condition = "attribute_exists(id) AND attribute_not_exists(activeJobId)"
        values: dict[str, Any] = {}
        changes: dict[str, Any] = {"activeJobId": job_id}
        if next_run_at is not None:
            condition += " AND nextRunAt = :seen"
            values[":seen"] = iso(source.next_run_at) if source.next_run_at else ""
            changes["nextRunAt"] = next_run_at
        return {
            "Update": {
                "TableName": self.table,
                "Key": to_item({"id": source.id}),
                **update_parts(set_=changes, condition=condition, values=values),
            }
        }

    async def skip_run(self, source: Source, next_run_at: datetime) -> bool:
        """Move a due source's next run on without a job (one is still active); False
        when another scheduler claimed this run first."""
        return await self._conditional(
            source.id,
            {"nextRunAt": next_run_at},
            "nextRunAt = :seen",
            {":seen": iso(source.next_run_at) if source.next_run_at else ""},
        )

    async def job_ended(
        self,
        source_id: str,
        job_id: str,
        *,
        changes: Mapping[str, Any],
    ) -> bool:
        """The source's active job ended: clear it and apply ``changes`` (lastRunAt,
        status, cursors); False when the job was no longer the active one."""
        return await self._conditional(
            source_id, {"activeJobId": None, **changes}, "activeJobId = :job", {":job": job_id}
        )

    async def update(
        self, source_id: str, changes: Mapping[str, Any], *, condition: str = ""
    ) -> Source:
        """Set (None: remove) attributes of an existing source; return it."""
        full = "attribute_exists(id)" + (f" AND ({condition})" if condition else "")
        with translate_errors("UpdateItem"):
            response = await self._client.update_item(
                TableName=self.table,
                Key=to_item({"id": source_id}),
                ReturnValues="ALL_NEW",
                **update_parts(set_=_fields(changes), condition=full),
            )
        return to_model(from_item(response["Attributes"]))

    async def _conditional(
        self, source_id: str, changes: Mapping[str, Any], condition: str, values: Mapping[str, Any]
    ) -> bool:
        try:
            with translate_errors("UpdateItem"):
                await self._client.update_item(
                    TableName=self.table,
                    Key=to_item({"id": source_id}),
                    **update_parts(
                        set_=_fields(changes),
                        condition=f"attribute_exists(id) AND {condition}",
                        values=values,
                    ),
                )
        except ConflictError:
            return False
        return True

    async def list_by_account(self, account_id: str, page: PageRequest) -> Page[Source]:
        """Oldest first."""
        items, last = await query_page(
            self._client,
            page.first,
            page.start,
            TableName=self.table,
            IndexName=ACCOUNT_INDEX,
            KeyConditionExpression="accountId = :a",
            ExpressionAttributeValues=to_item({":a": account_id}),
        )
        return Page([to_model(item) for item in items], encode_cursor(last))

    async def all_of_account(self, account_id: str) -> list[Source]:
        """Every source of an account (an account's sources are bounded by its settings)."""
        items = paginate(
            self._client,
            "query",
            TableName=self.table,
            IndexName=ACCOUNT_INDEX,
            KeyConditionExpression="accountId = :a",
            ExpressionAttributeValues=to_item({":a": account_id}),
        )
        return [to_model(item) async for item in items]

    async def due(self, shard: str, now: datetime, *, limit: int) -> list[Source]:
        """Up to ``limit`` sources of a shard whose next run is at or before ``now``,
        earliest first. The index is eventually consistent: callers claim each run with a
        conditional write before acting on it."""
        items, _ = await query_page(
            self._client,
            limit,
            None,
            TableName=self.table,
            IndexName=DUE_INDEX,
            KeyConditionExpression="dueShard = :s AND nextRunAt <= :now",
            ExpressionAttributeValues=to_item({":s": shard, ":now": iso(now)}),
        )
        return [to_model(item) for item in items]


def _fields(changes: Mapping[str, Any]) -> dict[str, Any]:
    """Model-level changes to item attributes: a schedule is three attributes."""
    out: dict[str, Any] = {}
    for name, value in changes.items():
        if name == "schedule":
            schedule: Schedule | None = value
            out["cron"] = schedule.cron if schedule else None
            out["timezone"] = schedule.timezone if schedule else None
            out["frequency"] = schedule.frequency.value if schedule and schedule.frequency else None
        elif isinstance(value, SourceStatus | Frequency):
            out[name] = value.value
        elif isinstance(value, tuple):
            out[name] = list(value)
        else:
            out[name] = value
    return out


def scheduling(source: Source) -> dict[str, Any]:
    """The attributes that put a source in the due-index, or take it out: only an
    active source with a schedule and a next run is due."""
    due = source.next_run_at is not None and not source.paused and source.schedule is not None
    return {
        "nextRunAt": source.next_run_at,
        "dueShard": due_shard(source.id) if due else None,
    }


def to_item_data(source: Source) -> dict[str, Any]:
    schedule = source.schedule
    return {
        "id": source.id,
        "accountId": source.account_id,
        "connectionId": source.connection_id,
        "platform": source.platform,
        "name": source.name,
        "dataTypes": list(source.data_types),
        "retentionDays": source.retention_days,
        "createdAt": iso(source.created_at),
        "createdBy": source.created_by,
        "status": source.stored_status.value,
        "statusReason": source.status_reason,
        "cron": schedule.cron if schedule else None,
        "timezone": schedule.timezone if schedule else None,
        "frequency": schedule.frequency.value if schedule and schedule.frequency else None,
        **{k: iso(v) if isinstance(v, datetime) else v for k, v in scheduling(source).items()},
        "lastRunAt": iso(source.last_run_at) if source.last_run_at else None,
        "lastJobId": source.last_job_id,
        "activeJobId": source.active_job_id,
        "cursors": dict(source.cursors) or None,
    }


def to_model(item: Item) -> Source:
    cron = item.get("cron")
    return Source(
        id=item["id"],
        account_id=item["accountId"],
        connection_id=item["connectionId"],
        platform=item["platform"],
        name=item["name"],
        data_types=tuple(item.get("dataTypes") or ()),
        retention_days=int(item["retentionDays"]),
        created_at=parse_time(item["createdAt"]),
        created_by=item.get("createdBy"),
        stored_status=SourceStatus(item.get("status", SourceStatus.ACTIVE.value)),
        status_reason=item.get("statusReason"),
        schedule=Schedule(
            cron=cron,
            timezone=item.get("timezone") or "UTC",
            frequency=Frequency(item["frequency"]) if item.get("frequency") else None,
        )
        if cron
        else None,
        next_run_at=optional_time(item.get("nextRunAt")),
        last_run_at=optional_time(item.get("lastRunAt")),
        last_job_id=item.get("lastJobId"),
        active_job_id=item.get("activeJobId"),
        cursors={str(k): str(v) for k, v in (item.get("cursors") or {}).items()},
    )
