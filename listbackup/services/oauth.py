"""Connecting a platform by OAuth2: start (a one-time state and the provider's URL),
the provider's return, complete (the code exchanged for tokens, the connection saved),
and reconnect.

The state is ≥ 256 random bits, lives 10 minutes, is bound to the user, the account and
the platform, and is consumed by the completion. PKCE (S256) is used where the provider
supports it.

The provider's return (``GET /oauth/callback/{slug}``) carries no credential of the
browser's user, so it never completes anything: it checks the state and hands ``state``
and ``code`` to the web app, which completes under its user's bearer token. A victim lured
through an attacker's authorization URL therefore cannot land their platform account in
the attacker's tenant (OAuth login CSRF): the attacker's state is not theirs to complete.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, replace
from datetime import datetime

import httpx

from listbackup.deps import Deps
from listbackup.errors import BadUserInputError, DomainError
from listbackup.integrations import oauth
from listbackup.integrations.base import FixedToken, Integration
from listbackup.integrations.errors import ConnectorError
from listbackup.models.accounts import Permission
from listbackup.models.connections import Connection, ConnectionStatus
from listbackup.models.platforms import AuthType
from listbackup.models.users import Principal
from listbackup.services import access
from listbackup.services.connections import SOURCE, connection_name, get, manageable
from listbackup.services.tokens import expiry
from listbackup.store.oauth_states import OAuthState

log = logging.getLogger(__name__)

STATE_LIFETIME_SECONDS = 600
MAX_STATE_LENGTH = 200
MAX_CODE_LENGTH = 4096


@dataclass(frozen=True, slots=True)
class OAuthStart:
    authorization_url: str
    state: str


def redirect_uri(public_url: str, slug: str) -> str:
    return f"{public_url.rstrip('/')}/oauth/callback/{slug}"


def _oauth_integration(deps: Deps, slug: str) -> Integration:
    integration = deps.platforms.integration(slug)
    if integration.oauth is None or integration.platform.auth_type is not AuthType.OAUTH2:
        raise BadUserInputError(
            f"{integration.platform.name} connects with an API key: use createApiKeyConnection.",
            reason="NOT_AN_OAUTH_PLATFORM",
        )
    if not deps.platforms.config(slug).client_id:
        raise BadUserInputError(
            f"{integration.platform.name} is not set up on this server yet.",
            reason="PLATFORM_NOT_CONFIGURED",
        )
    return integration


def _tenant(integration: Integration, given: str | None) -> str | None:
    """The tenant a per-tenant provider's URLs name (Shopify's shop domain), checked as
    its OAuth spec says; None for the other providers."""
    tenant = integration.oauth.tenant if integration.oauth else None
    if tenant is None:
        return None
    value = tenant.clean(given)
    if value is None:
        raise BadUserInputError(tenant.hint, field="shopDomain")
    return value


def _placeholders(integration: Integration, value: str | None) -> dict[str, str]:
    """A stored tenant value as the placeholders of the provider's URLs."""
    tenant = integration.oauth.tenant if integration.oauth else None
    return {tenant.name: value} if tenant is not None and value else {}


async def start(
    deps: Deps,
    *,
    principal: Principal,
    account_id: str,
    platform_slug: str,
    name: str | None,
    shop: str | None,
    connection_id: str | None = None,
) -> OAuthStart:
    now = deps.now()
    account = await access.require(
        deps, principal=principal, account_id=account_id, permission=Permission.MANAGE_INTEGRATIONS
    )
    integration = _oauth_integration(deps, platform_slug)
    assert integration.oauth is not None  # noqa: S101 - checked above
    tenant = _tenant(integration, shop)
    state = oauth.new_state()
    verifier = oauth.new_verifier() if integration.oauth.pkce else None
    await deps.store.oauth_states.put(
        OAuthState(
            state=state,
            user_id=principal.user_id,
            account_id=account.id,
            platform=integration.slug,
            expires_at=int(now.timestamp()) + STATE_LIFETIME_SECONDS,
            code_verifier=verifier,
            name=connection_name(name) if name else None,
            shop=tenant,
            connection_id=connection_id,
        )
    )
    url = oauth.authorization_url(
        integration.oauth,
        deps.platforms.config(integration.slug),
        redirect_uri=redirect_uri(deps.settings.public_url, integration.slug),
        state=state,
        verifier=verifier,
        placeholders=_placeholders(integration, tenant),
    )
    return OAuthStart(authorization_url=url, state=state)


async def reconnect(deps: Deps, *, principal: Principal, connection_id: str) -> OAuthStart:
    connection = await manageable(deps, principal=principal, connection_id=connection_id)
    integration = deps.platforms.integration(connection.platform)
    tenant = integration.oauth.tenant if integration.oauth else None
    extras: dict[str, str] = {}
    if connection.auth_type is AuthType.OAUTH2:
        secret = await deps.store.vault.open(
            account_id=connection.account_id, connection_id=connection.id
        )
        extras = secret.get("extras") or {}
    return await start(
        deps,
        principal=principal,
        account_id=connection.account_id,
        platform_slug=connection.platform,
        name=connection.name,
        shop=extras.get(tenant.name) if tenant else None,
        connection_id=connection.id,
    )


