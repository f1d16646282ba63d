"""DynamoDB plumbing shared by the table stores: (de)serialisation, batching, errors."""

from __future__ import annotations

import asyncio
import json
import random
import re
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import BotoCoreError, ClientError

from listbackup.aws import error_code
from listbackup.errors import ConflictError, InfrastructureError

if TYPE_CHECKING:
    from types_aiobotocore_dynamodb import DynamoDBClient

Item = dict[str, Any]
Key = dict[str, Any]

#: BatchGetItem takes at most 100 keys a call; BatchWriteItem 25 requests.
BATCH_GET_LIMIT = 100
BATCH_WRITE_LIMIT = 25
_MAX_ATTEMPTS = 8
_BASE_DELAY = 0.05

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def to_item(data: Mapping[str, Any]) -> dict[str, Any]:
    """A plain dict to DynamoDB's attribute-value form; None values are left out."""
    return {k: _serializer.serialize(v) for k, v in data.items() if v is not None}


def from_item(item: Mapping[str, Any]) -> Item:
    return {k: _deserializer.deserialize(v) for k, v in item.items()}


@contextmanager
def translate_errors(action: str) -> Iterator[None]:
    """Turn botocore failures into domain errors at the store's edge."""
    try:
        yield
    except ClientError as exc:
        code = error_code(exc)
        if code in ("ConditionalCheckFailedException", "TransactionConflictException"):
            raise ConflictError("The item was changed by someone else; try again.") from exc
        raise InfrastructureError(f"DynamoDB {action} failed: {code}") from exc
    except BotoCoreError as exc:
        raise InfrastructureError(f"DynamoDB {action} failed: {type(exc).__name__}") from exc


def _chunks(seq: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(seq), size):
        yield seq[start : start + size]


async def _backoff(attempt: int) -> None:
    # Full jitter: spreads retries of concurrent requests apart.
    await asyncio.sleep(random.uniform(0, _BASE_DELAY * 2**attempt))  # noqa: S311


async def batch_get(
    client: DynamoDBClient, requests: Mapping[str, Sequence[Key]]
) -> dict[str, list[Item]]:
    """Fetch keys from one or more tables, ≤ 100 keys a call, retrying UnprocessedKeys.

    Keys of several tables share a call. Returns each table's found items, in no
    particular order; callers match them to keys.
    """
    pending: list[tuple[str, dict[str, Any]]] = []
    seen: set[tuple[str, str]] = set()
    for table, keys in requests.items():
        for key in keys:
            item = to_item(key)
            # DynamoDB refuses a call that names the same key twice.
            marker = (table, json.dumps(item, sort_keys=True))
            if marker not in seen:
                seen.add(marker)
                pending.append((table, item))
    found: dict[str, list[Item]] = {table: [] for table in requests}
    for chunk in _chunks(pending, BATCH_GET_LIMIT):
        request: dict[str, Any] = {}
        for table, key in chunk:
            request.setdefault(table, {"Keys": []})["Keys"].append(key)
        attempt = 0
        while request:
            with translate_errors("BatchGetItem"):
                response = await client.batch_get_item(RequestItems=request)
            for table, items in response.get("Responses", {}).items():
                found[table].extend(from_item(item) for item in items)
            request = dict(response.get("UnprocessedKeys") or {})
            if request:
                attempt += 1
                if attempt >= _MAX_ATTEMPTS:
                    raise InfrastructureError(
                        "DynamoDB BatchGetItem kept returning unprocessed keys"
                    )
                await _backoff(attempt)
    return found


async def batch_write(
    client: DynamoDBClient,
    table: str,
    *,
    puts: Sequence[Mapping[str, Any]] = (),
    deletes: Sequence[Key] = (),
) -> None:
    """Put and delete items, ≤ 25 requests a call, retrying UnprocessedItems."""
    writes: list[dict[str, Any]] = [{"PutRequest": {"Item": to_item(item)}} for item in puts]
    writes += [{"DeleteRequest": {"Key": to_item(key)}} for key in deletes]
    for chunk in _chunks(writes, BATCH_WRITE_LIMIT):
        request: dict[str, Any] = {table: list(chunk)}
        attempt = 0
        while request:
            with translate_errors("BatchWriteItem"):
                response = await client.batch_write_item(RequestItems=request)
            request = dict(response.get("UnprocessedItems") or {})
            if request:
                attempt += 1
                if attempt >= _MAX_ATTEMPTS:
                    raise InfrastructureError(
                        "DynamoDB BatchWriteItem kept returning unprocessed items"
                    )
                await _backoff(attempt)


