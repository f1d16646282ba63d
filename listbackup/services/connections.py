"""Connections to platforms: create (API key), read, test, change and delete them, and
build a connector for one, its credentials opened from the vault.

MANAGE_INTEGRATIONS is needed to change anything; anyone who can see the account can
list its connections. Secrets never leave this module except into a connector.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from listbackup.deps import Deps
from listbackup.errors import BadUserInputError, ConflictError
from listbackup.integrations.base import Connector, Integration
from listbackup.integrations.errors import (
    ConnectorError,
    CredentialsRejected,
    PlatformUnavailable,
)
from listbackup.models.accounts import Account, Permission
from listbackup.models.connections import Connection, ConnectionStatus
from listbackup.models.pages import Page
from listbackup.models.platforms import AuthType
from listbackup.models.users import Principal
from listbackup.services import access, quotas, tokens

log = logging.getLogger(__name__)

SOURCE = "listbackup.integrations"
NO_CONNECTION = "No connection with that id."
MAX_CREDENTIAL_LENGTH = 4096


@dataclass(frozen=True, slots=True)
class TestResult:
    ok: bool
    message: str | None
    connection: Connection


async def get(deps: Deps, *, principal: Principal, connection_id: str) -> Connection:
    connection = await deps.loaders.connection.load(connection_id) if connection_id else None
    return await access.visible(deps, principal=principal, item=connection, missing=NO_CONNECTION)


async def manageable(deps: Deps, *, principal: Principal, connection_id: str) -> Connection:
    connection = await deps.loaders.connection.load(connection_id) if connection_id else None
    return await access.managed(
        deps,
        principal=principal,
        item=connection,
        missing=NO_CONNECTION,
        permission=Permission.MANAGE_INTEGRATIONS,
    )


async def list_for_account(
    deps: Deps,
    *,
    principal: Principal,
    account: Account,
    first: int,
    after: str | None,
    platform: str | None,
) -> Page[Connection]:
    await access.visible_account(deps, principal=principal, account_id=account.id)
    return await deps.loaders.connections_by_account.load(((account.id, platform), first, after))


def check_credentials(integration: Integration, given: object) -> dict[str, str]:
    """The credentials as the platform's fields declare them: required ones present,
    nothing unknown, all strings of sane length."""
    if not isinstance(given, Mapping):
        raise BadUserInputError("credentials must be an object.", field="credentials")
    fields = {f.key: f for f in integration.platform.credential_fields}
    unknown = sorted(set(given) - set(fields))
    if unknown:
        raise BadUserInputError(
            f"Unknown credential fields: {', '.join(unknown)}.", field="credentials"
        )
    clean: dict[str, str] = {}
    for key, spec in fields.items():
        value = given.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if spec.required:
                raise BadUserInputError(f"{spec.label} is required.", field=f"credentials.{key}")
            continue
        if not isinstance(value, str | int) or len(str(value)) > MAX_CREDENTIAL_LENGTH:
            raise BadUserInputError(f"{spec.label} is not valid.", field=f"credentials.{key}")
        clean[key] = str(value).strip()
    return clean


async def _verify(deps: Deps, integration: Integration, secret: Mapping[str, str]) -> str | None:
    """The connector's cheapest call; bad credentials become BAD_USER_INPUT."""
    try:
        async with deps.platforms.connector(
            integration, credentials=secret, http=deps.http
        ) as connector:
            return await connector.check()
    except PlatformUnavailable as exc:
        raise BadUserInputError(exc.message, reason="PLATFORM_UNREACHABLE") from None
    except ConnectorError as exc:
        raise BadUserInputError(exc.message, reason="INVALID_CREDENTIALS") from None


async def create_api_key(
    deps: Deps,
    *,
    principal: Principal,
    account_id: str,
    platform_slug: str,
    name: str,
    credentials: object,
) -> Connection:
    now = deps.now()
    account = await access.require(
        deps, principal=principal, account_id=account_id, permission=Permission.MANAGE_INTEGRATIONS
    )
    integration = deps.platforms.integration(platform_slug)
    if integration.platform.auth_type is not AuthType.API_KEY:
        raise BadUserInputError(
            f"{integration.platform.name} connects with OAuth: use startOAuthConnection.",
            reason="NOT_AN_API_KEY_PLATFORM",
        )
    name = connection_name(name)
    secret = check_credentials(integration, credentials)
    external = await _verify(deps, integration, secret)
    connection = Connection(
        id=str(uuid.uuid4()),
        account_id=account.id,
        platform=integration.slug,
        name=name,
        auth_type=AuthType.API_KEY,
        status=ConnectionStatus.ACTIVE,
        created_at=now,
        created_by=principal.user_id,
        external_account=external,
        last_tested_at=now,
    )
    sealed = await deps.store.vault.seal(
        account_id=account.id, connection_id=connection.id, secret=secret
    )
    await deps.store.transact(
        [deps.store.connections.put_new(connection), deps.store.vault.put(sealed)]
    )
    await deps.events.publish(
        SOURCE,
        "Connection Test",
        {"connectionId": connection.id, "accountId": account.id, "ok": True, "at": now},
    )
    return connection


