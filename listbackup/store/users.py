"""The users table: one item per person, keyed by the Cognito ``sub``."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from listbackup.errors import ConflictError
from listbackup.models.users import User
from listbackup.store.dynamo import (
    Item,
    from_item,
    iso,
    optional_time,
    parse_time,
    put_new,
    to_item,
    translate_errors,
    update_request,
)

if TYPE_CHECKING:
    from types_aiobotocore_dynamodb import DynamoDBClient

#: Profile fields a user may change, by model attribute -> item attribute.
PROFILE_FIELDS = {"name": "name", "phone": "phone", "timezone": "timezone"}


class UserStore:
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._client = client
        self.table = table

    def put_new(self, user: User) -> dict[str, Any]:
        return put_new(self.table, to_item_data(user), "id")

    async def update(
        self, user_id: str, *, changes: Mapping[str, Any], now: datetime | None = None
    ) -> User:
        """Set (or, for None values, remove) attributes of an existing user; return it."""
        stamped = {**changes, "updatedAt": now} if now is not None else changes
        with translate_errors("UpdateItem"):
            response = await self._client.update_item(
                **update_request(self.table, {"id": user_id}, stamped)
            )
        return to_model(from_item(response["Attributes"]))

    async def revoke_tokens(self, user_id: str, *, up_to: int) -> None:
        """Refuse the user's access tokens issued in or before epoch second ``up_to``."""
        with contextlib.suppress(ConflictError), translate_errors("UpdateItem"):
            await self._client.update_item(
                TableName=self.table,
                Key=to_item({"id": user_id}),
                # Never moves back: a late, slower revocation cannot revive tokens.
                UpdateExpression="SET tokensValidAfter = :t",
                ConditionExpression=(
                    "attribute_exists(id) AND "
                    "(attribute_not_exists(tokensValidAfter) OR tokensValidAfter < :t)"
                ),
                ExpressionAttributeValues=to_item({":t": up_to}),
            )

    async def find_by_email(self, email: str) -> str | None:
        """The id of the user with this email, if any."""
        with translate_errors("Query"):
            response = await self._client.query(
                TableName=self.table,
                IndexName="email-index",
                KeyConditionExpression="email = :e",
                ExpressionAttributeValues=to_item({":e": email}),
                ProjectionExpression="id",
                Limit=1,
            )
        items = response.get("Items", [])
        return str(from_item(items[0])["id"]) if items else None

    async def delete(self, user_id: str) -> None:
        with translate_errors("DeleteItem"):
            await self._client.delete_item(TableName=self.table, Key=to_item({"id": user_id}))


def to_item_data(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "phone": user.phone,
        "timezone": user.timezone,
        "createdAt": iso(user.created_at),
        "lastLoginAt": iso(user.last_login_at) if user.last_login_at else None,
        "currentAccountId": user.current_account_id,
        "rootAccountId": user.root_account_id,
        "tokensValidAfter": user.tokens_valid_after,
    }


def to_model(item: Item) -> User:
    return User(
        id=item["id"],
        email=item["email"],
        name=item["name"],
        created_at=parse_time(item["createdAt"]),
        phone=item.get("phone"),
        timezone=item.get("timezone"),
        last_login_at=optional_time(item.get("lastLoginAt")),
        current_account_id=item.get("currentAccountId"),
        root_account_id=item.get("rootAccountId"),
        tokens_valid_after=int(item["tokensValidAfter"]) if "tokensValidAfter" in item else None,
    )
