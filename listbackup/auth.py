"""Verifies Cognito access tokens: RS256 only, key by ``kid`` from the pool's JWKS.

The JWKS is fetched once and cached; an unknown ``kid`` triggers at most one re-fetch
every 10 seconds, so forged ``kid`` values cannot make us hammer Cognito. Every failure
is an :class:`UnauthenticatedError`, whatever went wrong.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from jose import jwk, jwt
from jose.exceptions import JOSEError

from listbackup.errors import UnauthenticatedError

log = logging.getLogger(__name__)

ALGORITHM = "RS256"
LEEWAY_SECONDS = 30
REFETCH_INTERVAL_SECONDS = 10.0
_MAX_TOKEN_LENGTH = 8192


@dataclass(frozen=True, slots=True)
class Claims:
    subject: str
    token: str
    #: Epoch seconds, as the token says.
    issued_at: int
    expires_at: int


def issuer(region: str, user_pool_id: str) -> str:
    return f"https://cognito-idp.{region}.amazonaws.com/{user_pool_id}"


class TokenVerifier:
    def __init__(
        self,
        *,
        http: httpx.AsyncClient,
        issuer: str,
        client_id: str,
        jwks_url: str | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._http = http
        self.issuer = issuer
        self.client_id = client_id
        self.jwks_url = jwks_url or f"{issuer}/.well-known/jwks.json"
        self._monotonic = monotonic
        self._clock = clock
        self._keys: dict[str, dict[str, Any]] = {}
        #: The keys of ``_keys`` as key objects, built on first use.
        self._public_keys: dict[str, Any] = {}
        self._fetched_at: float | None = None
        self._lock = asyncio.Lock()

    async def verify(self, token: str) -> Claims:
        unauthenticated = UnauthenticatedError("The access token is not valid.")
        if not token or len(token) > _MAX_TOKEN_LENGTH:
            raise unauthenticated
        try:
            header = jwt.get_unverified_header(token)
        except JOSEError:
            raise unauthenticated from None
        kid = header.get("kid")
        if header.get("alg") != ALGORITHM or not isinstance(kid, str):
            raise unauthenticated
        key = await self._key(kid)
        if key is None:
            raise unauthenticated
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                issuer=self.issuer,
                options={
                    "verify_aud": False,  # access tokens carry client_id, not aud
                    # Expiry is checked below against our clock, which tests can move.
                    "verify_exp": False,
                    "require_exp": True,
                    "require_iat": True,
                    "require_sub": True,
                    "leeway": LEEWAY_SECONDS,
                },
            )
        except (JOSEError, ValueError, TypeError, KeyError, OverflowError):
            # A forged token, or a corrupt key in the JWKS: either way, not authenticated.
            raise unauthenticated from None
        if claims.get("token_use") != "access" or claims.get("client_id") != self.client_id:
            raise unauthenticated
        try:
            issued_at, expires_at = int(claims["iat"]), int(claims["exp"])
        except (TypeError, ValueError, OverflowError):
            raise unauthenticated from None
        if expires_at + LEEWAY_SECONDS < self._clock().timestamp():
            raise UnauthenticatedError("The access token has expired: refresh the session.")
        return Claims(
            subject=str(claims["sub"]), token=token, issued_at=issued_at, expires_at=expires_at
        )

    async def _key(self, kid: str) -> Any:
        """The public key of ``kid`` (a python-jose key object), or None."""
        if kid not in self._keys:
            async with self._lock:
                if kid not in self._keys and self._may_fetch():
                    await self._fetch()
        public = self._public_keys.get(kid)
        if public is None and kid in self._keys:
            # Built once: building an RSA key from its JWK costs about as much as
            # checking a signature with it.
            try:
                public = jwk.construct(self._keys[kid], ALGORITHM)
            except (JOSEError, ValueError, TypeError, KeyError, OverflowError):
                return None  # a corrupt key in the JWKS: nothing it signed is valid
            self._public_keys[kid] = public
        return public

    def _may_fetch(self) -> bool:
        return (
            self._fetched_at is None
            or self._monotonic() - self._fetched_at >= REFETCH_INTERVAL_SECONDS
        )

    async def _fetch(self) -> None:
        self._fetched_at = self._monotonic()
        try:
            response = await self._http.get(self.jwks_url, timeout=5.0)
            response.raise_for_status()
            keys = response.json()["keys"]
            if not isinstance(keys, list):
                raise TypeError("keys is not a list")
            self._keys = {
                k["kid"]: k
                for k in keys
                if isinstance(k, dict) and k.get("kty") == "RSA" and isinstance(k.get("kid"), str)
            }
            self._public_keys = {}
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            log.error("could not fetch the JWKS from %s: %s", self.jwks_url, type(exc).__name__)
