"""Per-request loaders: one BatchGetItem for a tick's keys, whatever their tables."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from listbackup.aws import AwsClients
from listbackup.config import Settings
from listbackup.errors import InfrastructureError
from listbackup.loaders import Loaders
from listbackup.models.users import User
from listbackup.store import Store
from listbackup.store import users as user_items
from listbackup.store.dynamo import to_item
from tests.helpers import tenant

NOW = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.fixture
def batch_gets(aws: AwsClients) -> Iterator[list[dict[str, Any]]]:
    """The RequestItems of every BatchGetItem our test client makes."""
    calls: list[dict[str, Any]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        calls.append(params["RequestItems"])

    event = "before-parameter-build.dynamodb.BatchGetItem"
    aws.dynamodb.meta.events.register(event, record)
    yield calls
    aws.dynamodb.meta.events.unregister(event, record)


@pytest.fixture
def operations(aws: AwsClients) -> Iterator[list[str]]:
    """Every DynamoDB operation our test client makes."""
    calls: list[str] = []

    def record(model: Any, **_: Any) -> None:
        calls.append(model.name)

    event = "before-parameter-build.dynamodb"
    aws.dynamodb.meta.events.register(event, record)
    yield calls
    aws.dynamodb.meta.events.unregister(event, record)


async def test_a_lone_key_is_one_get_item(
    aws: AwsClients, settings: Settings, operations: list[str]
) -> None:
    store = Store.create(aws, settings.names)
    user = User(id="u-1", email="u1@example.com", name="One", created_at=NOW)
    await aws.dynamodb.put_item(
        TableName=store.users.table, Item=to_item(user_items.to_item_data(user))
    )
    operations.clear()
    loaders = Loaders(store, clock=lambda: NOW)

    found = await loaders.user.load("u-1")
    missing = await loaders.account.load("a-1")

    assert found == user
    assert missing is None
    assert operations == ["GetItem", "GetItem"]


async def test_a_failed_read_fails_every_loader_waiting_on_it(
    aws: AwsClients, settings: Settings
) -> None:
    # Tables under this prefix do not exist: DynamoDB answers ResourceNotFoundException.
    names = settings.model_copy(update={"resource_prefix": "no-such-stack"}).names
    loaders = Loaders(Store.create(aws, names), clock=lambda: NOW)

    with pytest.raises(InfrastructureError, match="GetItem failed: ResourceNotFound"):
        await loaders.user.load("u-1")
    both = await asyncio.gather(
        loaders.user.load("u-2"), loaders.account.load("a-1"), return_exceptions=True
    )
    assert [str(e) for e in both] == ["DynamoDB BatchGetItem failed: ResourceNotFoundException"] * 2


async def test_keys_of_several_tables_share_one_call(
    aws: AwsClients, settings: Settings, batch_gets: list[dict[str, Any]]
) -> None:
    loaders = Loaders(Store.create(aws, settings.names), clock=lambda: NOW)

    user, account, membership = await asyncio.gather(
        loaders.user.load("u-1"),
        loaders.account.load("a-1"),
        loaders.membership.load(("a-1", "u-1")),
    )

    assert (user, account, membership) == (None, None, None)
    assert len(batch_gets) == 1
    assert set(batch_gets[0]) == {
        settings.names.table("users"),
        settings.names.table("accounts"),
        settings.names.table("memberships"),
    }


async def test_a_tick_of_250_keys_is_three_calls_of_at_most_100(
    aws: AwsClients, settings: Settings, batch_gets: list[dict[str, Any]]
) -> None:
    loaders = Loaders(Store.create(aws, settings.names), clock=lambda: NOW)

    await asyncio.gather(
        loaders.account.load_many([f"a-{n}" for n in range(150)]),
        loaders.user.load_many([f"u-{n}" for n in range(100)]),
    )
    await loaders.account.load("a-1")  # cached: no call

    sizes = [sum(len(t["Keys"]) for t in call.values()) for call in batch_gets]
    assert sorted(sizes) == [50, 100, 100]


NESTED = """
query($id: ID!) { account(id: $id) {
  children(first: 100) { nodes {
    name viewerRole ancestors { name }
    members { nodes { role user { name } } }
  } }
  descendants(first: 100) { nodes { name } }
} }
"""


async def _calls(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture, token: str, root: str
) -> dict[str, int]:
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="listbackup.access"):
        body = (
            await client.post(
                "/graphql",
                json={"query": NESTED, "variables": {"id": root}},
                headers={"Authorization": f"Bearer {token}"},
            )
        ).json()
    assert "errors" not in body, body
    [record] = [r for r in caplog.records if hasattr(r, "dynamodb_calls")]
    counted: dict[str, int] = record.__dict__["dynamodb_calls"]
    return counted


async def test_nested_reads_cost_the_same_for_5_or_40_accounts(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    small = await tenant(client, "small@example.com")
    large = await tenant(client, "large@example.com")
    for n in range(5):
        await small.create(f"Small {n}", small.root)
    for n in range(40):
        await large.create(f"Large {n}", large.root)

    few = await _calls(client, caplog, small.token, small.root)
    many = await _calls(client, caplog, large.token, large.root)

    assert few == many
    assert few["BatchGetItem"] <= 4
    assert few["Query"] == 2  # children, descendants
