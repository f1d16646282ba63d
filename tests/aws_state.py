"""Wipe what tests write (items, users, objects, messages) while keeping the resources."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from listbackup.aws import AwsClients
from listbackup.bootstrap import bootstrap
from listbackup.config import Settings
from listbackup.resources import SPEC, Table
from listbackup.store.dynamo import batch_write, paginate

if TYPE_CHECKING:
    from types_aiobotocore_s3.type_defs import ObjectIdentifierTypeDef
    from types_aiobotocore_sqs.literals import QueueAttributeNameType

#: The seeded catalogue is read-only to the app; tests that change it use another prefix.
_KEPT_TABLES = {"platforms"}


async def wipe(clients: AwsClients, settings: Settings, user_pool_id: str) -> None:
    listed = await clients.sqs.list_queues(QueueNamePrefix=settings.prefix)
    dropped = await asyncio.gather(
        *(
            _wipe_table(clients, settings.names.table(t.name), t)
            for t in SPEC.tables
            if t.name not in _KEPT_TABLES
        ),
        _wipe_users(clients, user_pool_id),
        _wipe_bucket(clients, settings.bucket),
        *(_drop_if_used(clients, url) for url in listed.get("QueueUrls", [])),
    )
    if any(dropped):
        # SQS allows one purge a minute; a used queue is dropped and the bootstrap,
        # being idempotent, recreates exactly what is missing.
        await bootstrap(clients, settings)


async def _wipe_table(clients: AwsClients, name: str, table: Table) -> None:
    key_names = [k.name for k in (table.hash_key, table.range_key) if k]
    keys = [
        {k: item[k] for k in key_names}
        async for item in paginate(clients.dynamodb, "scan", TableName=name)
    ]
    if keys:
        await batch_write(clients.dynamodb, name, deletes=keys)


async def _wipe_users(clients: AwsClients, pool_id: str) -> None:
    paginator = clients.cognito.get_paginator("list_users")
    async for page in paginator.paginate(UserPoolId=pool_id):
        for user in page.get("Users", []):
            await clients.cognito.admin_delete_user(UserPoolId=pool_id, Username=user["Username"])


async def _wipe_bucket(clients: AwsClients, bucket: str) -> None:
    paginator = clients.s3.get_paginator("list_object_versions")
    async for page in paginator.paginate(Bucket=bucket):
        doomed: list[ObjectIdentifierTypeDef] = [
            {"Key": v["Key"], "VersionId": v["VersionId"]}
            for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
        ]
        if doomed:
            await clients.s3.delete_objects(Bucket=bucket, Delete={"Objects": doomed})


_DEPTH: tuple[QueueAttributeNameType, ...] = (
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
)


async def _drop_if_used(clients: AwsClients, url: str) -> bool:
    attrs = await clients.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=list(_DEPTH))
    depth = attrs["Attributes"]
    if not any(int(depth.get(name) or 0) for name in _DEPTH):
        return False
    await clients.sqs.delete_queue(QueueUrl=url)
    return True
