"""The oauth-states table: one-time ``state`` values of OAuth flows in progress."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from listbackup.errors import ConflictError
from listbackup.store.dynamo import from_item, to_item, translate_errors

if TYPE_CHECKING:
    from types_aiobotocore_dynamodb import DynamoDBClient


@dataclass(frozen=True, slots=True)
class OAuthState:
    state: str
    user_id: str
    account_id: str
    platform: str
    #: Epoch seconds; also the TTL attribute.
    expires_at: int
    code_verifier: str | None = None
    name: str | None = None
    shop: str | None = None
    #: Set when reconnecting an existing connection.
    connection_id: str | None = None


class OAuthStateStore:
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._client = client
        self.table = table

    async def put(self, state: OAuthState) -> None:
        with translate_errors("PutItem"):
            await self._client.put_item(
                TableName=self.table,
                Item=to_item(_to_item(state)),
                ConditionExpression="attribute_not_exists(#s)",
                ExpressionAttributeNames={"#s": "state"},
            )

    async def peek(self, state: str) -> OAuthState | None:
        """The flow, if it is still there; spends nothing."""
        if not state:
            return None
        with translate_errors("GetItem"):
            response = await self._client.get_item(
                TableName=self.table, Key=to_item({"state": state}), ConsistentRead=True
            )
        item = response.get("Item")
        return _to_model(from_item(item)) if item else None

    async def take(self, state: str, *, user_id: str | None = None) -> OAuthState | None:
        """Remove and return the state: a second use finds nothing. With ``user_id``, only
        that user's state is taken (another user cannot burn it)."""
        condition = "attribute_exists(#s)"
        values: dict[str, Any] = {}
        if user_id is not None:
            condition += " AND userId = :u"
            values[":u"] = user_id
        extra: dict[str, Any] = {"ExpressionAttributeValues": to_item(values)} if values else {}
        if not state:
            return None
        try:
            with translate_errors("DeleteItem"):
                response = await self._client.delete_item(
                    TableName=self.table,
                    Key=to_item({"state": state}),
                    ConditionExpression=condition,
                    ExpressionAttributeNames={"#s": "state"},
                    ReturnValues="ALL_OLD",
                    **extra,
                )
        except ConflictError:
            return None
        item = from_item(response.get("Attributes", {}))
        return _to_model(item) if item else None


def _to_item(state: OAuthState) -> dict[str, Any]:
    return {
        "state": state.state,
        "userId": state.user_id,
        "accountId": state.account_id,
        "platform": state.platform,
        "expiresAt": state.expires_at,
        "codeVerifier": state.code_verifier,
        "name": state.name,
        "shop": state.shop,
        "connectionId": state.connection_id,
    }


def _to_model(item: dict[str, Any]) -> OAuthState:
    return OAuthState(
        state=item["state"],
        user_id=item["userId"],
        account_id=item["accountId"],
        platform=item["platform"],
        expires_at=int(item["expiresAt"]),
        code_verifier=item.get("codeVerifier"),
        name=item.get("name"),
        shop=item.get("shop"),
        connection_id=item.get("connectionId"),
    )
