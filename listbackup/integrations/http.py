"""The HTTP client every connector uses: auth, pace, retries and one token refresh.

- 429 and 503 (and other 5xx, and transport errors) are retried with the platform's
  ``Retry-After`` when it gives one, else exponential backoff with full jitter.
- A per-connection pace keeps requests at least ``pace`` seconds apart.
- A 401 on an OAuth connection refreshes the token once and retries; a second 401, or a
  403, is :class:`CredentialsRejected`.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Mapping
from typing import Any

import httpx

from listbackup.integrations.base import ConnectorContext
from listbackup.integrations.errors import (
    CredentialsRejected,
    PlatformRequestFailed,
    PlatformUnavailable,
)

RETRYABLE = {429, 500, 502, 503, 504}
MAX_ATTEMPTS = 6
BASE_DELAY = 0.5
MAX_DELAY = 60.0
TIMEOUT = httpx.Timeout(30.0, connect=10.0)


class PlatformClient:
    """One connection's HTTP session with one platform."""

    def __init__(
        self,
        context: ConnectorContext,
        *,
        headers: Mapping[str, str] | None = None,
        auth: httpx.Auth | None = None,
        token_header: str = "Authorization",
        token_prefix: str = "Bearer ",
    ) -> None:
        self._tokens = context.tokens
        self._token_header = token_header
        self._token_prefix = token_prefix
        self._pace = context.pace
        self._sleep = context.sleep
        self._last_request = 0.0
        self._http = httpx.AsyncClient(
            base_url=context.base_url,
            headers=dict(headers or {}),
            auth=auth,
            transport=context.transport,
            timeout=TIMEOUT,
            follow_redirects=False,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def get_json(self, url: str, **kwargs: Any) -> Any:
        return json_of(await self.request("GET", url, **kwargs))

    async def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        refreshed = False
        extra_headers = dict(kwargs.pop("headers", None) or {})
        token = await self._tokens.token() if self._tokens else None
        for attempt in range(1, MAX_ATTEMPTS + 1):
            await self._keep_pace()
            headers = dict(extra_headers)
            if token is not None:
                headers[self._token_header] = self._token_prefix + token
            try:
                response = await self._http.request(method, url, headers=headers, **kwargs)
            except httpx.RequestError as exc:
                if attempt == MAX_ATTEMPTS:
                    raise PlatformUnavailable(
                        f"The platform could not be reached ({type(exc).__name__})."
                    ) from None
                await self._sleep(_backoff(attempt))
                continue
            status = response.status_code
            if status == 401 and self._tokens and not refreshed:
                refreshed = True
                token = await self._tokens.refresh(token)
                continue
            if status in (401, 403):
                raise CredentialsRejected(
                    "The platform refused our credentials; reconnect it.", status=status
                )
            if status in RETRYABLE:
                if attempt == MAX_ATTEMPTS:
                    raise PlatformUnavailable(
                        f"The platform kept answering {status}; try again later.", status=status
                    )
                await self._sleep(_retry_after(response) or _backoff(attempt))
                continue
            if status >= 400:
                raise PlatformRequestFailed(
                    f"The platform refused the request ({status}).", status=status
                )
            if status >= 300:
                # Not followed: a redirect would carry our credentials somewhere else.
                raise PlatformRequestFailed(
                    f"The platform redirected the request ({status}); check the account address.",
                    status=status,
                )
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    async def _keep_pace(self) -> None:
        if self._pace > 0:
            wait = self._last_request + self._pace - time.monotonic()
            if wait > 0:
                await self._sleep(wait)
        self._last_request = time.monotonic()


def _backoff(attempt: int) -> float:
    # Full jitter: concurrent connections spread their retries apart.
    return random.uniform(0, min(MAX_DELAY, BASE_DELAY * 2 ** (attempt - 1)))  # noqa: S311


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, min(float(value), MAX_DELAY))  # seconds, whole or not ("2.0")
    except ValueError:
        pass
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (ValueError, TypeError):
        return None  # unreadable: fall back to our own backoff
    return max(0.0, min(MAX_DELAY, parsed.timestamp() - time.time()))


def json_of(response: httpx.Response) -> Any:
    """The response's JSON body; anything else is the platform's failure, not ours."""
    try:
        return response.json()
    except ValueError:
        raise PlatformRequestFailed(
            "The platform answered with something other than JSON.",
            status=response.status_code,
        ) from None
