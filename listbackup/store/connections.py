"""The connections table: what a connection is, never its secrets (those are in the vault)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from listbackup.models.connections import Connection, ConnectionStatus
from listbackup.models.pages import Page
from listbackup.models.platforms import AuthType
from listbackup.store.dynamo import (
    Filter,
    Item,
    from_item,
    iso,
    optional_time,
    page_of,
    parse_time,
    put_new,
    to_item,
    translate_errors,
    update_request,
)
from listbackup.store.pages import PageRequest, encode_cursor

if TYPE_CHECKING:
    from types_aiobotocore_dynamodb import DynamoDBClient

ACCOUNT_INDEX = "account-index"
ACCOUNT_INDEX_KEYS = ("id", "accountId", "createdAt")


class ConnectionStore:
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._client = client
        self.table = table

    def put_new(self, connection: Connection) -> dict[str, Any]:
        return put_new(self.table, _to_item(connection), "id")

    def put(self, connection: Connection) -> dict[str, Any]:
        """Overwrite an existing connection (reconnect), in a transaction."""
        return {
            "Put": {
                "TableName": self.table,
                "Item": to_item(_to_item(connection)),
                "ConditionExpression": "attribute_exists(id)",
            }
        }

    def delete(self, connection_id: str) -> dict[str, Any]:
        return {
            "Delete": {
                "TableName": self.table,
                "Key": to_item({"id": connection_id}),
                "ConditionExpression": "attribute_exists(id)",
            }
        }

    async def list_by_account(
        self, owner: tuple[str, str | None], page: PageRequest
    ) -> Page[Connection]:
        """An account's connections, oldest first; of one platform when it is given."""
        account_id, platform = owner
        query: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": ACCOUNT_INDEX,
            "KeyConditionExpression": "accountId = :a",
        }
        items, last = await page_of(
            self._client,
            page.first,
            page.start,
            ACCOUNT_INDEX_KEYS,
            values={":a": account_id},
            where=Filter("platform = :p", {":p": platform}) if platform else None,
            **query,
        )
        return Page([to_model(item) for item in items], encode_cursor(last))

    async def update(self, connection_id: str, changes: Mapping[str, Any]) -> Connection:
        with translate_errors("UpdateItem"):
            response = await self._client.update_item(
                **update_request(self.table, {"id": connection_id}, changes)
            )
        return to_model(from_item(response["Attributes"]))


def _to_item(connection: Connection) -> dict[str, Any]:
    return {
        "id": connection.id,
        "accountId": connection.account_id,
        "platform": connection.platform,
        "name": connection.name,
        "authType": connection.auth_type.value,
        "status": connection.status.value,
        "createdAt": iso(connection.created_at),
        "createdBy": connection.created_by,
        "externalAccount": connection.external_account,
        "expiresAt": iso(connection.expires_at) if connection.expires_at else None,
        "lastTestedAt": iso(connection.last_tested_at) if connection.last_tested_at else None,
        "lastError": connection.last_error,
    }


def to_model(item: Item) -> Connection:
    return Connection(
        id=item["id"],
        account_id=item["accountId"],
        platform=item["platform"],
        name=item["name"],
        auth_type=AuthType(item["authType"]),
        status=ConnectionStatus(item["status"]),
        created_at=parse_time(item["createdAt"]),
        created_by=item.get("createdBy"),
        external_account=item.get("externalAccount"),
        expires_at=optional_time(item.get("expiresAt")),
        last_tested_at=optional_time(item.get("lastTestedAt")),
        last_error=item.get("lastError"),
    )