def _invalid_state() -> BadUserInputError:
    return BadUserInputError(
        "This authorization is unknown, used or expired: start again.", reason="INVALID_STATE"
    )


def _check_flow(flow: OAuthState | None, code: str, now: datetime, slug: str | None) -> OAuthState:
    if flow is None or (slug is not None and flow.platform != slug):
        raise _invalid_state()
    if flow.expires_at < int(now.timestamp()):
        raise BadUserInputError("This authorization expired: start again.", reason="STATE_EXPIRED")
    if not code or len(code) > MAX_CODE_LENGTH:
        raise BadUserInputError("The provider sent no authorization code.", reason="NO_CODE")
    return flow


async def check_return(deps: Deps, *, platform_slug: str, state: str, code: str) -> None:
    """The provider's return, before the app completes it: a flow we started for this
    platform, still alive, with a code. Reads the state; never spends it."""
    now = deps.now()
    flow = await deps.store.oauth_states.peek(state.strip()[:MAX_STATE_LENGTH])
    _check_flow(flow, code, now, platform_slug)


async def complete(deps: Deps, *, principal: Principal, state: str, code: str) -> Connection:
    """Exchange the code and save the connection, for the user who started the flow."""
    now = deps.now()
    taken = await deps.store.oauth_states.take(
        state.strip()[:MAX_STATE_LENGTH], user_id=principal.user_id
    )
    taken = _check_flow(taken, code, now, None)
    account = await access.require(
        deps,
        principal=principal,
        account_id=taken.account_id,
        permission=Permission.MANAGE_INTEGRATIONS,
    )
    integration = _oauth_integration(deps, taken.platform)
    assert integration.oauth is not None  # noqa: S101
    placeholders = _placeholders(integration, taken.shop)
    try:
        async with httpx.AsyncClient(transport=deps.platforms.transport) as http:
            token = await oauth.exchange_code(
                http,
                integration.oauth,
                deps.platforms.config(integration.slug),
                code=code,
                redirect_uri=redirect_uri(deps.settings.public_url, integration.slug),
                verifier=taken.code_verifier,
                placeholders=placeholders,
            )
            spec = integration.oauth
            learned = await spec.metadata(http, token["access_token"]) if spec.metadata else {}
    except ConnectorError as exc:
        await deps.events.publish(
            SOURCE,
            "OAuth Failed",
            {"accountId": account.id, "platform": integration.slug, "at": now},
        )
        raise BadUserInputError(exc.message, reason="TOKEN_EXCHANGE_FAILED") from None
    expires = expiry(token, now)
    extras = {**placeholders, **integration.oauth.extras_of(token), **learned}
    secret = {
        "accessToken": token["access_token"],
        "refreshToken": token.get("refresh_token"),
        "expiresAt": expires.isoformat() if expires else None,
        "extras": extras,
    }
    external = await _external_account(deps, integration, token["access_token"], extras)
    if taken.connection_id:
        connection = await _reconnected(deps, principal, taken, expires=expires, external=external)
    else:
        connection = Connection(
            id=str(uuid.uuid4()),
            account_id=account.id,
            platform=integration.slug,
            name=taken.name or integration.platform.name,
            auth_type=AuthType.OAUTH2,
            status=ConnectionStatus.ACTIVE,
            created_at=now,
            created_by=principal.user_id,
            external_account=external,
            expires_at=expires,
            last_tested_at=now,
        )
    sealed = await deps.store.vault.seal(
        account_id=account.id, connection_id=connection.id, secret=secret
    )
    write = deps.store.connections.put if taken.connection_id else deps.store.connections.put_new
    await deps.store.transact([write(connection), deps.store.vault.put(sealed)])
    deps.loaders.connection.clear(connection.id).prime(connection.id, connection)
    await deps.events.publish(
        SOURCE,
        "OAuth Connected",
        {
            "connectionId": connection.id,
            "accountId": account.id,
            "platform": integration.slug,
            "at": now,
        },
    )
    return connection


async def _reconnected(
    deps: Deps,
    actor: Principal,
    taken: OAuthState,
    *,
    expires: datetime | None,
    external: str | None,
) -> Connection:
    now = deps.now()
    assert taken.connection_id  # noqa: S101
    existing = await get(deps, principal=actor, connection_id=taken.connection_id)
    return replace(
        existing,
        status=ConnectionStatus.ACTIVE,
        expires_at=expires,
        external_account=external or existing.external_account,
        last_tested_at=now,
        last_error=None,
    )


async def _external_account(
    deps: Deps, integration: Integration, access_token: str, extras: dict[str, str]
) -> str | None:
    """The account's name at the provider, when the connector can tell; best effort."""
    try:
        # Inside the try: a connector refuses credentials it cannot work with when built.
        async with deps.platforms.connector(
            integration, credentials=extras, tokens=FixedToken(access_token), http=deps.http
        ) as connector:
            return await connector.check()
    except (ConnectorError, DomainError) as exc:
        log.warning("%s: could not read the connected account's name: %s", integration.slug, exc)
        return None
