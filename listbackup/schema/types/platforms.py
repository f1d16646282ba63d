"""The platform catalogue."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from listbackup import ids
from listbackup.context import Context
from listbackup.models import platforms as models
from listbackup.resolvers import platforms as resolvers
from listbackup.schema import node
from listbackup.schema.enums import AuthType, Frequency


@strawberry.type
class CredentialField:
    key: str
    label: str
    secret: bool
    required: bool

    @classmethod
    def from_model(cls, field: models.CredentialField) -> CredentialField:
        return cls(key=field.key, label=field.label, secret=field.secret, required=field.required)


@strawberry.type
class PlatformDataType:
    key: str
    name: str
    description: str | None
    default_frequency: Frequency
    default_retention_days: int
    depends_on: list[str] = strawberry.field(
        description="Keys of the data types whose records these refer to; backed up first."
    )

    @classmethod
    def from_model(cls, data_type: models.DataType) -> PlatformDataType:
        return cls(
            key=data_type.key,
            name=data_type.name,
            description=data_type.description,
            default_frequency=data_type.default_frequency,
            default_retention_days=data_type.default_retention_days,
            depends_on=list(data_type.depends_on),
        )


@strawberry.type
class Platform(node.Node):
    slug: str
    name: str
    category: str
    description: str | None
    auth_type: AuthType
    credential_fields: list[CredentialField]
    data_types: list[PlatformDataType]

    @classmethod
    def from_model(cls, platform: models.Platform) -> Platform:
        return cls(
            id=strawberry.ID(ids.encode(ids.PLATFORM, platform.slug)),
            slug=platform.slug,
            name=platform.name,
            category=platform.category,
            description=platform.description,
            auth_type=platform.auth_type,
            credential_fields=[CredentialField.from_model(f) for f in platform.credential_fields],
            data_types=[PlatformDataType.from_model(d) for d in platform.data_types],
        )


node.register(models.Platform, Platform.from_model)


@strawberry.type
class PlatformQuery:
    @strawberry.field(description="The catalogue of platforms ListBackup can back up.")
    async def platforms(
        self, info: Info[Context, None], category: str | None = None
    ) -> list[Platform]:
        found = await resolvers.platform_list(info.context, category=category)
        return [Platform.from_model(p) for p in found]

    @strawberry.field(description='One platform by its slug, e.g. "stripe".')
    async def platform(self, info: Info[Context, None], slug: str) -> Platform | None:
        return Platform.from_model(await resolvers.platform(info.context, slug=slug))
