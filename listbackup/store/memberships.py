"""The memberships table: (account, user) -> role and permissions; by user through a GSI."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from listbackup.models.accounts import Membership, MembershipStatus, Permission, Role
from listbackup.models.pages import Page
from listbackup.store.dynamo import (
    Item,
    iso,
    paginate,
    parse_time,
    put_new,
    query_page,
    to_item,
    translate_errors,
)
from listbackup.store.pages import PageRequest, encode_cursor

if TYPE_CHECKING:
    from types_aiobotocore_dynamodb import DynamoDBClient

MembershipKey = tuple[str, str]  # (account_id, user_id)
USER_INDEX = "user-index"
USER_INDEX_KEYS = ("userId", "accountId")


class MembershipStore:
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._client = client
        self.table = table

    def put_new(self, membership: Membership) -> dict[str, Any]:
        return put_new(self.table, to_item_data(membership), "accountId")

    async def list_by_user(self, user_id: str, page: PageRequest) -> Page[Membership]:
        items, last = await query_page(
            self._client,
            page.first,
            page.start,
            TableName=self.table,
            IndexName=USER_INDEX,
            KeyConditionExpression="userId = :u",
            ExpressionAttributeValues=to_item({":u": user_id}),
        )
        return Page([to_model(item) for item in items], encode_cursor(last))

    async def all_for_account(self, account_id: str) -> list[Membership]:
        items = paginate(
            self._client,
            "query",
            TableName=self.table,
            KeyConditionExpression="accountId = :a",
            ExpressionAttributeValues=to_item({":a": account_id}),
        )
        return [to_model(item) async for item in items]

    def replace(self, old: Membership, new: Membership) -> dict[str, Any]:
        """A transaction Put of ``new`` that fails if ``old`` changed meanwhile."""
        return {
            "Put": {
                "TableName": self.table,
                "Item": to_item(to_item_data(new)),
                "ConditionExpression": "#r = :role",
                "ExpressionAttributeNames": {"#r": "role"},
                "ExpressionAttributeValues": to_item({":role": old.role.value}),
            }
        }

    def remove(self, membership: Membership) -> dict[str, Any]:
        return {
            "Delete": {
                "TableName": self.table,
                "Key": to_item({"accountId": membership.account_id, "userId": membership.user_id}),
                "ConditionExpression": "attribute_exists(accountId)",
            }
        }

    async def delete(self, account_id: str, user_id: str) -> None:
        with translate_errors("DeleteItem"):
            await self._client.delete_item(
                TableName=self.table, Key=to_item({"accountId": account_id, "userId": user_id})
            )


def to_item_data(membership: Membership) -> dict[str, Any]:
    override = membership.permissions_override
    return {
        "accountId": membership.account_id,
        "userId": membership.user_id,
        "role": membership.role.value,
        "status": membership.status.value,
        "joinedAt": iso(membership.joined_at),
        # A list, not a string set: DynamoDB cannot store an empty set.
        "permissions": sorted(p.value for p in override) if override is not None else None,
    }


def to_model(item: Item) -> Membership:
    permissions = item.get("permissions")
    return Membership(
        account_id=item["accountId"],
        user_id=item["userId"],
        role=Role(item["role"]),
        status=MembershipStatus(item["status"]),
        joined_at=parse_time(item["joinedAt"]),
        permissions_override=(
            frozenset(Permission(p) for p in permissions) if permissions is not None else None
        ),
    )
