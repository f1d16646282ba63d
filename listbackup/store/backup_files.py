"""The backup-files table: one item per complete file of a job (a file is listed only
once its upload completed), with what a download can be checked against."""

from __future__ import annotations

from typing import TYPE_CHECKING

from listbackup.models.jobs import BackupFile
from listbackup.store.dynamo import (
    Item,
    batch_write,
    iso,
    paginate,
    parse_time,
    to_item,
    translate_errors,
)

if TYPE_CHECKING:
    from types_aiobotocore_dynamodb import DynamoDBClient


class BackupFileStore:
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._client = client
        self.table = table

    async def put(self, file: BackupFile) -> None:
        with translate_errors("PutItem"):
            await self._client.put_item(TableName=self.table, Item=to_item(to_item_data(file)))

    async def of_job(self, job_id: str) -> list[BackupFile]:
        """Every file of a job, by key (a job has one per data type, plus the manifest)."""
        items = paginate(
            self._client,
            "query",
            TableName=self.table,
            KeyConditionExpression="jobId = :j",
            ExpressionAttributeValues=to_item({":j": job_id}),
        )
        return [to_model(item) async for item in items]

    async def delete_of_job(self, job_id: str) -> None:
        files = await self.of_job(job_id)
        await batch_write(
            self._client, self.table, deletes=[{"jobId": job_id, "key": f.key} for f in files]
        )


def to_item_data(file: BackupFile) -> dict[str, object]:
    return {
        "jobId": file.job_id,
        "key": file.key,
        "dataType": file.data_type,
        "recordCount": file.record_count,
        "sizeBytes": file.size_bytes,
        "sha256": file.sha256,
        "createdAt": iso(file.created_at),
    }


def to_model(item: Item) -> BackupFile:
    return BackupFile(
        job_id=item["jobId"],
        key=item["key"],
        data_type=item["dataType"],
        record_count=int(item["recordCount"]),
        size_bytes=int(item["sizeBytes"]),
        sha256=item["sha256"],
        created_at=parse_time(item["createdAt"]),
    )
