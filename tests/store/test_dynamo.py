from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, cast

import pytest
from botocore.exceptions import ClientError

from listbackup.aws import AwsClients
from listbackup.config import Settings
from listbackup.errors import ConflictError, InfrastructureError
from listbackup.store import dynamo
from listbackup.store.dynamo import (
    BATCH_GET_LIMIT,
    BATCH_WRITE_LIMIT,
    batch_get,
    batch_write,
    from_item,
    paginate,
    to_item,
    translate_errors,
)

if TYPE_CHECKING:
    from types_aiobotocore_dynamodb import DynamoDBClient


@contextmanager
def recorded_calls(client: DynamoDBClient, operation: str) -> Iterator[list[dict[str, Any]]]:
    """The API parameters of every ``operation`` call the client makes inside the block."""
    calls: list[dict[str, Any]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        calls.append(params)  # returning None lets the call go ahead

    event = f"before-parameter-build.dynamodb.{operation}"
    client.meta.events.register(event, record)
    try:
        yield calls
    finally:
        client.meta.events.unregister(event, record)


def _ids(items: list[dict[str, Any]], attribute: str = "id") -> list[str]:
    return sorted(str(item[attribute]) for item in items)


# --- serialisation --------------------------------------------------------------------------


def test_to_item_drops_none_and_round_trips_through_from_item() -> None:
    data = {"id": "a", "n": 3, "tags": ["x", "y"], "nested": {"ok": True}, "gone": None}

    item = to_item(data)

    assert "gone" not in item
    assert item["id"] == {"S": "a"}
    assert from_item(item) == {
        "id": "a",
        "n": Decimal(3),
        "tags": ["x", "y"],
        "nested": {"ok": True},
    }


# --- batch_get ------------------------------------------------------------------------------


async def test_batch_get_chunks_keys_of_two_tables_into_calls_of_100(
    aws: AwsClients, settings: Settings
) -> None:
    users, connections = settings.names.table("users"), settings.names.table("connections")
    await batch_write(aws.dynamodb, users, puts=[{"id": f"u{i}", "n": i} for i in range(130)])
    await batch_write(aws.dynamodb, connections, puts=[{"id": f"c{i}"} for i in range(95)])
    requests = {
        users: [{"id": f"u{i}"} for i in range(130)],
        connections: [{"id": f"c{i}"} for i in range(95)],
    }

    with recorded_calls(aws.dynamodb, "BatchGetItem") as calls:
        found = await batch_get(aws.dynamodb, requests)

    assert len(calls) == math.ceil(225 / BATCH_GET_LIMIT) == 3
    sizes = [sum(len(t["Keys"]) for t in c["RequestItems"].values()) for c in calls]
    assert sizes == [100, 100, 25]
    # The second call carries keys of both tables.
    assert set(calls[1]["RequestItems"]) == {users, connections}
    assert _ids(found[users]) == sorted(f"u{i}" for i in range(130))
    assert _ids(found[connections]) == sorted(f"c{i}" for i in range(95))
    assert {item["id"]: item["n"] for item in found[users]}["u129"] == 129


async def test_batch_get_of_exactly_100_keys_is_one_call(
    aws: AwsClients, settings: Settings
) -> None:
    users = settings.names.table("users")
    await batch_write(aws.dynamodb, users, puts=[{"id": f"u{i}"} for i in range(100)])

    with recorded_calls(aws.dynamodb, "BatchGetItem") as calls:
        found = await batch_get(aws.dynamodb, {users: [{"id": f"u{i}"} for i in range(100)]})

    assert len(calls) == 1
    assert len(found[users]) == 100


async def test_batch_get_leaves_missing_keys_out(aws: AwsClients, settings: Settings) -> None:
    users, jobs = settings.names.table("users"), settings.names.table("jobs")
    await batch_write(aws.dynamodb, users, puts=[{"id": "here"}, {"id": "also-here"}])

    found = await batch_get(
        aws.dynamodb,
        {users: [{"id": "here"}, {"id": "gone"}, {"id": "also-here"}], jobs: [{"id": "nope"}]},
    )

    assert _ids(found[users]) == ["also-here", "here"]
    assert found[jobs] == []


async def test_batch_get_of_composite_keys(aws: AwsClients, settings: Settings) -> None:
    logs = settings.names.table("job-logs")
    await batch_write(aws.dynamodb, logs, puts=[{"jobId": "j1", "seq": "0001", "line": "hello"}])

    found = await batch_get(
        aws.dynamodb, {logs: [{"jobId": "j1", "seq": "0001"}, {"jobId": "j1", "seq": "0002"}]}
    )

    assert found[logs] == [{"jobId": "j1", "seq": "0001", "line": "hello"}]


async def test_batch_get_with_no_keys_makes_no_call(aws: AwsClients, settings: Settings) -> None:
    users = settings.names.table("users")

    with recorded_calls(aws.dynamodb, "BatchGetItem") as calls:
        found = await batch_get(aws.dynamodb, {users: []})

    assert calls == []
    assert found == {users: []}


class _UnprocessedKeysClient:
    """Stands in for DynamoDB, which moto cannot make return UnprocessedKeys.

    Answers each BatchGetItem with the first ``serve`` keys of every table and hands the
    rest back as UnprocessedKeys; ``serve=0`` never makes progress.
    """

    def __init__(self, serve: int) -> None:
        self.serve = serve
        self.requests: list[dict[str, Any]] = []

    async def batch_get_item(self, *, RequestItems: dict[str, Any]) -> dict[str, Any]:
        self.requests.append(RequestItems)
        responses: dict[str, list[dict[str, Any]]] = {}
        unprocessed: dict[str, Any] = {}
        for table, request in RequestItems.items():
            keys = request["Keys"]
            responses[table] = [{**key, "found": {"BOOL": True}} for key in keys[: self.serve]]
            if keys[self.serve :]:
                unprocessed[table] = {"Keys": keys[self.serve :]}
        return {"Responses": responses, "UnprocessedKeys": unprocessed}


@pytest.fixture
def backoffs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record the back-off attempts instead of sleeping through them."""
    attempts: list[int] = []

    async def no_wait(attempt: int) -> None:
        attempts.append(attempt)

    monkeypatch.setattr(dynamo, "_backoff", no_wait)
    return attempts


async def test_batch_get_retries_unprocessed_keys_until_done(backoffs: list[int]) -> None:
    fake = _UnprocessedKeysClient(serve=2)
    keys = [{"id": f"k{i}"} for i in range(5)]

    found = await batch_get(cast("DynamoDBClient", fake), {"t": keys, "u": [{"id": "only"}]})

    assert _ids(found["t"]) == [f"k{i}" for i in range(5)]
    assert found["u"] == [{"id": "only", "found": True}]
    # 5 keys at 2 a call: the retries ask only for what is still missing.
    assert [len(r.get("t", {"Keys": []})["Keys"]) for r in fake.requests] == [5, 3, 1]
    assert "u" not in fake.requests[1]
    assert backoffs == [1, 2]


async def test_batch_get_gives_up_on_keys_that_stay_unprocessed(backoffs: list[int]) -> None:
    fake = _UnprocessedKeysClient(serve=0)

    with pytest.raises(InfrastructureError, match="unprocessed keys"):
        await batch_get(cast("DynamoDBClient", fake), {"t": [{"id": "stuck"}]})

    assert len(fake.requests) == dynamo._MAX_ATTEMPTS
    assert backoffs == list(range(1, dynamo._MAX_ATTEMPTS))


async def test_backoff_sleeps_with_growing_jitter(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)

    # Only the dynamo module's view of asyncio and random: the session loop keeps the real ones.
    monkeypatch.setattr(dynamo, "asyncio", SimpleNamespace(sleep=fake_sleep))
    monkeypatch.setattr(dynamo, "random", SimpleNamespace(uniform=lambda low, high: high))

    for attempt in (1, 2, 3):
        await dynamo._backoff(attempt)

    assert slept == [dynamo._BASE_DELAY * 2, dynamo._BASE_DELAY * 4, dynamo._BASE_DELAY * 8]


# --- batch_write ----------------------------------------------------------------------------


async def test_batch_write_puts_more_than_25_items_in_chunks(
    aws: AwsClients, settings: Settings
) -> None:
    users = settings.names.table("users")
    items = [{"id": f"u{i:03}", "email": f"u{i}@example.com", "note": None} for i in range(60)]

    with recorded_calls(aws.dynamodb, "BatchWriteItem") as calls:
        await batch_write(aws.dynamodb, users, puts=items)

    assert len(calls) == math.ceil(60 / BATCH_WRITE_LIMIT) == 3
    assert [len(c["RequestItems"][users]) for c in calls] == [25, 25, 10]
    stored = [item async for item in paginate(aws.dynamodb, "scan", TableName=users)]
    assert _ids(stored) == [f"u{i:03}" for i in range(60)]
    assert all("note" not in item for item in stored)


async def test_batch_write_deletes_and_puts_in_one_pass(
    aws: AwsClients, settings: Settings
) -> None:
    users = settings.names.table("users")
    await batch_write(aws.dynamodb, users, puts=[{"id": f"old{i}"} for i in range(30)])

    await batch_write(
        aws.dynamodb,
        users,
        puts=[{"id": f"new{i}"} for i in range(10)],
        deletes=[{"id": f"old{i}"} for i in range(30)],
    )

    stored = [item async for item in paginate(aws.dynamodb, "scan", TableName=users)]
    assert _ids(stored) == sorted(f"new{i}" for i in range(10))


async def test_batch_write_of_nothing_makes_no_call(aws: AwsClients, settings: Settings) -> None:
    with recorded_calls(aws.dynamodb, "BatchWriteItem") as calls:
        await batch_write(aws.dynamodb, settings.names.table("users"))

    assert calls == []


class _UnprocessedItemsClient:
    """Hands back the last write of every call as unprocessed, ``stubborn`` times at most."""

    def __init__(self, stubborn: int) -> None:
        self.stubborn = stubborn
        self.requests: list[dict[str, Any]] = []

    async def batch_write_item(self, *, RequestItems: dict[str, Any]) -> dict[str, Any]:
        self.requests.append(RequestItems)
        if len(self.requests) > self.stubborn:
            return {"UnprocessedItems": {}}
        return {"UnprocessedItems": {t: writes[-1:] for t, writes in RequestItems.items()}}


async def test_batch_write_retries_unprocessed_items(backoffs: list[int]) -> None:
    fake = _UnprocessedItemsClient(stubborn=2)

    await batch_write(cast("DynamoDBClient", fake), "t", puts=[{"id": "a"}, {"id": "b"}])

    assert [len(r["t"]) for r in fake.requests] == [2, 1, 1]
    assert fake.requests[1]["t"] == [{"PutRequest": {"Item": {"id": {"S": "b"}}}}]
    assert backoffs == [1, 2]


async def test_batch_write_gives_up_on_items_that_stay_unprocessed(
    backoffs: list[int],
) -> None:
    fake = _UnprocessedItemsClient(stubborn=1_000)

    with pytest.raises(InfrastructureError, match="unprocessed items"):
        await batch_write(cast("DynamoDBClient", fake), "t", deletes=[{"id": "a"}])

    assert len(fake.requests) == dynamo._MAX_ATTEMPTS


# --- translate_errors -----------------------------------------------------------------------


async def test_failed_condition_becomes_a_conflict(aws: AwsClients, settings: Settings) -> None:
    users = settings.names.table("users")
    await aws.dynamodb.put_item(TableName=users, Item=to_item({"id": "taken"}))

    with pytest.raises(ConflictError) as caught, translate_errors("PutItem"):
        await aws.dynamodb.put_item(
            TableName=users,
            Item=to_item({"id": "taken", "email": "second@example.com"}),
            ConditionExpression="attribute_not_exists(id)",
        )

    assert caught.value.code == "CONFLICT"
    assert isinstance(caught.value.__cause__, ClientError)
    stored = await aws.dynamodb.get_item(TableName=users, Key=to_item({"id": "taken"}))
    assert "email" not in stored["Item"]


async def test_other_client_errors_become_infrastructure_errors(aws: AwsClients) -> None:
    with pytest.raises(InfrastructureError) as caught, translate_errors("GetItem"):
        await aws.dynamodb.get_item(
            TableName="listbackup-test-no-such-table", Key=to_item({"id": "x"})
        )

    assert str(caught.value) == "DynamoDB GetItem failed: ResourceNotFoundException"
    assert isinstance(caught.value.__cause__, ClientError)
    assert not isinstance(caught.value, ConflictError)


async def test_invalid_request_becomes_an_infrastructure_error(
    aws: AwsClients, settings: Settings
) -> None:
    logs = settings.names.table("job-logs")

    with pytest.raises(InfrastructureError, match="BatchGetItem failed: ValidationException"):
        await batch_get(aws.dynamodb, {logs: [{"jobId": "j1"}]})  # no range key


async def test_a_transaction_built_from_an_overtaken_read_is_a_conflict(
    aws: AwsClients, settings: Settings
) -> None:
    """Naming one item twice only happens when a concurrent write changed what was read
    (two moves crossing); any other invalid transaction stays an infrastructure error."""
    users = settings.names.table("users")
    add = {"Update": {"TableName": users, "Key": to_item({"id": "u"}),
                      "UpdateExpression": "ADD hits :one",
                      "ExpressionAttributeValues": to_item({":one": 1})}}  # fmt: skip

    with pytest.raises(ConflictError):
        await dynamo.transact_write(aws.dynamodb, [add, add])
    with pytest.raises(InfrastructureError, match="ValidationException"):
        await dynamo.transact_write(
            aws.dynamodb, [{"Update": {**add["Update"], "UpdateExpression": "SET"}}]
        )
    assert "Item" not in await aws.dynamodb.get_item(TableName=users, Key=to_item({"id": "u"}))


def test_translate_errors_lets_other_exceptions_through() -> None:
    with pytest.raises(KeyError), translate_errors("Nothing"):
        raise KeyError("not an AWS failure")


# --- paginate -------------------------------------------------------------------------------


async def test_paginate_scans_every_page(aws: AwsClients, settings: Settings) -> None:
    users = settings.names.table("users")
    await batch_write(aws.dynamodb, users, puts=[{"id": f"u{i}"} for i in range(7)])

    with recorded_calls(aws.dynamodb, "Scan") as calls:
        items = [item async for item in paginate(aws.dynamodb, "scan", TableName=users, Limit=2)]

    assert _ids(items) == sorted(f"u{i}" for i in range(7))
    assert len(calls) >= math.ceil(7 / 2)
    assert "ExclusiveStartKey" not in calls[0]
    assert all("ExclusiveStartKey" in c for c in calls[1:])


async def test_paginate_queries_every_page_of_an_index(aws: AwsClients, settings: Settings) -> None:
    jobs = settings.names.table("jobs")
    await batch_write(
        aws.dynamodb,
        jobs,
        puts=[
            *(
                {"id": f"j{i}", "accountId": "a1", "createdAt": f"2024-01-{i + 1:02}"}
                for i in range(5)
            ),
            {"id": "other", "accountId": "a2", "createdAt": "2024-01-01"},
        ],
    )

    with recorded_calls(aws.dynamodb, "Query") as calls:
        items = [
            item
            async for item in paginate(
                aws.dynamodb,
                "query",
                TableName=jobs,
                IndexName="account-index",
                KeyConditionExpression="accountId = :a",
                ExpressionAttributeValues=to_item({":a": "a1"}),
                Limit=2,
            )
        ]

    assert [item["createdAt"] for item in items] == [f"2024-01-{i:02}" for i in range(1, 6)]
    assert len(calls) >= 3


async def test_paginate_of_an_empty_table_is_one_call(aws: AwsClients, settings: Settings) -> None:
    with recorded_calls(aws.dynamodb, "Scan") as calls:
        items = [
            item
            async for item in paginate(
                aws.dynamodb, "scan", TableName=settings.names.table("sources")
            )
        ]

    assert items == []
    assert len(calls) == 1


async def test_paginate_translates_errors(aws: AwsClients) -> None:
    with pytest.raises(InfrastructureError, match="scan failed: ResourceNotFoundException"):
        async for _ in paginate(aws.dynamodb, "scan", TableName="listbackup-test-missing"):
            pass
