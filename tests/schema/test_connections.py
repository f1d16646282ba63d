"""API-key connections over HTTP, with the built-in demo platform (no network)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from listbackup import ids
from listbackup.aws import AwsClients
from listbackup.config import Settings
from listbackup.models.connections import Connection, ConnectionStatus
from listbackup.models.platforms import AuthType
from listbackup.store import Store
from tests.helpers import Tenant, error_codes, tenant

DEMO_ID = ids.encode(ids.PLATFORM, "demo")
SECRET_KEY = "demo-secret-key-5f4dcc3b5aa765d61d8327deb882cf99"
CREATE = """
mutation($input: ApiKeyConnectionInput!) {
  createApiKeyConnection(input: $input) {
    id name status authType externalAccount lastTestedAt lastError
    platform { slug } account { id }
  }
}
"""
TEST = "mutation($id: ID!) { testConnection(id: $id) { ok message connection { status } } }"
UPDATE = """
mutation($id: ID!, $input: UpdateConnectionInput!) {
  updateConnection(id: $id, input: $input) { name status externalAccount }
}
"""
LIST = """
query($id: ID!, $platform: ID) { account(id: $id) {
  connections(platformId: $platform) { nodes { id name } pageInfo { hasNextPage } }
} }
"""


async def create(ada: Tenant, **credentials: Any) -> dict[str, Any]:
    return await ada.call(
        CREATE,
        input={
            "accountId": ada.root,
            "platformId": DEMO_ID,
            "name": "Demo CRM",
            "credentials": credentials,
        },
    )


async def test_a_demo_connection_is_checked_saved_and_listed(client: httpx.AsyncClient) -> None:
    ada = await tenant(client, "connect@example.com")

    created = (await create(ada, apiKey=SECRET_KEY, recordsPerType="50"))["data"][
        "createApiKeyConnection"
    ]
    listed = await ada.call(LIST, id=ada.root, platform=DEMO_ID)
    other_platform = await ada.call(LIST, id=ada.root, platform=ids.encode(ids.PLATFORM, "stripe"))
    tested = await ada.call(TEST, id=created["id"])
    by_node = await ada.call(
        "query($id: ID!) { node(id: $id) { ... on PlatformConnection { name } } }",
        id=created["id"],
    )

    assert created["status"] == "ACTIVE"
    assert created["authType"] == "API_KEY"
    assert created["externalAccount"].startswith("Demo workspace")
    assert created["platform"] == {"slug": "demo"}
    assert created["account"] == {"id": ada.root}
    assert created["lastTestedAt"] is not None
    assert listed["data"]["account"]["connections"]["nodes"] == [
        {"id": created["id"], "name": "Demo CRM"}
    ]
    assert other_platform["data"]["account"]["connections"]["nodes"] == []
    assert tested["data"]["testConnection"] == {
        "ok": True,
        "message": None,
        "connection": {"status": "ACTIVE"},
    }
    assert by_node["data"]["node"] == {"name": "Demo CRM"}


async def test_secrets_are_sealed_at_rest(
    client: httpx.AsyncClient, aws: AwsClients, settings: Settings
) -> None:
    ada = await tenant(client, "sealed@example.com")
    await create(ada, apiKey=SECRET_KEY)

    raw = []
    for table in ("connections", "credentials"):
        items = (await aws.dynamodb.scan(TableName=settings.names.table(table)))["Items"]
        raw.append(repr(items))

    assert all(raw)
    assert not any(SECRET_KEY in text or SECRET_KEY.encode().hex() in text for text in raw)


@pytest.mark.parametrize(
    "case",
    [
        ({}, "credentials.apiKey", None),
        ({"apiKey": "   "}, "credentials.apiKey", None),
        ({"apiKey": SECRET_KEY, "password": "x"}, "credentials", None),
        ({"apiKey": SECRET_KEY, "recordsPerType": "lots"}, None, "INVALID_CREDENTIALS"),
    ],
)
async def test_bad_credentials_are_refused_and_nothing_is_saved(
    client: httpx.AsyncClient,
    aws: AwsClients,
    settings: Settings,
    case: tuple[dict[str, Any], str | None, str | None],
) -> None:
    credentials, field, reason = case
    ada = await tenant(client, "badcreds@example.com")

    body = await create(ada, **credentials)

    assert error_codes(body) == ["BAD_USER_INPUT"]
    extensions = body["errors"][0]["extensions"]
    assert extensions.get("field") == field
    assert extensions.get("reason") == reason
    for table in ("connections", "credentials"):
        assert (await aws.dynamodb.scan(TableName=settings.names.table(table)))["Items"] == []


async def test_oauth_platforms_do_not_take_api_keys(client: httpx.AsyncClient) -> None:
    ada = await tenant(client, "notkey@example.com")

    body = await ada.call(
        CREATE,
        input={
            "accountId": ada.root,
            "platformId": ids.encode(ids.PLATFORM, "stripe"),
            "name": "Stripe",
            "credentials": {"apiKey": "sk_test"},
        },
    )

    assert body["errors"][0]["extensions"]["reason"] == "NOT_AN_API_KEY_PLATFORM"


async def test_update_rename_and_rotate_credentials(client: httpx.AsyncClient) -> None:
    ada = await tenant(client, "rotate@example.com")
    connection_id = (await create(ada, apiKey=SECRET_KEY))["data"]["createApiKeyConnection"]["id"]

    renamed = await ada.call(UPDATE, id=connection_id, input={"name": "Renamed"})
    rotated = await ada.call(UPDATE, id=connection_id, input={"credentials": {"apiKey": "new-key"}})
    refused = await ada.call(UPDATE, id=connection_id, input={"credentials": {"apiKey": ""}})

    assert renamed["data"]["updateConnection"]["name"] == "Renamed"
    rotated_connection = rotated["data"]["updateConnection"]
    assert rotated_connection["status"] == "ACTIVE"
    assert rotated_connection["externalAccount"].startswith("Demo workspace")
    assert error_codes(refused) == ["BAD_USER_INPUT"]


async def test_delete_is_refused_while_a_source_uses_it(
    client: httpx.AsyncClient, aws: AwsClients, settings: Settings
) -> None:
    ada = await tenant(client, "inuse@example.com")
    connection_id = (await create(ada, apiKey=SECRET_KEY))["data"]["createApiKeyConnection"]["id"]
    key = ids.decode_as(ids.CONNECTION, connection_id)
    assert key
    source = {
        "id": {"S": "source-1"},
        "accountId": {"S": "whatever"},
        "connectionId": {"S": key},
        "createdAt": {"S": "2026-01-01T00:00:00.000Z"},
    }
    sources = settings.names.table("sources")
    delete = "mutation($id: ID!) { deleteConnection(id: $id) }"

    await aws.dynamodb.put_item(TableName=sources, Item=source)
    refused = await ada.call(delete, id=connection_id)
    await aws.dynamodb.delete_item(TableName=sources, Key={"id": source["id"]})
    deleted = await ada.call(delete, id=connection_id)
    gone = await ada.call("query($id: ID!) { connection(id: $id) { id } }", id=connection_id)

    assert refused["errors"][0]["extensions"]["reason"] == "CONNECTION_IN_USE"
    assert deleted == {"data": {"deleteConnection": connection_id}}
    assert error_codes(gone) == ["NOT_FOUND"]
    credentials = settings.names.table("credentials")
    assert (await aws.dynamodb.scan(TableName=credentials))["Items"] == []


async def test_a_platform_filter_pages_full_pages_never_short_ones(
    client: httpx.AsyncClient, aws: AwsClients, settings: Settings
) -> None:
    ada = await tenant(client, "filter@example.com")
    store = Store.create(aws, settings.names)
    account = ids.decode_as(ids.ACCOUNT, ada.root)
    assert account
    start = datetime(2026, 1, 1, tzinfo=UTC)
    # Oldest first: stripe, demo, stripe, stripe, demo, stripe, demo.
    for n, platform in enumerate(["stripe", "demo", "stripe", "stripe", "demo", "stripe", "demo"]):
        connection = Connection(
            id=f"c{n}",
            account_id=account,
            platform=platform,
            name=f"{platform} {n}",
            auth_type=AuthType.API_KEY,
            status=ConnectionStatus.ACTIVE,
            created_at=start + timedelta(minutes=n),
        )
        await store.transact([store.connections.put_new(connection)])
    page = """
    query($id: ID!, $platform: ID, $after: String) { account(id: $id) {
      connections(platformId: $platform, first: 2, after: $after) {
        nodes { name } pageInfo { hasNextPage endCursor }
      }
    } }
    """

    first = (await ada.call(page, id=ada.root, platform=DEMO_ID))["data"]["account"]
    cursor = first["connections"]["pageInfo"]["endCursor"]
    second = (await ada.call(page, id=ada.root, platform=DEMO_ID, after=cursor))["data"]

    assert first["connections"] == {
        "nodes": [{"name": "demo 1"}, {"name": "demo 4"}],
        "pageInfo": {"hasNextPage": True, "endCursor": cursor},
    }
    assert second["account"]["connections"] == {
        "nodes": [{"name": "demo 6"}],
        "pageInfo": {"hasNextPage": False, "endCursor": None},
    }
