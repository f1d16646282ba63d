"""The accounts table: the tenant tree, each account carrying its path from the root."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from listbackup.models.accounts import Account, AccountSettings, AccountStatus
from listbackup.store.dynamo import (
    Item,
    batch_get,
    iso,
    parse_time,
    put_new,
    to_item,
    translate_errors,
)

if TYPE_CHECKING:
    from types_aiobotocore_dynamodb import DynamoDBClient

PATH_SEPARATOR = "/"


class AccountStore:
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._client = client
        self.table = table

    def put_new(self, account: Account) -> dict[str, Any]:
        return put_new(self.table, _to_item(account), "id")

    async def get_many(self, ids: Sequence[str]) -> list[Account | None]:
        found = await batch_get(self._client, {self.table: [{"id": i} for i in ids]})
        by_id = {item["id"]: _to_model(item) for item in found[self.table]}
        return [by_id.get(i) for i in ids]

    async def delete(self, account_id: str) -> None:
        with translate_errors("DeleteItem"):
            await self._client.delete_item(TableName=self.table, Key=to_item({"id": account_id}))


def _to_item(account: Account) -> dict[str, Any]:
    settings = account.settings
    return {
        "id": account.id,
        "name": account.name,
        "company": account.company,
        "status": account.status.value,
        "path": PATH_SEPARATOR.join(account.path),
        "rootId": account.root_id,
        "parentId": account.parent_id,
        "level": account.level,
        "createdAt": iso(account.created_at),
        "createdBy": account.created_by,
        "settings": {
            "allowSubAccounts": settings.allow_sub_accounts,
            "maxSubAccounts": settings.max_sub_accounts,
            "defaultRetentionDays": settings.default_retention_days,
            "timezone": settings.timezone,
        },
    }


def _to_model(item: Item) -> Account:
    settings = item.get("settings") or {}
    max_sub = settings.get("maxSubAccounts")
    return Account(
        id=item["id"],
        name=item["name"],
        company=item.get("company"),
        status=AccountStatus(item["status"]),
        path=tuple(item["path"].split(PATH_SEPARATOR)),
        created_at=parse_time(item["createdAt"]),
        created_by=item.get("createdBy"),
        settings=AccountSettings(
            allow_sub_accounts=bool(settings.get("allowSubAccounts", True)),
            max_sub_accounts=int(max_sub) if max_sub is not None else None,
            default_retention_days=int(settings.get("defaultRetentionDays", 90)),
            timezone=settings.get("timezone", "UTC"),
        ),
    )
