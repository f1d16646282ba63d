"""Fixed-window counters in DynamoDB, shared by every server process.

Each (limit, identifier, window) is one item; atomic ``ADD`` makes concurrent hits safe,
and a TTL removes windows long past.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from listbackup.errors import ConflictError
from listbackup.store.dynamo import from_item, to_item, translate_errors

if TYPE_CHECKING:
    from types_aiobotocore_dynamodb import DynamoDBClient


class RateLimitStore:
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._client = client
        self.table = table

    @staticmethod
    def key(name: str, identifier: str, window: int) -> str:
        # Hashed: the table holds no email addresses or IP addresses in the clear.
        digest = hashlib.sha256(identifier.encode()).hexdigest()[:32]
        return f"{name}#{digest}#{window}"

    async def increment(self, key: str, *, expires_at: int) -> int:
        """Add one hit to the counter; return the new count."""
        with translate_errors("UpdateItem"):
            response = await self._client.update_item(
                TableName=self.table,
                Key=to_item({"key": key}),
                UpdateExpression="ADD hits :one SET expiresAt = if_not_exists(expiresAt, :exp)",
                ExpressionAttributeValues=to_item({":one": 1, ":exp": expires_at}),
                ReturnValues="UPDATED_NEW",
            )
        return int(from_item(response["Attributes"])["hits"])

    async def decrement(self, key: str) -> None:
        """Take one hit back, never below zero (the counter may have been cleared)."""
        try:
            with translate_errors("UpdateItem"):
                await self._client.update_item(
                    TableName=self.table,
                    Key=to_item({"key": key}),
                    UpdateExpression="ADD hits :minus",
                    ConditionExpression="hits > :zero",
                    ExpressionAttributeValues=to_item({":minus": -1, ":zero": 0}),
                )
        except ConflictError:
            return

    async def clear(self, key: str) -> None:
        with translate_errors("DeleteItem"):
            await self._client.delete_item(TableName=self.table, Key=to_item({"key": key}))

    async def reserve_slot(self, key: str, *, now: int, interval: int, expires_at: int) -> int:
        """Take the next slot of a shared schedule (the generic cell rate algorithm: the
        item holds the earliest time, in microseconds, the next request may go). Returns
        the time this request was due, never earlier than ``now``; the caller waits until
        it less its burst allowance. One atomic update in the common cases, both of them
        conditional so that concurrent takers each get a slot of their own."""
        values = {":t": now, ":i": interval, ":exp": expires_at}
        for _ in range(8):
            try:
                # Busy: queue behind the slots already taken.
                with translate_errors("UpdateItem"):
                    response = await self._client.update_item(
                        TableName=self.table,
                        Key=to_item({"key": key}),
                        UpdateExpression="SET due = due + :i, expiresAt = :exp",
                        ConditionExpression="due > :t",
                        ExpressionAttributeValues=to_item(values),
                        ReturnValues="UPDATED_NEW",
                    )
                return int(from_item(response["Attributes"])["due"]) - interval
            except ConflictError:
                pass
            try:
                # Idle: this request goes now, the next one interval later.
                with translate_errors("UpdateItem"):
                    await self._client.update_item(
                        TableName=self.table,
                        Key=to_item({"key": key}),
                        UpdateExpression="SET due = :t + :i, expiresAt = :exp",
                        ConditionExpression="attribute_not_exists(due) OR due <= :t",
                        ExpressionAttributeValues=to_item(values),
                    )
                return now
            except ConflictError:
                continue  # someone took the idle slot between the two: queue behind them
        raise ConflictError("The shared rate limit is too contended; try again.")
