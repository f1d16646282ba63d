"""A platform's local fake (from tests/integrations) behind a worker: its token endpoint,
one 429 with Retry-After where a test wants it, and the connection that reaches it."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

import httpx

from listbackup.config import PlatformSettings
from listbackup.deps import AppDeps, Deps
from listbackup.integrations import Platforms
from listbackup.integrations.base import Integration
from listbackup.models.platforms import AuthType
from listbackup.models.sources import Source
from tests.integrations.fakes import FakeApi
from tests.worker.helpers import stored_source

TOKEN_URL = "https://oauth.platform.test/token"
STALE, FRESH = "token-0", "token-1"  # the fakes accept "token-1"


@dataclass
class PlatformFake:
    """Routes a worker's platform traffic: token refreshes here, the rest to ``api``."""

    api: FakeApi
    #: Answer the nth request to the API (1-based) with a 429 and this Retry-After.
    throttle_at: int | None = None
    retry_after: float = 0.6
    #: Paths (prefixes) answered 400 while set: the platform refuses them.
    refuse: tuple[str, ...] = ()
    #: The access token a refresh hands out (the fakes take only FRESH).
    issues: str = "token-1"
    refreshes: int = 0
    api_calls: int = 0
    #: (when the 429 was sent, when the request came again).
    throttle_gap: list[float] = field(default_factory=list)

    def handle(self, request: httpx.Request) -> httpx.Response:
        if str(request.url) == TOKEN_URL:
            return self.token(request)
        self.api_calls += 1
        if self.throttle_gap and len(self.throttle_gap) == 1:
            self.throttle_gap.append(time.monotonic())
        if self.api_calls == self.throttle_at:
            self.throttle_gap.append(time.monotonic())
            return httpx.Response(
                429, headers={"Retry-After": str(self.retry_after)}, json={"error": "slow down"}
            )
        if any(request.url.path.startswith(p) for p in self.refuse):
            return httpx.Response(400, json={"error": "refused"})
        self.api.requests.append(request)
        return self.api.handler(request)

    def token(self, request: httpx.Request) -> httpx.Response:
        form = dict(httpx.QueryParams(request.content.decode()))
        assert form["grant_type"] == "refresh_token"
        assert form["refresh_token"] == "rt-1"
        self.refreshes += 1
        return httpx.Response(200, json={"access_token": self.issues, "expires_in": 3600})

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    @property
    def waited(self) -> float:
        """Seconds between the 429 and the request sent again."""
        sent, again = self.throttle_gap
        return again - sent


@dataclass(frozen=True)
class UnpacedPlatforms(Platforms):
    """The registry without the platforms' pace between requests: a fake has no rate
    limit to respect, and a test should not wait for one (429s are still honoured)."""

    def integration(self, slug: str) -> Integration:
        # Platforms has slots: a subclass of it cannot call super() without arguments.
        return replace(Platforms.integration(self, slug), pace=0.0)


def behind(app: AppDeps, slug: str, fake: PlatformFake, *, base_url: str) -> AppDeps:
    """The process's dependencies with ``slug`` served by ``fake`` at ``base_url``."""
    config = PlatformSettings(
        client_id="cid", client_secret="shh", token_url=TOKEN_URL, api_base_url=base_url
    )
    platforms = UnpacedPlatforms(settings={slug: config}, transport=fake.transport())
    return replace(app, platforms=platforms)


async def oauth_source(
    deps: Deps,
    slug: str,
    data_types: tuple[str, ...],
    *,
    access_token: str = STALE,
    extras: Mapping[str, Any] | None = None,
) -> Source:
    """An OAuth connection whose access token the platform no longer takes (it is
    refreshed once, on the first 401), and a source of it."""
    expires = deps.now() + timedelta(hours=1)
    secret = {
        "accessToken": access_token,
        "refreshToken": "rt-1",
        "expiresAt": expires.isoformat(),
        "extras": dict(extras or {}),
    }
    return await stored_source(
        deps, platform=slug, secret=secret, data_types=data_types, auth_type=AuthType.OAUTH2
    )


STRIPE_BASE = "https://api.stripe.test/v1"
STRIPE_LISTS = {
    "customers": [{"id": f"cus_{n:03d}", "object": "customer"} for n in range(250)],
    "products": [{"id": f"prod_{n:03d}", "object": "product"} for n in range(30)],
}


def stripe_api() -> FakeApi:
    """Stripe's list API (``limit``, ``starting_after``, ``has_more``) for two lists."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.headers.get("Authorization") != f"Bearer {FRESH}":
            return httpx.Response(401, json={"error": {"type": "invalid_request_error"}})
        items = STRIPE_LISTS[request.url.path.removeprefix("/v1/")]
        after = request.url.params.get("starting_after")
        start = 0 if after is None else [i["id"] for i in items].index(after) + 1
        limit = int(request.url.params["limit"])
        more = start + limit < len(items)
        return httpx.Response(
            200, json={"object": "list", "data": items[start : start + limit], "has_more": more}
        )

    return FakeApi(handler)
