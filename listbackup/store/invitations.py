"""The invitations table: by id, by account and by invited email."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from listbackup.models.accounts import Role
from listbackup.models.invitations import Invitation, InvitationStatus
from listbackup.store.dynamo import Item, iso, paginate, parse_time, to_item

if TYPE_CHECKING:
    from types_aiobotocore_dynamodb import DynamoDBClient

EMAIL_INDEX = "email-index"


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
        return [_to_model(item) async for item in items]


def _to_model(item: Item) -> Invitation:
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