async def paginate(client: DynamoDBClient, operation: str, **kwargs: Any) -> AsyncIterator[Item]:
    """Every item of a Query or Scan, page after page."""
    method = client.query if operation == "query" else client.scan
    while True:
        with translate_errors(operation):
            response = await method(**kwargs)
        for item in response.get("Items", []):
            yield from_item(item)
        last = response.get("LastEvaluatedKey")
        if not last:
            return
        kwargs["ExclusiveStartKey"] = last


def iso(moment: datetime) -> str:
    """Timestamps are stored as UTC ISO-8601 strings, so they sort as text."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def optional_time(value: str | None) -> datetime | None:
    return parse_time(value) if value else None


async def transact_write(client: DynamoDBClient, items: Sequence[Mapping[str, Any]]) -> None:
    """All of ``items`` or none of them (at most 100 per transaction)."""
    try:
        await client.transact_write_items(TransactItems=list(items))  # type: ignore[arg-type]
    except ClientError as exc:
        if _lost_a_race(exc):
            raise ConflictError("The item was changed by someone else; try again.") from exc
        raise InfrastructureError(f"DynamoDB TransactWriteItems failed: {error_code(exc)}") from exc
    except BotoCoreError as exc:
        raise InfrastructureError(
            f"DynamoDB TransactWriteItems failed: {type(exc).__name__}"
        ) from exc


#: Cancellation reasons that mean another write got there first, not a fault of ours.
_RACE_REASONS = frozenset({"ConditionalCheckFailed", "TransactionConflict"})


def _lost_a_race(exc: ClientError) -> bool:
    """Whether a transaction failed because of a concurrent write.

    Besides a failed condition or a conflicting transaction, DynamoDB refuses a
    transaction naming one item twice; ours only do when they were built from a read that
    a concurrent write overtook (two moves crossing: A under B while B goes under A).
    """
    code = error_code(exc)
    if code == "TransactionCanceledException":
        reasons = {r.get("Code") for r in exc.response.get("CancellationReasons", [])}
        return bool(reasons & _RACE_REASONS)
    message = str(exc.response.get("Error", {}).get("Message", ""))
    return code == "ValidationException" and "multiple operations on one item" in message


def put_new(table: str, item: Mapping[str, Any], key: str) -> dict[str, Any]:
    """A transaction Put that fails if an item with the same key exists."""
    return {
        "Put": {
            "TableName": table,
            "Item": to_item(item),
            "ConditionExpression": "attribute_not_exists(#k)",
            "ExpressionAttributeNames": {"#k": key},
        }
    }


def update_request(
    table: str, key: Mapping[str, Any], changes: Mapping[str, Any]
) -> dict[str, Any]:
    """An UpdateItem on an existing item: SET each change, REMOVE the ones that are None;
    returns the item as it is afterwards."""
    names = {f"#a{i}": name for i, name in enumerate(changes)}
    values = {
        f":v{i}": iso(v) if isinstance(v, datetime) else v
        for i, v in enumerate(changes.values())
        if v is not None
    }
    sets = [f"#a{i} = :v{i}" for i, v in enumerate(changes.values()) if v is not None]
    removes = [f"#a{i}" for i, v in enumerate(changes.values()) if v is None]
    clauses = [("SET", sets), ("REMOVE", removes)]
    request: dict[str, Any] = {
        "TableName": table,
        "Key": to_item(key),
        "UpdateExpression": " ".join(
            f"{verb} {', '.join(parts)}" for verb, parts in clauses if parts
        ),
        "ConditionExpression": f"attribute_exists({next(iter(key))})",
        "ExpressionAttributeNames": names,
        "ReturnValues": "ALL_NEW",
    }
    if values:
        request["ExpressionAttributeValues"] = to_item(values)
    return request


async def query_page(
    client: DynamoDBClient, first: int, start: Mapping[str, Any] | None, **query: Any
) -> tuple[list[Item], dict[str, Any] | None]:
    """One page of a Query: the items and the LastEvaluatedKey (None on the last page).

    ``first`` 0 is an empty page that reads nothing (DynamoDB refuses a Limit of 0). With a
    ``FilterExpression`` use :func:`filtered_page`: DynamoDB filters after ``Limit``, so a
    filtered page of this kind comes back short."""
    if first == 0:
        return [], None
    request: dict[str, Any] = {"Limit": first, **query}
    if start:
        request["ExclusiveStartKey"] = to_item(start)
    with translate_errors("Query"):
        response = await client.query(**request)
    last = response.get("LastEvaluatedKey")
    return [from_item(i) for i in response.get("Items", [])], from_item(last) if last else None


async def filtered_page(
    client: DynamoDBClient,
    first: int,
    start: Mapping[str, Any] | None,
    key_names: Sequence[str],
    **query: Any,
) -> tuple[list[Item], dict[str, Any] | None]:
    """One full page of a Query with a ``FilterExpression``: reads on until ``first + 1``
    items match (or the index ends), so a page is short only when it is the last, and the
    cursor is the key of the last item returned."""
    if first == 0:
        return [], None
    found: list[Item] = []
    cursor = start
    while True:
        request: dict[str, Any] = {"Limit": _FILTERED_READ, **query}
        if cursor:
            request["ExclusiveStartKey"] = to_item(cursor)
        with translate_errors("Query"):
            response = await client.query(**request)
        found += [from_item(i) for i in response.get("Items", [])]
        last = response.get("LastEvaluatedKey")
        if len(found) > first or not last:
            break
        cursor = from_item(last)
    if len(found) <= first:
        return found, None
    kept = found[:first]
    return kept, {name: kept[-1][name] for name in key_names}


#: Items read per request by :func:`filtered_page`, matching or not.
_FILTERED_READ = 100


@dataclass(frozen=True, slots=True)
class Filter:
    """A ``FilterExpression`` with the values (and attribute names) it refers to."""

    expression: str
    values: Mapping[str, Any]
    names: Mapping[str, str] = field(default_factory=dict)


async def page_of(
    client: DynamoDBClient,
    first: int,
    start: Mapping[str, Any] | None,
    key_names: Sequence[str],
    *,
    values: Mapping[str, Any],
    where: Filter | None,
    **query: Any,
) -> tuple[list[Item], dict[str, Any] | None]:
    """A page of a Query whose key condition refers to ``values``: :func:`query_page`,
    or :func:`filtered_page` when ``where`` filters it."""
    if where is None:
        return await query_page(
            client, first, start, ExpressionAttributeValues=to_item(values), **query
        )
    if where.names:
        query["ExpressionAttributeNames"] = dict(where.names)
    return await filtered_page(
        client,
        first,
        start,
        key_names,
        FilterExpression=where.expression,
        ExpressionAttributeValues=to_item({**values, **where.values}),
        **query,
    )


def update_parts(
    *,
    set_: Mapping[str, Any] | None = None,
    add: Mapping[str, int] | None = None,
    remove: Sequence[str] = (),
    condition: str | None = None,
    values: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The expression parts of an UpdateItem: SET, ADD and REMOVE attributes by name.

    ``condition`` names attributes as ``#attr`` (each becomes that attribute's name) and
    values as ``:value`` (from ``values``). SET values that are None are REMOVEd.
    """
    names: dict[str, str] = {}
    bound: dict[str, Any] = dict(values or {})
    sets, adds, removes = [], [], [f"#_r{i}" for i in range(len(remove))]
    names |= {f"#_r{i}": attr for i, attr in enumerate(remove)}
    for i, (attr, value) in enumerate((set_ or {}).items()):
        names[f"#_s{i}"] = attr
        if value is None:
            removes.append(f"#_s{i}")
        else:
            sets.append(f"#_s{i} = :_s{i}")
            bound[f":_s{i}"] = iso(value) if isinstance(value, datetime) else value
    for i, (attr, amount) in enumerate((add or {}).items()):
        names[f"#_n{i}"] = attr
        adds.append(f"#_n{i} :_n{i}")
        bound[f":_n{i}"] = amount
    clauses = [("SET", sets), ("ADD", adds), ("REMOVE", removes)]
    parts: dict[str, Any] = {
        "UpdateExpression": " ".join(f"{verb} {', '.join(p)}" for verb, p in clauses if p),
        "ExpressionAttributeNames": names,
    }
    if condition:
        for attr in re.findall(r"#(\w+)", condition):
            names[f"#{attr}"] = attr
        parts["ConditionExpression"] = condition
    if bound:
        parts["ExpressionAttributeValues"] = to_item(bound)
    return parts
