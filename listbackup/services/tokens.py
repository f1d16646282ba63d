"""OAuth access tokens of a connection, refreshed before they run out.

A token expiring within 5 minutes is refreshed before use. The refresh runs under the
connection's lock (a conditional write in the vault), so concurrent jobs never refresh
the same token twice: whoever does not get the lock waits, then reads the new token.
A provider that returns no new refresh token keeps the old one; a refused refresh marks
the connection EXPIRED with the error kept for the user.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx

from listbackup.deps import Deps
from listbackup.integrations import oauth
from listbackup.integrations.base import TokenSource
from listbackup.integrations.errors import CredentialsRejected, PlatformUnavailable
from listbackup.models.connections import Connection, ConnectionStatus

REFRESH_MARGIN = timedelta(minutes=5)
LOCK_WAIT_SECONDS = 15.0
LOCK_POLL_SECONDS = 0.2


def expiry(token: dict[str, Any], now: datetime) -> datetime | None:
    """When the token expires; None when it does not say, or says 0 (Mailchimp's tokens,
    which never expire, come with ``"expires_in": 0``)."""
    try:
        seconds = int(token.get("expires_in") or 0)
    except (TypeError, ValueError):
        return None
    return now + timedelta(seconds=seconds) if seconds > 0 else None


class VaultTokens(TokenSource):
    def __init__(self, deps: Deps, connection: Connection) -> None:
        self._store = deps.store
        self._platforms = deps.platforms
        self._connection = connection
        self._clock = deps.clock

    async def _secret(self) -> dict[str, Any]:
        return await self._store.vault.open(
            account_id=self._connection.account_id, connection_id=self._connection.id
        )

    async def token(self) -> str:
        secret = await self._secret()
        expires = secret.get("expiresAt")
        if expires and datetime.fromisoformat(expires) - self._clock() < REFRESH_MARGIN:
            return await self._refresh(stale=secret["accessToken"])
        return str(secret["accessToken"])

    async def refresh(self, rejected: str | None = None) -> str:
        """After a 401: refresh unless ``rejected`` was already replaced by someone else."""
        if rejected is None:
            rejected = str((await self._secret())["accessToken"])
        return await self._refresh(stale=rejected)

    async def _refresh(self, *, stale: str) -> str:
        owner = uuid.uuid4().hex
        vault = self._store.vault
        waited = 0.0
        while not await vault.lock(self._connection.id, owner=owner, now=self._clock()):
            if waited >= LOCK_WAIT_SECONDS:
                # Slow, not refused: the credentials may be fine; try again later.
                raise PlatformUnavailable("Another refresh of this connection is still running.")
            await asyncio.sleep(LOCK_POLL_SECONDS)
            waited += LOCK_POLL_SECONDS
        try:
            secret = await self._secret()
            if secret["accessToken"] != stale:
                return str(secret["accessToken"])  # refreshed while we waited
            return await self._call_provider(secret, owner=owner)
        finally:
            await vault.unlock(self._connection.id, owner=owner)

    async def _call_provider(self, secret: dict[str, Any], *, owner: str) -> str:
        connection = self._connection
        integration = self._platforms.integration(connection.platform)
        refresh_token = secret.get("refreshToken")
        now = self._clock()
        try:
            if integration.oauth is None or not refresh_token:
                raise CredentialsRejected("The access token expired and cannot be refreshed.")
            async with httpx.AsyncClient(transport=self._platforms.transport) as http:
                token = await oauth.refresh(
                    http,
                    integration.oauth,
                    self._platforms.config(connection.platform),
                    refresh_token=str(refresh_token),
                    placeholders=secret.get("extras") or {},
                )
        except CredentialsRejected as exc:
            await self._store.connections.update(
                connection.id,
                {"status": ConnectionStatus.EXPIRED.value, "lastError": exc.message},
            )
            raise
        expires = expiry(token, now)
        renewed = {
            **secret,
            "accessToken": token["access_token"],
            # Providers that do not rotate refresh tokens send none back: keep ours.
            "refreshToken": token.get("refresh_token") or refresh_token,
            "expiresAt": expires.isoformat() if expires else None,
        }
        await self._store.vault.replace(
            account_id=connection.account_id,
            connection_id=connection.id,
            secret=renewed,
            owner=owner,
        )
        await self._store.connections.update(
            connection.id,
            {"status": ConnectionStatus.ACTIVE.value, "expiresAt": expires, "lastError": None},
        )
        return str(token["access_token"])
