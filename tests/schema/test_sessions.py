"""Sessions end when they should: the caller's rights are decided for every operation, on
HTTP and on a WebSocket that stays open for hours; signing out, a new password and token
expiry end them everywhere."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from listbackup.config import Settings
from listbackup.devstack import live_server
from listbackup.server import create_app
from tests.aws_state import confirmation_code
from tests.helpers import PASSWORD, Tenant, error_codes, gql, join, sign_in, tenant
from tests.wsclient import LEGACY_WS, TRANSPORT_WS, socket

ACCOUNT = "query($id: ID!) { account(id: $id) { id name } }"
RENAME = 'mutation($id: ID!) { updateAccount(id: $id, input: {name: "Renamed"}) { name } }'
REMOVE = "mutation($account: ID!, $user: ID!) { removeMember(accountId: $account, userId: $user) }"
VIEWER = "{ viewer { id email } }"
SIGN_OUT = "mutation { signOut }"
CHANGE = """
mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }
"""
NEW_PASSWORD = "N3w-Passw0rd!"


@dataclass
class Clock:
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Shared:
    """Ada owns a root with a bakery; Bob manages the bakery."""

    ada: Tenant
    bob: Tenant
    bakery: str


async def shared_bakery(client: httpx.AsyncClient) -> Shared:
    ada = await tenant(client, "ada@example.com")
    bob = await tenant(client, "bob@example.com")
    bakery = await ada.create("Harbour Bakery", ada.root)
    await join(ada, bakery, bob, "MANAGER")
    return Shared(ada, bob, bakery)


# ---------------------------------------------------------------- per operation


async def test_a_removed_member_loses_access_on_an_open_websocket(
    client: httpx.AsyncClient, app_url: str
) -> None:
    shop = await shared_bakery(client)
    async with socket(app_url, shop.bob.token) as bob:
        before = await bob.execute(ACCOUNT, id=shop.bakery)
        removed = await shop.ada.call(REMOVE, account=shop.bakery, user=shop.bob.user_id)
        read = await bob.execute(ACCOUNT, id=shop.bakery)
        write = await bob.execute(RENAME, id=shop.bakery)

    assert before["data"]["account"]["name"] == "Harbour Bakery"
    assert removed == {"data": {"removeMember": True}}
    assert read["data"] == {"account": None}
    assert error_codes(read) == ["NOT_FOUND"]
    assert error_codes(write) == ["NOT_FOUND"]
    name = await shop.ada.call(ACCOUNT, id=shop.bakery)
    assert name["data"]["account"]["name"] == "Harbour Bakery"


async def test_operations_before_connection_init_are_refused(app_url: str) -> None:
    async with socket(app_url, init=False) as ws:
        await ws.start(VIEWER)
        with pytest.raises(ConnectionClosed) as closed:
            await ws.receive()

    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4401  # graphql-transport-ws: Unauthorized


async def test_a_connection_without_a_valid_token_runs_nothing_that_needs_one(
    client: httpx.AsyncClient, app_url: str
) -> None:
    ada = await tenant(client, "ada@example.com")
    async with socket(app_url, "not-a-token") as forged, socket(app_url) as anonymous:
        forged_read = await forged.execute(ACCOUNT, id=ada.root)
        anonymous_read = await anonymous.execute(VIEWER)
        public = await anonymous.execute('{ platform(slug: "stripe") { slug } }')

    assert error_codes(forged_read) == ["UNAUTHENTICATED"]
    assert error_codes(anonymous_read) == ["UNAUTHENTICATED"]
    assert public == {"data": {"platform": {"slug": "stripe"}}}


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_a_connection_that_never_initialises_is_closed(
    settings: Settings, protocol: str
) -> None:
    app = create_app(settings.model_copy(update={"websocket_init_timeout_seconds": 0.2}))
    async with live_server(app) as url, socket(url, protocol=protocol, init=False) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.receive(), 5)

    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4408


async def test_idle_anonymous_connections_are_capped_per_address(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"max_anonymous_websockets": 3}))
    async with live_server(app) as url:
        async with socket(url, init=False), socket(url, init=False), socket(url, init=False):
            with pytest.raises(InvalidStatus) as refused:
                async with socket(url, init=False):
                    pass
        # Closing them gives the address its room back.
        async with socket(url, init=False) as again:
            assert await again.init(None) == {"type": "connection_ack"}

    assert refused.value.response.status_code == 403


async def test_authenticated_connections_do_not_count_against_the_cap(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    ada = await tenant(client, "ada@example.com")
    app = create_app(settings.model_copy(update={"max_anonymous_websockets": 1}))
    async with (
        live_server(app) as url,
        socket(url, ada.token),
        socket(url, ada.token),
        socket(url) as anonymous,
    ):
        viewer = await anonymous.execute('{ platform(slug: "stripe") { slug } }')

    assert "errors" not in viewer


# ---------------------------------------------------------------- revocation


async def test_signing_out_ends_every_session_on_http_and_websocket(
    client: httpx.AsyncClient, app_url: str
) -> None:
    ada = await tenant(client, "ada@example.com")
    laptop = (await sign_in(client, "ada@example.com"))["accessToken"]
    async with socket(app_url, laptop) as ws:
        assert "errors" not in await ws.execute(VIEWER)
        signed_out = await gql(client, SIGN_OUT, token=ada.token)
        on_socket = await ws.execute(VIEWER)

    on_http = await gql(client, VIEWER, token=laptop)
    own = await gql(client, VIEWER, token=ada.token)

    assert signed_out == {"data": {"signOut": True}}
    assert error_codes(on_socket) == ["UNAUTHENTICATED"]
    assert error_codes(on_http) == ["UNAUTHENTICATED"]
    assert error_codes(own) == ["UNAUTHENTICATED"]


async def test_signing_in_again_right_after_signing_out_works(client: httpx.AsyncClient) -> None:
    ada = await tenant(client, "ada@example.com")
    await gql(client, SIGN_OUT, token=ada.token)

    fresh = await sign_in(client, "ada@example.com")

    assert "errors" not in await gql(client, VIEWER, token=fresh["accessToken"])


async def test_a_new_password_ends_the_sessions_opened_with_the_old_one(
    client: httpx.AsyncClient,
) -> None:
    ada = await tenant(client, "ada@example.com")
    other = (await sign_in(client, "ada@example.com"))["accessToken"]

    changed = await gql(client, CHANGE, {"c": PASSWORD, "n": NEW_PASSWORD}, token=ada.token)

    assert changed == {"data": {"changePassword": True}}
    assert error_codes(await gql(client, VIEWER, token=other)) == ["UNAUTHENTICATED"]
    assert error_codes(await gql(client, VIEWER, token=ada.token)) == ["UNAUTHENTICATED"]
    fresh = await sign_in(client, "ada@example.com", NEW_PASSWORD)
    assert "errors" not in await gql(client, VIEWER, token=fresh["accessToken"])


async def test_a_password_reset_ends_the_sessions_opened_with_the_old_one(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    ada = await tenant(client, "ada@example.com")
    await gql(client, 'mutation { forgotPassword(email: "ada@example.com") }')
    assert settings.cognito_user_pool_id
    code = await confirmation_code(settings.cognito_user_pool_id, "ada@example.com")

    reset = await gql(
        client,
        "mutation($c: String!, $p: String!) {"
        ' confirmForgotPassword(email: "ada@example.com", code: $c, newPassword: $p) }',
        {"c": code, "p": NEW_PASSWORD},
    )

    assert reset == {"data": {"confirmForgotPassword": True}}
    assert error_codes(await gql(client, VIEWER, token=ada.token)) == ["UNAUTHENTICATED"]


async def test_revocation_costs_no_extra_dynamodb_call(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    ada = await tenant(client, "ada@example.com")
    await gql(client, SIGN_OUT, token=ada.token)  # the user now carries a revocation time
    fresh = await sign_in(client, "ada@example.com")

    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="listbackup.access"):
        body = await gql(client, VIEWER, token=fresh["accessToken"])

    assert "errors" not in body
    [record] = [r for r in caplog.records if hasattr(r, "dynamodb_calls")]
    assert record.__dict__["dynamodb_calls"] == {"GetItem": 1}  # the user, and nothing else


# ---------------------------------------------------------------- expiry


@pytest.fixture
async def moving(settings: Settings) -> AsyncIterator[tuple[str, Clock]]:
    clock = Clock()
    async with live_server(create_app(settings, token_clock=clock)) as url:
        yield url, clock


async def test_an_expired_token_stops_working_on_an_open_websocket(
    client: httpx.AsyncClient, moving: tuple[str, Clock]
) -> None:
    url, clock = moving
    ada = await tenant(client, "ada@example.com")
    async with socket(url, ada.token) as ws:
        fresh = await ws.execute(VIEWER)
        clock.now += timedelta(hours=2)
        stale = await ws.execute(VIEWER)

    assert "errors" not in fresh
    assert error_codes(stale) == ["UNAUTHENTICATED"]


async def test_sign_in_answers_every_field_of_its_user(client: httpx.AsyncClient) -> None:
    await tenant(client, "ada@example.com")
    query = """
    mutation {
      signIn(email: "ada@example.com", password: "Passw0rd!x") {
        accessToken
        user {
          email currentAccount { name } memberships { nodes { role } } pendingInvitations { id }
        }
      }
    }
    """

    body = await gql(client, query)  # no Authorization header: signing in is how one gets it

    assert "errors" not in body, body
    user = body["data"]["signIn"]["user"]
    assert user["memberships"]["nodes"] == [{"role": "OWNER"}]
    assert user["currentAccount"]["name"] == "Ada Lovelace"
    assert body["data"]["signIn"]["accessToken"]
