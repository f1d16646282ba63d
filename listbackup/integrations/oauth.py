"""OAuth2 authorization-code flow with PKCE, built from authlib's protocol functions and
sent with our own httpx client (so tests can route the provider to a local fake)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import httpx
from authlib.common.security import generate_token
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from listbackup.config import PlatformSettings
from listbackup.integrations.base import OAuthSpec
from listbackup.integrations.errors import (
    ConnectorError,
    CredentialsRejected,
    PlatformUnavailable,
)

TIMEOUT = httpx.Timeout(20.0, connect=10.0)
_ERROR_CODE = re.compile(r"[A-Za-z0-9_.-]{1,64}")


class TokenRequestFailed(ConnectorError):
    """The provider refused to exchange a code or refresh a token."""


def new_state() -> str:
    state: str = generate_token(43)  # ~256 bits from secrets.SystemRandom
    return state


def new_verifier() -> str:
    verifier: str = generate_token(64)
    return verifier


def authorization_url(
    spec: OAuthSpec,
    config: PlatformSettings,
    *,
    redirect_uri: str,
    state: str,
    verifier: str | None,
    placeholders: Mapping[str, str],
) -> str:
    extras: dict[str, Any] = dict(spec.authorize_params)
    if verifier:
        extras |= {
            "code_challenge": create_s256_code_challenge(verifier),
            "code_challenge_method": "S256",
        }
    url = (config.authorize_url or spec.authorize_url).format(**placeholders)
    uri: str = prepare_grant_uri(
        url,
        config.client_id,
        "code",
        redirect_uri=redirect_uri,
        scope=spec.scope_separator.join(spec.scopes) or None,
        state=state,
        **extras,
    )
    return uri


async def exchange_code(
    http: httpx.AsyncClient,
    spec: OAuthSpec,
    config: PlatformSettings,
    *,
    code: str,
    redirect_uri: str,
    verifier: str | None,
    placeholders: Mapping[str, str],
) -> dict[str, Any]:
    params: dict[str, Any] = {"code": code, "client_id": config.client_id}
    if verifier:
        params["code_verifier"] = verifier
    body = prepare_token_request("authorization_code", redirect_uri=redirect_uri, **params)
    return await _token_request(http, spec, config, body, placeholders)


async def refresh(
    http: httpx.AsyncClient,
    spec: OAuthSpec,
    config: PlatformSettings,
    *,
    refresh_token: str,
    placeholders: Mapping[str, str],
) -> dict[str, Any]:
    body = prepare_token_request(
        "refresh_token", refresh_token=refresh_token, client_id=config.client_id
    )
    try:
        return await _token_request(http, spec, config, body, placeholders)
    except TokenRequestFailed as exc:
        if exc.status in (400, 401):
            # invalid_grant and friends: the grant is gone, the user must reconnect.
            raise CredentialsRejected(exc.message, status=exc.status) from None
        raise PlatformUnavailable(exc.message, status=exc.status) from None


async def _token_request(
    http: httpx.AsyncClient,
    spec: OAuthSpec,
    config: PlatformSettings,
    body: str,
    placeholders: Mapping[str, str],
) -> dict[str, Any]:
    if config.client_secret:
        body += "&" + httpx.QueryParams({"client_secret": config.client_secret}).__str__()
    url = (config.token_url or spec.token_url).format(**placeholders)
    try:
        response = await http.post(
            url,
            content=body,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
            },
            timeout=TIMEOUT,
        )
    except httpx.HTTPError as exc:
        raise TokenRequestFailed(
            f"The provider could not be reached ({type(exc).__name__})."
        ) from None
    try:
        token = response.json()
    except ValueError:
        token = {}
    if response.status_code >= 400 or not isinstance(token, dict) or "access_token" not in token:
        error = token.get("error") if isinstance(token, dict) else None
        # A short error code only: descriptions (and odd shapes) can echo what we sent.
        code = error if isinstance(error, str) and _ERROR_CODE.fullmatch(error) else None
        raise TokenRequestFailed(
            f"The provider refused the token request ({code or response.status_code}).",
            status=response.status_code,
        )
    return token
