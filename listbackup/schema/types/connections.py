"""Connections to platforms (the connections part of the schema). No secret is a field."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from listbackup import ids
from listbackup.context import Context
from listbackup.models import connections as models
from listbackup.models.pages import DEFAULT_PAGE_SIZE
from listbackup.resolvers import accounts as account_resolvers
from listbackup.resolvers import connections as resolvers
from listbackup.resolvers import sources as source_resolvers
from listbackup.schema import node
from listbackup.schema.enums import AuthType, ConnectionStatus
from listbackup.schema.types.pages import Page, page_of, page_size
from listbackup.schema.types.platforms import Platform

if TYPE_CHECKING:
    from listbackup.schema.types.accounts import Account
    from listbackup.schema.types.sources import Source

AccountType = Annotated["Account", strawberry.lazy("listbackup.schema.types.accounts")]
SourceType = Annotated["Source", strawberry.lazy("listbackup.schema.types.sources")]


@strawberry.type
class PlatformConnection(node.Node):
    id: strawberry.ID
    name: str
    status: ConnectionStatus
    auth_type: AuthType
    external_account: str | None = strawberry.field(
        description="The external account's display name (shop, workspace, email), "
        "when the provider tells it."
    )
    expires_at: datetime | None
    last_tested_at: datetime | None
    last_error: str | None
    created_at: datetime
    model: strawberry.Private[models.Connection]

    @classmethod
    def from_model(cls, connection: models.Connection) -> PlatformConnection:
        return cls(
            id=strawberry.ID(ids.encode(ids.CONNECTION, connection.id)),
            name=connection.name,
            status=connection.status,
            auth_type=connection.auth_type,
            external_account=connection.external_account,
            expires_at=connection.expires_at,
            last_tested_at=connection.last_tested_at,
            last_error=connection.last_error,
            created_at=connection.created_at,
            model=connection,
        )

    @strawberry.field
    async def platform(self, info: Info[Context, None]) -> Platform:
        return Platform.from_model(await resolvers.platform_of(info.context, connection=self.model))

    @strawberry.field(description="The backup sources that use this connection.")
    async def sources(
        self,
        info: Info[Context, None],
        first: int | None = DEFAULT_PAGE_SIZE,
        after: str | None = None,
    ) -> Page[SourceType]:
        page = await source_resolvers.for_connection(
            info.context, connection=self.model, first=page_size(first), after=after
        )
        return page_of(page, node.wrap)

    @strawberry.field
    async def account(self, info: Info[Context, None]) -> AccountType:
        found = await account_resolvers.account(info.context, account_id=self.model.account_id)
        account: AccountType = node.wrap(found)
        return account


node.register(models.Connection, PlatformConnection.from_model)


@strawberry.type
class OAuthStart:
    authorization_url: str
    state: str


@strawberry.type
class ConnectionTestResult:
    ok: bool
    message: str | None
    connection: PlatformConnection


@strawberry.input
class StartOAuthInput:
    account_id: strawberry.ID
    platform_id: strawberry.ID
    name: str | None = None
    shop_domain: str | None = strawberry.field(
        default=None, description="Shopify and other per-tenant providers."
    )


@strawberry.input
class ApiKeyConnectionInput:
    account_id: strawberry.ID
    platform_id: strawberry.ID
    name: str
    credentials: JSON = strawberry.field(description="Keys are the platform's credentialFields.")


@strawberry.input
class UpdateConnectionInput:
    name: str | None = None
    credentials: JSON | None = None


@strawberry.type
class ConnectionQuery:
    @strawberry.field
    async def connection(
        self,
        info: Info[Context, None],
        id: strawberry.ID,
    ) -> PlatformConnection | None:
        found = await resolvers.connection(info.context, connection_id=node.key(ids.CONNECTION, id))
        return PlatformConnection.from_model(found)


def _oauth_start(start: Any) -> OAuthStart:
    return OAuthStart(authorization_url=start.authorization_url, state=start.state)


@strawberry.type
class ConnectionMutation:
    @strawberry.mutation(
        name="startOAuthConnection",
        description="Starts connecting an OAuth platform: open authorizationUrl in a popup; "
        "the provider comes back to /oauth/callback. Needs MANAGE_INTEGRATIONS.",
    )
    async def start_oauth_connection(
        self,
        info: Info[Context, None],
        input: StartOAuthInput,
    ) -> OAuthStart:
        start = await resolvers.start_oauth(
            info.context,
            account_id=node.key(ids.ACCOUNT, input.account_id),
            platform=node.key(ids.PLATFORM, input.platform_id),
            name=input.name,
            shop=input.shop_domain,
        )
        return _oauth_start(start)

    @strawberry.mutation(
        name="completeOAuthConnection",
        description="For apps that catch the provider's redirect themselves.",
    )
    async def complete_oauth_connection(
        self, info: Info[Context, None], state: str, code: str
    ) -> PlatformConnection:
        connection = await resolvers.complete_oauth(info.context, state=state, code=code)
        return PlatformConnection.from_model(connection)

    @strawberry.mutation(
        description="Checks the credentials with the platform, then saves them encrypted."
    )
    async def create_api_key_connection(
        self,
        info: Info[Context, None],
        input: ApiKeyConnectionInput,
    ) -> PlatformConnection:
        connection = await resolvers.create_api_key(
            info.context,
            account_id=node.key(ids.ACCOUNT, input.account_id),
            platform=node.key(ids.PLATFORM, input.platform_id),
            name=input.name,
            credentials=input.credentials,
        )
        return PlatformConnection.from_model(connection)

    @strawberry.mutation
    async def update_connection(
        self,
        info: Info[Context, None],
        id: strawberry.ID,
        input: UpdateConnectionInput,
    ) -> PlatformConnection:
        connection = await resolvers.update(
            info.context,
            connection_id=node.key(ids.CONNECTION, id),
            name=input.name,
            credentials=input.credentials,
        )
        return PlatformConnection.from_model(connection)

    @strawberry.mutation
    async def test_connection(
        self,
        info: Info[Context, None],
        id: strawberry.ID,
    ) -> ConnectionTestResult:
        result = await resolvers.test(info.context, connection_id=node.key(ids.CONNECTION, id))
        return ConnectionTestResult(
            ok=result.ok,
            message=result.message,
            connection=PlatformConnection.from_model(result.connection),
        )

    @strawberry.mutation(description="A fresh OAuth flow that updates this connection in place.")
    async def reconnect(
        self,
        info: Info[Context, None],
        id: strawberry.ID,
    ) -> OAuthStart:
        start = await resolvers.reconnect(info.context, connection_id=node.key(ids.CONNECTION, id))
        return _oauth_start(start)

    @strawberry.mutation(description="Refused while backup sources use the connection.")
    async def delete_connection(
        self,
        info: Info[Context, None],
        id: strawberry.ID,
    ) -> strawberry.ID:
        deleted = await resolvers.delete(info.context, connection_id=node.key(ids.CONNECTION, id))
        return strawberry.ID(ids.encode(ids.CONNECTION, deleted.id))
