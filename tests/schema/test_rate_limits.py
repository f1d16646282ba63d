"""Abuse limits on the public mutations: they trip, say when to retry, and reset."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from listbackup.config import Settings
from listbackup.devstack import free_port, live_server
from listbackup.server import create_app
from listbackup.services.rate_limits import SIGN_IN_FAILURES_PER_EMAIL, SIGN_IN_FAILURES_PER_IP
from tests.helpers import PASSWORD, SIGN_IN, SIGN_UP, error_codes, gql, sign_up

WRONG = "Wr0ng-password!"
FORGOT = "mutation($e: String!) { forgotPassword(email: $e) }"


@dataclass
class Clock:
    now: datetime = field(default_factory=lambda: datetime(2026, 1, 1, 12, 0, 1, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: int) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class Behind:
    """A client behind our trusted proxy (127.0.0.1), able to claim any address."""

    http: httpx.AsyncClient
    clock: Clock

    async def call(self, query: str, variables: dict[str, object], ip: str) -> dict[str, object]:
        response = await self.http.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"X-Forwarded-For": ip},
        )
        body: dict[str, object] = response.json()
        return body

    async def sign_in(self, email: str, password: str, ip: str) -> dict[str, object]:
        return await self.call(SIGN_IN, {"e": email, "p": password}, ip)


@pytest.fixture
async def proxied(settings: Settings, client: httpx.AsyncClient) -> AsyncIterator[Behind]:
    clock = Clock()
    app = create_app(settings.model_copy(update={"trusted_proxies": ("127.0.0.1",)}), clock=clock)
    async with live_server(app) as url, httpx.AsyncClient(base_url=url) as http:
        yield Behind(http, clock)


def retry_after(body: dict[str, object]) -> int:
    errors = body["errors"]
    assert isinstance(errors, list)
    value: int = errors[0]["extensions"]["retryAfter"]
    return value


async def test_sign_in_failures_per_email_trip_and_reset(
    proxied: Behind, client: httpx.AsyncClient
) -> None:
    await sign_up(client, "target@example.com")
    for attempt in range(5):
        failed = await proxied.sign_in("target@example.com", WRONG, f"198.51.100.{attempt}")
        assert error_codes(failed) == ["UNAUTHENTICATED"]

    limited = await proxied.sign_in("target@example.com", PASSWORD, "198.51.100.99")
    proxied.clock.advance(retry_after(limited))
    later = await proxied.sign_in("target@example.com", PASSWORD, "198.51.100.99")

    assert error_codes(limited) == ["RATE_LIMITED"]
    assert 0 < retry_after(limited) <= 15 * 60
    assert "errors" not in later


async def test_sign_in_failures_per_ip_block_that_address_only(
    proxied: Behind, client: httpx.AsyncClient
) -> None:
    await sign_up(client, "victim@example.com")
    limit = SIGN_IN_FAILURES_PER_IP.limit
    await asyncio.gather(
        *(proxied.sign_in(f"guess{n}@example.com", WRONG, "203.0.113.7") for n in range(limit))
    )

    same_ip = await proxied.sign_in("victim@example.com", PASSWORD, "203.0.113.7")
    other_ip = await proxied.sign_in("victim@example.com", PASSWORD, "203.0.113.8")

    assert error_codes(same_ip) == ["RATE_LIMITED"]
    assert "errors" not in other_ip


async def test_an_office_behind_one_nat_survives_five_typos(
    proxied: Behind, client: httpx.AsyncClient
) -> None:
    # Five colleagues mistype once each, from the office's one address.
    for n in range(5):
        await sign_up(client, f"colleague{n}@example.com")
        await proxied.sign_in(f"colleague{n}@example.com", WRONG, "198.51.100.77")

    later = [
        await proxied.sign_in(f"colleague{n}@example.com", PASSWORD, "198.51.100.77")
        for n in range(5)
    ]

    assert all("errors" not in body for body in later), later


async def test_forty_concurrent_guesses_cannot_slip_past_the_limit(
    proxied: Behind, client: httpx.AsyncClient
) -> None:
    await sign_up(client, "target@example.com")

    answers = await asyncio.gather(
        *(proxied.sign_in("target@example.com", WRONG, f"192.0.2.{n}") for n in range(40))
    )

    codes = [error_codes(body) for body in answers]
    # Only an attempt that reached Cognito can learn the password was wrong.
    assert codes.count(["UNAUTHENTICATED"]) == SIGN_IN_FAILURES_PER_EMAIL.limit
    assert codes.count(["RATE_LIMITED"]) == 40 - SIGN_IN_FAILURES_PER_EMAIL.limit


async def test_a_cognito_outage_is_an_internal_error_and_locks_nobody_out(
    settings: Settings, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    await sign_up(client, "patient@example.com")
    # Nothing listens here: Cognito is down for this app.
    monkeypatch.setenv(
        "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER", f"http://127.0.0.1:{free_port('127.0.0.1')}"
    )
    down = create_app(settings)
    async with live_server(down) as url, httpx.AsyncClient(base_url=url, timeout=30) as http:
        outages = await asyncio.gather(
            *(
                gql(http, SIGN_IN, {"e": "patient@example.com", "p": PASSWORD})
                for _ in range(SIGN_IN_FAILURES_PER_EMAIL.limit)
            )
        )

    # Had the outages counted as failures, this would be over the limit.
    back = await gql(client, SIGN_IN, {"e": "patient@example.com", "p": PASSWORD})

    assert all(error_codes(body) == ["INTERNAL_SERVER_ERROR"] for body in outages), outages
    assert "errors" not in back, back


async def test_a_successful_sign_in_clears_the_email_failures(
    proxied: Behind, client: httpx.AsyncClient
) -> None:
    await sign_up(client, "forgetful@example.com")
    for round_ in range(2):
        for attempt in range(4):
            await proxied.sign_in(
                "forgetful@example.com", WRONG, f"192.0.2.{round_ * 10 + attempt}"
            )
        ok = await proxied.sign_in("forgetful@example.com", PASSWORD, f"192.0.2.{100 + round_}")
        assert "errors" not in ok


async def test_sign_ups_per_ip(proxied: Behind) -> None:
    def attempt(n: int) -> dict[str, object]:
        return {"input": {"email": f"bulk{n}@example.com", "password": PASSWORD, "name": "Bulk"}}

    for n in range(5):
        assert "errors" not in await proxied.call(SIGN_UP, attempt(n), "198.51.100.20")
    sixth = await proxied.call(SIGN_UP, attempt(5), "198.51.100.20")
    elsewhere = await proxied.call(SIGN_UP, attempt(6), "198.51.100.21")

    assert error_codes(sixth) == ["RATE_LIMITED"]
    assert 0 < retry_after(sixth) <= 3600
    assert "errors" not in elsewhere


async def test_forgot_password_per_email_trips_and_resets(proxied: Behind) -> None:
    for n in range(3):
        ok = await proxied.call(FORGOT, {"e": "often@example.com"}, f"192.0.2.{n}")
        assert ok == {"data": {"forgotPassword": True}}

    fourth = await proxied.call(FORGOT, {"e": "often@example.com"}, "192.0.2.50")
    proxied.clock.advance(3600)
    next_hour = await proxied.call(FORGOT, {"e": "often@example.com"}, "192.0.2.51")

    assert error_codes(fourth) == ["RATE_LIMITED"]
    assert next_hour == {"data": {"forgotPassword": True}}


async def test_forwarded_for_from_an_untrusted_peer_is_ignored(
    client: httpx.AsyncClient,
) -> None:
    # The shared app trusts no proxy: every attempt counts against the real peer.
    for n in range(SIGN_IN_FAILURES_PER_IP.limit):
        await client.post(
            "/graphql",
            json={"query": SIGN_IN, "variables": {"e": f"spoof{n}@example.com", "p": WRONG}},
            headers={"X-Forwarded-For": f"10.9.8.{n}"},
        )

    body = await gql(client, SIGN_IN, {"e": "spoof9@example.com", "p": WRONG})

    assert error_codes(body) == ["RATE_LIMITED"]
