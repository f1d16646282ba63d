"""One BatchGetItem for the keys of every table asked for in the same event-loop tick.

Each per-request loader hands its keys here instead of calling DynamoDB itself. The first
request of a tick schedules a flush for the next tick, so loaders of different tables
(users, accounts, memberships...) dispatching together share BatchGetItem calls of up to
100 keys, whatever table the keys belong to. A tick that asks for a single key reads it
with GetItem.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Generic, TypeVar

from aiodataloader import DataLoader

from listbackup.store.dynamo import Item, Key, batch_get, from_item, to_item, translate_errors

if TYPE_CHECKING:
    from types_aiobotocore_dynamodb import DynamoDBClient

K = TypeVar("K")
V = TypeVar("V")


class BatchedLoader(DataLoader[K, V | None], Generic[K, V]):
    """A by-key loader over one table, batched with every other table's."""

    def __init__(
        self,
        batcher: TableBatcher,
        table: str,
        key: Callable[[K], dict[str, str]],
        to_model: Callable[[Item], V],
    ) -> None:
        super().__init__()
        self._batcher = batcher
        self._table = table
        self._key = key
        self._to_model = to_model

    async def batch_load_fn(self, keys: Sequence[K]) -> list[V | None]:
        items = await self._batcher.get(self._table, [self._key(k) for k in keys])
        return [self._to_model(item) if item is not None else None for item in items]


def _marker(key: Key) -> str:
    return json.dumps(key, sort_keys=True, default=str)


class TableBatcher:
    def __init__(self, client: DynamoDBClient) -> None:
        self._client = client
        self._pending: dict[str, list[tuple[Key, asyncio.Future[Item | None]]]] = {}
        self._scheduled = False

    async def get(self, table: str, keys: Sequence[Key]) -> list[Item | None]:
        loop = asyncio.get_running_loop()
        futures: list[asyncio.Future[Item | None]] = []
        for key in keys:
            future: asyncio.Future[Item | None] = loop.create_future()
            self._pending.setdefault(table, []).append((key, future))
            futures.append(future)
        if not self._scheduled:
            self._scheduled = True
            # call_soon runs after every callback already queued: the other loaders of
            # this tick get their keys in first.
            loop.call_soon(lambda: asyncio.ensure_future(self._flush()))
        if len(futures) == 1:  # most loads: no gathering future and callbacks to build
            return [await futures[0]]
        return list(await asyncio.gather(*futures))

    async def _flush(self) -> None:
        pending, self._pending, self._scheduled = self._pending, {}, False
        try:
            found = await self._read(pending)
        except Exception as exc:  # noqa: BLE001 - handed to every waiting loader
            for waiting in pending.values():
                for _, future in waiting:
                    if not future.done():
                        future.set_exception(exc)
            return
        for table, waiting in pending.items():
            if len(waiting) == 1:  # found holds that key's item, if anything
                _, future = waiting[0]
                if not future.done():
                    future.set_result(found[table][0] if found[table] else None)
                continue
            key_names = list(waiting[0][0])
            by_key = {
                _marker({name: item[name] for name in key_names}): item for item in found[table]
            }
            for key, future in waiting:
                if not future.done():
                    future.set_result(by_key.get(_marker(key)))

    async def _read(
        self, pending: dict[str, list[tuple[Key, asyncio.Future[Item | None]]]]
    ) -> dict[str, list[Item]]:
        """Each table's items among the keys asked for."""
        if len(pending) == 1:
            [(table, waiting)] = pending.items()
            if len(waiting) == 1:
                # One key in the tick (often the request's own user): GetItem reads the
                # same for less work than a BatchGetItem of one, in botocore and DynamoDB.
                with translate_errors("GetItem"):
                    response = await self._client.get_item(
                        TableName=table, Key=to_item(waiting[0][0])
                    )
                item = response.get("Item")
                return {table: [from_item(item)] if item is not None else []}
        requests = {table: [key for key, _ in waiting] for table, waiting in pending.items()}
        return await batch_get(self._client, requests)


__all__ = ["TableBatcher"]
