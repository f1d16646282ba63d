"""The job-logs table: a job's log lines in order, expiring with the job's retention."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import TYPE_CHECKING

from listbackup.models.jobs import JobLog, LogLevel
from listbackup.models.pages import Page
from listbackup.store.dynamo import Item, iso, parse_time, query_page, to_item, translate_errors
from listbackup.store.pages import PageRequest, encode_cursor

if TYPE_CHECKING:
    from types_aiobotocore_dynamodb import DynamoDBClient

KEYS = ("jobId", "seq")
#: Lines of one job are at most this long; a longer message is cut.
MAX_MESSAGE = 1000
_counter = itertools.count()


class JobLogStore:
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._client = client
        self.table = table

    async def add(
        self, job_id: str, level: LogLevel, message: str, *, at: datetime, expires_at: datetime
    ) -> None:
        # Sorts by time, then by order of writing within this process's millisecond.
        seq = f"{iso(at)}#{next(_counter) % 1_000_000:06d}"
        with translate_errors("PutItem"):
            await self._client.put_item(
                TableName=self.table,
                Item=to_item(
                    {
                        "jobId": job_id,
                        "seq": seq,
                        "at": iso(at),
                        "level": level.value,
                        "message": message[:MAX_MESSAGE],
                        "expiresAt": int(expires_at.timestamp()),
                    }
                ),
            )

    async def page(self, job_id: str, page: PageRequest) -> Page[JobLog]:
        """Oldest first."""
        items, last = await query_page(
            self._client,
            page.first,
            page.start,
            TableName=self.table,
            KeyConditionExpression="jobId = :j",
            ExpressionAttributeValues=to_item({":j": job_id}),
        )
        return Page([to_model(item) for item in items], encode_cursor(last))


def to_model(item: Item) -> JobLog:
    return JobLog(
        job_id=item["jobId"],
        seq=0,
        at=parse_time(item["at"]),
        level=LogLevel(item["level"]),
        message=item["message"],
    )
