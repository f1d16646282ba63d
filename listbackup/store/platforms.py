"""The platforms table: the catalogue, seeded from the integration registry."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from listbackup.models.platforms import AuthType, CredentialField, DataType, Frequency, Platform
from listbackup.store.dynamo import Item, batch_get, batch_write, paginate, to_item

if TYPE_CHECKING:
    from types_aiobotocore_dynamodb import DynamoDBClient

_CATEGORY_INDEX = "category-index"


class PlatformStore:
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._client = client
        self.table = table

    async def get_many(self, slugs: Sequence[str]) -> list[Platform | None]:
        """Platforms in the order of ``slugs``; None where a slug is unknown."""
        found = await batch_get(self._client, {self.table: [{"slug": s} for s in slugs]})
        by_slug = {item["slug"]: to_model(item) for item in found[self.table]}
        return [by_slug.get(slug) for slug in slugs]

    async def list(self, category: str | None = None) -> list[Platform]:
        """The catalogue (or one category of it), ordered by name."""
        if category is None:
            items = paginate(self._client, "scan", TableName=self.table)
        else:
            items = paginate(
                self._client,
                "query",
                TableName=self.table,
                IndexName=_CATEGORY_INDEX,
                KeyConditionExpression="category = :c",
                ExpressionAttributeValues=to_item({":c": category}),
            )
        platforms = [to_model(item) async for item in items]
        return sorted(platforms, key=lambda p: (p.name.casefold(), p.slug))

    async def replace_all(self, platforms: Iterable[Platform]) -> None:
        """Make the table hold exactly these platforms (the seed is idempotent)."""
        wanted = {p.slug: _to_item(p) for p in platforms}
        stale = [
            {"slug": item["slug"]}
            async for item in paginate(
                self._client, "scan", TableName=self.table, ProjectionExpression="slug"
            )
            if item["slug"] not in wanted
        ]
        await batch_write(self._client, self.table, puts=list(wanted.values()), deletes=stale)


def _to_item(platform: Platform) -> dict[str, Any]:
    return {
        "slug": platform.slug,
        "name": platform.name,
        "category": platform.category,
        "description": platform.description,
        "authType": platform.auth_type.value,
        "credentialFields": [
            {"key": f.key, "label": f.label, "secret": f.secret, "required": f.required}
            for f in platform.credential_fields
        ],
        "dataTypes": [
            {
                "key": d.key,
                "name": d.name,
                "description": d.description,
                "defaultFrequency": d.default_frequency.value,
                "defaultRetentionDays": d.default_retention_days,
                "dependsOn": list(d.depends_on),
            }
            for d in platform.data_types
        ],
    }


def to_model(item: Item) -> Platform:
    return Platform(
        slug=item["slug"],
        name=item["name"],
        category=item["category"],
        description=item.get("description"),
        auth_type=AuthType(item["authType"]),
        credential_fields=tuple(
            CredentialField(f["key"], f["label"], bool(f["secret"]), bool(f["required"]))
            for f in item.get("credentialFields", [])
        ),
        data_types=tuple(
            DataType(
                key=d["key"],
                name=d["name"],
                description=d.get("description"),
                default_frequency=Frequency(d["defaultFrequency"]),
                default_retention_days=int(d["defaultRetentionDays"]),
                depends_on=tuple(d.get("dependsOn", [])),
            )
            for d in item.get("dataTypes", [])
        ),
    )
