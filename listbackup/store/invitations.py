"""The invitations table: by id, by account and by invited email."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from listbackup.models.accounts import Role
from listbackup.models.invitations import Invitation, InvitationStatus
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

EMAIL_INDEX = "email-index"
ACCOUNT_INDEX = "account-index"
ACCOUNT_INDEX_KEYS = ("id", "accountId", "createdAt")
#: Answered invitations stay readable for a while, then DynamoDB's TTL removes them.
PURGE_AFTER_SECONDS = 90 * 86_400


class InvitationStore:
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._client = client
        self.table = table

    async def list_pending_for_email(self, email: str, now: datetime) -> list[Invitation]:
        """Invitations addressed to ``email`` that can still be accepted, newest first."""
        items = paginate(
            self._client,
            "query",
            TableName=self.table,
            IndexName=EMAIL_INDEX,
            KeyConditionExpression="email = :e",
            FilterExpression="#s = :pending AND expiresAt > :now",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues=to_item(
                {":e": email, ":pending": InvitationStatus.PENDING.value, ":now": iso(now)}
            ),
            ScanIndexForward=False,
        )
        return [to_model(item) async for item in items]

    async def list_by_account(self, account_id: str, page: PageRequest) -> Page[Invitation]:
        """Newest first."""
        items, last = await query_page(
            self._client,
            page.first,
            page.start,
            TableName=self.table,
            IndexName=ACCOUNT_INDEX,
            KeyConditionExpression="accountId = :a",
            ExpressionAttributeValues=to_item({":a": account_id}),
            ScanIndexForward=False,
        )
        return Page([to_model(item) for item in items], encode_cursor(last))

    async def pending_for_account(self, account_id: str, now: datetime) -> list[Invitation]:
        """Every invitation to the account that can still be accepted (all pages)."""
        items = paginate(
            self._client,
            "query",
            TableName=self.table,
            IndexName=ACCOUNT_INDEX,
            KeyConditionExpression="accountId = :a",
            FilterExpression="#s = :pending AND expiresAt > :now",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues=to_item(
                {":a": account_id, ":pending": InvitationStatus.PENDING.value, ":now": iso(now)}
            ),
        )
        return [to_model(item) async for item in items]

    async def put_new(self, invitation: Invitation) -> None:
        with translate_errors("PutItem"):
            await self._client.put_item(
                **put_new(self.table, to_item_data(invitation), "id")["Put"]
            )

    def answer(
        self, invitation: Invitation, status: InvitationStatus, now: datetime
    ) -> dict[str, Any]:
        """Move a PENDING, unexpired invitation to ``status``; fails if it moved first."""
        return {
            "Update": {
                "TableName": self.table,
                "Key": to_item({"id": invitation.id}),
                "UpdateExpression": "SET #s = :status, answeredAt = :now, purgeAt = :purge",
                "ConditionExpression": "#s = :pending AND expiresAt > :now",
                "ExpressionAttributeNames": {"#s": "status"},
                "ExpressionAttributeValues": to_item(
                    {
                        ":status": status.value,
                        ":pending": InvitationStatus.PENDING.value,
                        ":now": iso(now),
                        ":purge": int(now.timestamp()) + PURGE_AFTER_SECONDS,
                    }
                ),
            }
        }

    async def delete(self, invitation_id: str) -> None:
        with translate_errors("DeleteItem"):
            await self._client.delete_item(TableName=self.table, Key=to_item({"id": invitation_id}))


def to_item_data(invitation: Invitation) -> dict[str, Any]:
    return {
        "id": invitation.id,
        "accountId": invitation.account_id,
        "email": invitation.email,
        "role": invitation.role.value,
        "status": invitation.stored_status.value,
        "expiresAt": iso(invitation.expires_at),
        "createdAt": iso(invitation.created_at),
        "invitedBy": invitation.invited_by,
        "purgeAt": int(invitation.expires_at.timestamp()) + PURGE_AFTER_SECONDS,
    }


def to_model(item: Item) -> Invitation:
    return Invitation(
        id=item["id"],
        account_id=item["accountId"],
        email=item["email"],
        role=Role(item["role"]),
        stored_status=InvitationStatus(item["status"]),
        expires_at=parse_time(item["expiresAt"]),
        created_at=parse_time(item["createdAt"]),
        invited_by=item.get("invitedBy"),
    )
