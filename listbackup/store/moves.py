"""The account-moves table: the journal of a subtree move too large for one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from listbackup.store.accounts import PATH_SEPARATOR, path_text
from listbackup.store.dynamo import (
    Item,
    iso,
    paginate,
    parse_time,
    put_new,
    to_item,
    translate_errors,
)

if TYPE_CHECKING:
    from types_aiobotocore_dynamodb import DynamoDBClient


@dataclass(frozen=True, slots=True)
class Move:
    account_id: str
    old_path: tuple[str, ...]
    new_path: tuple[str, ...]
    started_at: datetime


class MoveStore:
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._client = client
        self.table = table

    def put_new(self, move: Move) -> dict[str, Any]:
        return put_new(
            self.table,
            {
                "accountId": move.account_id,
                "oldPath": path_text(move.old_path),
                "newPath": path_text(move.new_path),
                "startedAt": iso(move.started_at),
            },
            "accountId",
        )

    async def pending(self) -> list[Move]:
        return [
            _to_model(item) async for item in paginate(self._client, "scan", TableName=self.table)
        ]

    async def finish(self, account_id: str) -> None:
        with translate_errors("DeleteItem"):
            await self._client.delete_item(
                TableName=self.table, Key=to_item({"accountId": account_id})
            )


def _to_model(item: Item) -> Move:
    return Move(
        account_id=item["accountId"],
        old_path=tuple(item["oldPath"].split(PATH_SEPARATOR)),
        new_path=tuple(item["newPath"].split(PATH_SEPARATOR)),
        started_at=parse_time(item["startedAt"]),
    )
