"""One BatchGetItem for the keys of every table asked for in the same event-loop tick.

Each per-request loader hands its keys here instead of calling DynamoDB itself. The first
request of a tick schedules a flush for the next tick, so loaders of different tables
(users, accounts, memberships...) dispatching together share BatchGetItem calls of up to
100 keys, whatever table the keys belong to.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Generic, TypeVar

from aiodataloader import DataLoader

from listbackup.store.dynamo import Item, Key, batch_get

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
        return list(await asyncio.gather(*futures))

    async def _flush(self) -> None:
        pending, self._pending, self._scheduled = self._pending, {}, False
        requests = {table: [key for key, _ in waiting] for table, waiting in pending.items()}
        try:
            found = await batch_get(self._client, requests)
        except Exception as exc:  # noqa: BLE001 - handed to every waiting loader
            for waiting in pending.values():
                for _, future in waiting:
                    if not future.done():
                        future.set_exception(exc)
            return
        for table, waiting in pending.items():
            key_names = list(waiting[0][0]) if waiting else []
            by_key = {
                _marker({name: item[name] for name in key_names}): item for item in found[table]
            }
            for key, future in waiting:
                if not future.done():
                    future.set_result(by_key.get(_marker(key)))


__all__ = ["TableBatcher"]
