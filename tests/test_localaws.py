"""The local AWS: DynamoDB requests are atomic as in DynamoDB, and a reset keeps resources."""

from __future__ import annotations

import asyncio

from botocore.exceptions import ClientError

from listbackup.aws import AwsClients, error_code
from listbackup.config import Settings
from listbackup.store.dynamo import to_item
from tests.aws_state import wipe


async def test_racing_conditional_writes_have_exactly_one_winner(
    aws: AwsClients, settings: Settings
) -> None:
    table = settings.names.table("rate-limits")

    async def claim(trial: int, worker: int) -> bool:
        try:
            await aws.dynamodb.update_item(
                TableName=table,
                Key=to_item({"key": f"lock-{trial}"}),
                UpdateExpression="SET lockUntil = :until, holder = :me",
                ConditionExpression="attribute_not_exists(lockUntil) OR lockUntil < :now",
                ExpressionAttributeValues=to_item({":until": 2000, ":now": 1000, ":me": worker}),
            )
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            return False
        return True

    winners = [
        sum(await asyncio.gather(*(claim(trial, worker) for worker in range(16))))
        for trial in range(20)
    ]

    assert winners == [1] * 20


async def test_reset_empties_tables_but_keeps_them_and_the_catalogue(
    aws: AwsClients, settings: Settings, moto_endpoint: str
) -> None:
    table = settings.names.table("rate-limits")
    await aws.dynamodb.put_item(TableName=table, Item=to_item({"key": "k", "hits": 1}))
    await aws.s3.put_object(Bucket=settings.bucket, Key="accounts/a/x", Body=b"x")

    await wipe(moto_endpoint, settings)

    assert (await aws.dynamodb.scan(TableName=table))["Items"] == []
    assert (await aws.s3.list_objects_v2(Bucket=settings.bucket)).get("KeyCount") == 0
    catalogue = await aws.dynamodb.scan(TableName=settings.names.table("platforms"))
    assert catalogue["Items"]
