"""The HTTP client every connector uses: auth, pace, retries and one token refresh.

- 429 and 503 (and other 5xx, and transport errors) are retried with the platform's
  ``Retry-After`` when it gives one, else exponential backoff with full jitter; so is any
  answer a platform's ``throttled`` rule calls a slow-down (Drive's quota 403s).
- A per-connection pace keeps requests at least ``pace`` seconds apart, and a throttle
  shared by every worker keeps a platform's per-app quota (Keap's).
- A 401 on an OAuth connection refreshes the token once and retries; a second 401, or a
  403, is :class:`CredentialsRejected`.

Everything per connection (base URL, headers, auth) is applied per request, so the same
code runs on a client of its own or on the process's shared one.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
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
#: Whether an answer is the platform's own way of saying "slow down".
Throttled = Callable[[httpx.Response], bool]


@dataclass(frozen=True, slots=True)
class Request:
    """One request of a listing; paginators send it again with other parameters."""

    path: str
    params: Mapping[str, Any] = field(default_factory=dict)
    method: str = "GET"
    #: A JSON body (RPC-style APIs such as Dropbox's).
    body: Mapping[str, Any] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


class PlatformClient:
    """One connection's HTTP session with one platform."""

    def __init__(
        self,
        context: ConnectorContext,
        *,
        base_url: str | None = None,
        headers: Mapping[str, str] | None = None,
        auth: httpx.Auth | None = None,
        token_header: str = "Authorization",
        token_prefix: str = "Bearer ",
        throttled: Throttled | None = None,
    ) -> None:
        base = httpx.URL(base_url or context.base_url)
        # Relative paths append to the base, as httpx's own base_url does.
        self._base = (
            base if base.raw_path.endswith(b"/") else base.copy_with(raw_path=base.raw_path + b"/")
        )
        self._headers = dict(headers or {})
        self._auth = auth
        self._tokens = context.tokens
        self._token_header = token_header
        self._token_prefix = token_prefix
        self._throttled = throttled
        self._pace = context.pace
        self._throttle = context.throttle
        self._sleep = context.sleep
        self._last_request = 0.0
        self._transport = context.transport
        self._shared = context.http
        self._own: httpx.AsyncClient | None = None

    @property
    def _http(self) -> httpx.AsyncClient:
        if self._shared is not None:
            return self._shared
        if self._own is None:  # opened on first use: a connector never used holds nothing
            self._own = httpx.AsyncClient(transport=self._transport, timeout=TIMEOUT)
        return self._own

    async def aclose(self) -> None:
        """Close the client this session opened; a shared one belongs to the process."""
        if self._own is not None:
            await self._own.aclose()
            self._own = None

    def url(self, path: str) -> httpx.URL:
        """``path`` under the base URL; a full URL (a next link) as it is."""
        url = httpx.URL(path)
        if not url.is_relative_url:
            return url
        return self._base.copy_with(raw_path=self._base.raw_path + url.raw_path.lstrip(b"/"))

    async def get_json(self, url: str, **kwargs: Any) -> Any:
        return json_of(await self.request("GET", url, **kwargs))

    async def send(self, request: Request, **overrides: Any) -> httpx.Response:
        """``request``, with ``params`` or ``json`` replaced by ``overrides``."""
        kwargs: dict[str, Any] = {"params": dict(request.params), "headers": request.headers}
        if request.body is not None:
            kwargs["json"] = dict(request.body)
        return await self.request(request.method, request.path, **(kwargs | overrides))

    async def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        refreshed = False
        extra_headers = {**self._headers, **(kwargs.pop("headers", None) or {})}
        target = self.url(url)
        token = await self._tokens.token() if self._tokens else None
        for attempt in range(1, MAX_ATTEMPTS + 1):
            await self._keep_pace()
            headers = dict(extra_headers)
            if token is not None:
                headers[self._token_header] = self._token_prefix + token
            request = self._http.build_request(
                method, target, headers=headers, timeout=TIMEOUT, **kwargs
            )
            if self._shared is not None:
                # The shared client's cookie jar holds what every connection was sent
                # (another tenant's session on the same host): none of it goes out.
                request.headers.pop("Cookie", None)
            try:
                # Never followed: a redirect would carry our credentials somewhere else.
                response = await self._http.send(request, auth=self._auth, follow_redirects=False)
            except httpx.RequestError as exc:
                if attempt == MAX_ATTEMPTS:
                    raise PlatformUnavailable(
                        f"The platform could not be reached ({type(exc).__name__})."
                    ) from None
                await self._sleep(_backoff(attempt))
                continue
            status = response.status_code
            if (
                self._throttled is not None
                and status not in RETRYABLE
                and self._throttled(response)
            ):
                status = 429
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
        if self._throttle is not None:
            await self._throttle()
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


class KeyHeader(httpx.Auth):
    """An API key sent in a header of its own (ActiveCampaign's ``Api-Token``)."""

    def __init__(self, name: str, key: str) -> None:
        self._name = name
        self._key = key

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers[self._name] = self._key
        yield request