def connection_name(name: str | None) -> str:
    cleaned = " ".join((name or "").split())
    if not cleaned or len(cleaned) > 100:
        raise BadUserInputError("name must be 1 to 100 characters.", field="name")
    return cleaned


async def connector_for(
    deps: Deps, *, connection: Connection, shared_http: bool = False
) -> Connector:
    """A connector for a stored connection: API keys opened from the vault, OAuth tokens
    through a token source that refreshes them under the connection's lock. It opens an
    HTTP client of its own (a backup job reads for hours), unless ``shared_http``: a short
    use, such as a test of the connection, borrows the process's client. Close it (``async
    with``). Raises a ConnectorError when the stored credentials cannot work at all."""
    integration = deps.platforms.integration(connection.platform)
    secret = await deps.store.vault.open(
        account_id=connection.account_id, connection_id=connection.id
    )
    http = deps.http if shared_http else None
    throttle = quotas.for_platform(deps, integration)
    if connection.auth_type is AuthType.API_KEY:
        return deps.platforms.connector(
            integration, credentials=secret, http=http, throttle=throttle
        )
    extras = {k: str(v) for k, v in (secret.get("extras") or {}).items()}
    return deps.platforms.connector(
        integration,
        credentials=extras,
        tokens=tokens.VaultTokens(deps, connection=connection),
        http=http,
        throttle=throttle,
    )


async def test(deps: Deps, *, principal: Principal, connection_id: str) -> TestResult:
    now = deps.now()
    connection = await manageable(deps, principal=principal, connection_id=connection_id)
    status, message, external = ConnectionStatus.ACTIVE, None, connection.external_account
    try:
        async with await connector_for(deps, connection=connection, shared_http=True) as connector:
            external = await connector.check() or external
    except CredentialsRejected as exc:
        # An OAuth grant the platform no longer honours needs a reconnect.
        oauth = connection.auth_type is AuthType.OAUTH2
        status = ConnectionStatus.EXPIRED if oauth else ConnectionStatus.ERROR
        message = exc.message
    except ConnectorError as exc:
        status, message = ConnectionStatus.ERROR, exc.message
    ok = status is ConnectionStatus.ACTIVE
    updated = await deps.store.connections.update(
        connection.id,
        {
            "status": status.value,
            "lastTestedAt": now,
            "lastError": message,
            "externalAccount": external,
        },
    )
    deps.loaders.connection.clear(updated.id).prime(updated.id, updated)
    await deps.events.publish(
        SOURCE,
        "Connection Test",
        {"connectionId": connection.id, "accountId": connection.account_id, "ok": ok, "at": now},
    )
    return TestResult(ok=ok, message=message, connection=updated)


async def update(
    deps: Deps,
    *,
    principal: Principal,
    connection_id: str,
    name: str | None,
    credentials: object | None,
) -> Connection:
    now = deps.now()
    connection = await manageable(deps, principal=principal, connection_id=connection_id)
    changes: dict[str, Any] = {}
    if name is not None:
        changes["name"] = connection_name(name)
    if credentials is not None:
        if connection.auth_type is not AuthType.API_KEY:
            raise BadUserInputError(
                "OAuth connections change their credentials with reconnect.",
                field="credentials",
            )
        integration = deps.platforms.integration(connection.platform)
        secret = check_credentials(integration, credentials)
        external = await _verify(deps, integration, secret)
        await deps.store.vault.replace(
            account_id=connection.account_id, connection_id=connection.id, secret=secret
        )
        changes |= {
            "status": ConnectionStatus.ACTIVE.value,
            "lastTestedAt": now,
            "lastError": None,
            "externalAccount": external,
        }
    if not changes:
        return connection
    updated = await deps.store.connections.update(connection.id, changes)
    deps.loaders.connection.clear(updated.id).prime(updated.id, updated)
    return updated


async def delete(deps: Deps, *, principal: Principal, connection_id: str) -> Connection:
    connection = await manageable(deps, principal=principal, connection_id=connection_id)
    if await deps.store.used_by_sources(connection.id):
        raise ConflictError(
            "Backup sources use this connection: delete them first.", reason="CONNECTION_IN_USE"
        )
    await deps.store.transact(
        [deps.store.connections.delete(connection.id), deps.store.vault.delete(connection.id)]
    )
    deps.loaders.connection.clear(connection.id)
    return connection
