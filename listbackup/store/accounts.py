"""The accounts table: the tenant tree, each account carrying its path from the root.

The materialised path makes ancestors one BatchGetItem and descendants one paged query
(GSI ``root-path-index``: rootId + path prefix). Counters of direct children and direct
owners let transactions enforce ``maxSubAccounts`` and "a root keeps an owner".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from listbackup.models.accounts import Account, AccountSettings, AccountStatus
from listbackup.models.pages import Page
from listbackup.store.dynamo import (
    Item,
    batch_get,
    from_item,
    iso,
    paginate,
    parse_time,
    put_new,
    query_page,
    to_item,
    translate_errors,
    update_request,
)
from listbackup.store.pages import PageRequest, encode_cursor

if TYPE_CHECKING:
    from types_aiobotocore_dynamodb import DynamoDBClient

PATH_SEPARATOR = "/"
PARENT_INDEX = "parent-index"
PARENT_INDEX_KEYS = ("id", "parentId", "createdAt")
ROOT_PATH_INDEX = "root-path-index"
ROOT_PATH_INDEX_KEYS = ("id", "rootId", "path")


def path_text(path: Sequence[str]) -> str:
    return PATH_SEPARATOR.join(path)


class AccountStore:
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._client = client
        self.table = table

    # -- reads -------------------------------------------------------------------------

    async def get_many(self, ids: Sequence[str]) -> list[Account | None]:
        found = await batch_get(self._client, {self.table: [{"id": i} for i in ids]})
        by_id = {item["id"]: to_model(item) for item in found[self.table]}
        return [by_id.get(i) for i in ids]

    async def children(self, parent_id: str, page: PageRequest) -> Page[Account]:
        """Direct children, oldest first."""
        return await self._page(
            page,
            IndexName=PARENT_INDEX,
            KeyConditionExpression="parentId = :p",
            ExpressionAttributeValues=to_item({":p": parent_id}),
        )

    async def descendants(self, account: Account, page: PageRequest) -> Page[Account]:
        """Every account below ``account``, in path order (depth-first)."""
        return await self._page(
            page,
            IndexName=ROOT_PATH_INDEX,
            KeyConditionExpression="rootId = :r AND begins_with(#p, :prefix)",
            ExpressionAttributeNames={"#p": "path"},
            ExpressionAttributeValues=to_item(
                {":r": account.root_id, ":prefix": path_text(account.path) + PATH_SEPARATOR}
            ),
        )

    async def subtree(self, root_id: str, path: Sequence[str]) -> list[Account]:
        """The account at ``path`` and everything below it (all pages)."""
        prefix = path_text(path)
        items = paginate(
            self._client,
            "query",
            TableName=self.table,
            IndexName=ROOT_PATH_INDEX,
            KeyConditionExpression="rootId = :r AND begins_with(#p, :prefix)",
            ExpressionAttributeNames={"#p": "path"},
            ExpressionAttributeValues=to_item({":r": root_id, ":prefix": prefix}),
        )
        found = [to_model(item) async for item in items]
        # begins_with("a/b") would also match a sibling "a/bc": keep the subtree proper.
        return [a for a in found if a.path[: len(path)] == tuple(path)]

    async def _page(self, page: PageRequest, **query: Any) -> Page[Account]:
        items, last = await query_page(
            self._client, page.first, page.start, TableName=self.table, **query
        )
        return Page([to_model(item) for item in items], encode_cursor(last))

    # -- transaction items -------------------------------------------------------------

    def put_new(self, account: Account) -> dict[str, Any]:
        return put_new(self.table, to_item_data(account), "id")

    def add_child(self, parent: Account, *, max_children: int | None) -> dict[str, Any]:
        """Count one more child of ``parent``, if it is unchanged and has room."""
        condition = "#path = :path"
        values: dict[str, Any] = {":one": 1, ":path": path_text(parent.path)}
        if max_children is not None:
            condition += " AND (attribute_not_exists(childCount) OR childCount < :max)"
            values[":max"] = max_children
        return self._update(
            parent.id, "ADD childCount :one", condition, values, names={"#path": "path"}
        )

    def add_source(self, account: Account) -> dict[str, Any]:
        """Count one more source of ``account``, if it is under its limit."""
        return self._update(
            account.id,
            "ADD sourceCount :one",
            "attribute_exists(id) AND (attribute_not_exists(sourceCount) OR sourceCount < :max)",
            {":one": 1, ":max": account.settings.max_sources},
        )

    def remove_source(self, account_id: str) -> dict[str, Any]:
        return self._update(
            account_id, "ADD sourceCount :minus", "attribute_exists(id)", {":minus": -1}
        )

    def remove_child(self, parent_id: str) -> dict[str, Any]:
        return self._update(
            parent_id, "ADD childCount :minus", "attribute_exists(id)", {":minus": -1}
        )

    def members_changed(
        self,
        account: Account,
        *,
        joined: str | None = None,
        left: str | None = None,
        owner_delta: int = 0,
        keep_an_owner: bool = False,
    ) -> dict[str, Any]:
        """Record a member joining or leaving and owners gained or lost, in one update
        (a transaction may touch an item once); ``keep_an_owner`` refuses reaching zero."""
        actions: list[str] = []
        values: dict[str, Any] = {}
        adds = []
        if joined:
            adds.append("memberIds :joined")
            values[":joined"] = {joined}
        if owner_delta:
            adds.append("ownerCount :delta")
            values[":delta"] = owner_delta
        if adds:
            actions.append("ADD " + ", ".join(adds))
        if left:
            actions.append("DELETE memberIds :left")
            values[":left"] = {left}
        condition = "attribute_exists(id)"
        if keep_an_owner:
            condition += " AND ownerCount > :one"
            values[":one"] = 1
        return self._update(account.id, " ".join(actions), condition, values)

    def moved(self, account: Account, new_path: Sequence[str]) -> dict[str, Any]:
        """Re-home one account of a moving subtree, if it has not moved already."""
        values: dict[str, Any] = {
            ":old": path_text(account.path),
            ":new": path_text(new_path),
            ":root": new_path[0],
            ":level": len(new_path) - 1,
        }
        expression = "SET #path = :new, rootId = :root, #level = :level"
        names = {"#path": "path", "#level": "level"}
        if len(new_path) > 1:
            values[":parent"] = new_path[-2]
            expression += ", parentId = :parent"
        return self._update(account.id, expression, "#path = :old", values, names=names)

    def delete_childless(self, account: Account) -> dict[str, Any]:
        return {
            "Delete": {
                "TableName": self.table,
                "Key": to_item({"id": account.id}),
                "ConditionExpression": "attribute_not_exists(childCount) OR childCount = :zero",
                "ExpressionAttributeValues": to_item({":zero": 0}),
            }
        }

    def _update(
        self,
        account_id: str,
        expression: str,
        condition: str,
        values: Mapping[str, Any],
        *,
        names: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        update: dict[str, Any] = {
            "TableName": self.table,
            "Key": to_item({"id": account_id}),
            "UpdateExpression": expression,
            "ConditionExpression": condition,
            "ExpressionAttributeValues": to_item(values),
        }
        if names:
            update["ExpressionAttributeNames"] = dict(names)
        return {"Update": update}

    # -- single writes -----------------------------------------------------------------

    async def update(self, account_id: str, changes: Mapping[str, Any]) -> Account:
        """Set attributes (``settings`` as a whole map) of an existing account; None
        removes one."""
        with translate_errors("UpdateItem"):
            response = await self._client.update_item(
                **update_request(self.table, {"id": account_id}, changes)
            )
        return to_model(from_item(response["Attributes"]))

    async def delete(self, account_id: str) -> None:
        with translate_errors("DeleteItem"):
            await self._client.delete_item(TableName=self.table, Key=to_item({"id": account_id}))


_DEFAULTS = AccountSettings()


def settings_map(settings: AccountSettings) -> dict[str, Any]:
    return {
        "allowSubAccounts": settings.allow_sub_accounts,
        "maxSubAccounts": settings.max_sub_accounts,
        "defaultRetentionDays": settings.default_retention_days,
        "timezone": settings.timezone,
        "maxSources": settings.max_sources,
        "minScheduleMinutes": settings.min_schedule_minutes,
    }


def to_item_data(account: Account) -> dict[str, Any]:
    return {
        "id": account.id,
        "name": account.name,
        "company": account.company,
        "status": account.status.value,
        "path": path_text(account.path),
        "rootId": account.root_id,
        "parentId": account.parent_id,
        "level": account.level,
        "createdAt": iso(account.created_at),
        "createdBy": account.created_by,
        "settings": settings_map(account.settings),
        "childCount": account.child_count,
        "sourceCount": account.source_count,
        "ownerCount": account.owner_count,
        # A string set: DynamoDB stores no empty set, so none means no direct members.
        "memberIds": set(account.member_ids) or None,
    }


def to_model(item: Item) -> Account:
    settings = item.get("settings") or {}
    max_sub = settings.get("maxSubAccounts")
    retention = settings.get("defaultRetentionDays")
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
            default_retention_days=int(retention) if retention is not None else None,
            timezone=settings.get("timezone", "UTC"),
            max_sources=int(settings.get("maxSources", _DEFAULTS.max_sources)),
            min_schedule_minutes=int(
                settings.get("minScheduleMinutes", _DEFAULTS.min_schedule_minutes)
            ),
        ),
        child_count=int(item.get("childCount", 0)),
        source_count=int(item.get("sourceCount", 0)),
        owner_count=int(item.get("ownerCount", 0)),
        member_ids=frozenset(item.get("memberIds") or ()),
    )
