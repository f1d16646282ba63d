"""The token vault: sealed at rest, bound to its context, refreshed once under a lock."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import httpx
import pytest

from listbackup.aws import AwsClients
from listbackup.config import PlatformSettings, Settings
from listbackup.deps import Deps
from listbackup.integrations import Platforms
from listbackup.integrations.errors import CredentialsRejected, PlatformUnavailable
from listbackup.models.connections import Connection, ConnectionStatus
from listbackup.models.platforms import AuthType
from listbackup.services.tokens import VaultTokens
from listbackup.store import Store
from listbackup.store.connections import to_model
from listbackup.store.dynamo import from_item, to_item
from listbackup.store.vault import SealedSecretError

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
SECRET = {"accessToken": "at-stale-7f3a9c", "refreshToken": "rt-original-88d1"}


def connection() -> Connection:
    return Connection(
        id="conn-1",
        account_id="acct-1",
        platform="stripe",
        name="Stripe",
        auth_type=AuthType.OAUTH2,
        status=ConnectionStatus.ACTIVE,
        created_at=NOW,
    )


async def save(store: Store, conn: Connection, secret: Mapping[str, object]) -> None:
    sealed = await store.vault.seal(
        account_id=conn.account_id, connection_id=conn.id, secret=secret
    )
    await store.transact([store.connections.put_new(conn), store.vault.put(sealed)])


async def connections_by_id(store: Store, ids: list[str]) -> list[Connection | None]:
    found = await store.clients.dynamodb.batch_get_item(
        RequestItems={store.connections.table: {"Keys": [to_item({"id": i}) for i in ids]}}
    )
    by_id = {
        c.id: c
        for c in (to_model(from_item(i)) for i in found["Responses"][store.connections.table])
    }
    return [by_id.get(i) for i in ids]


@pytest.fixture
def store(aws: AwsClients, settings: Settings) -> Store:
    return Store.create(aws, settings.names)


async def test_the_stored_item_holds_no_plaintext(
    store: Store, aws: AwsClients, settings: Settings
) -> None:
    await save(store, connection(), SECRET)

    [item] = (await aws.dynamodb.scan(TableName=settings.names.table("credentials")))["Items"]
    opened = await store.vault.open(account_id="acct-1", connection_id="conn-1")

    raw = repr(item)
    assert all(value not in raw for value in SECRET.values())
    assert opened == SECRET


async def test_a_wrong_encryption_context_cannot_open_it(store: Store) -> None:
    await save(store, connection(), SECRET)

    with pytest.raises(SealedSecretError):
        await store.vault.open(account_id="someone-else", connection_id="conn-1")


async def test_a_tampered_item_cannot_be_opened(
    deps: Deps, store: Store, aws: AwsClients, settings: Settings
) -> None:
    await save(store, connection(), SECRET)
    table = settings.names.table("credentials")
    item = from_item((await aws.dynamodb.scan(TableName=table))["Items"][0])
    sealed = bytearray(bytes(item["sealed"]))
    sealed[0] ^= 0xFF
    item["sealed"] = bytes(sealed)
    await aws.dynamodb.put_item(TableName=table, Item=to_item(item))

    with pytest.raises(SealedSecretError):
        await store.vault.open(account_id="acct-1", connection_id="conn-1")


class FakeStripeTokens:
    """Stripe's token endpoint: counts refreshes; answers slowly so they overlap."""

    def __init__(self, *, refuse: bool = False, rotate: bool = False) -> None:
        self.calls = 0
        self.refuse = refuse
        self.rotate = rotate

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/oauth/token"
        form = parse_qs(request.content.decode())
        assert form["grant_type"] == ["refresh_token"]
        assert form["refresh_token"] == ["rt-original-88d1"]
        assert form["client_secret"] == ["shh"]
        self.calls += 1
        await asyncio.sleep(0.05)
        if self.refuse:
            return httpx.Response(400, json={"error": "invalid_grant"})
        token = {"access_token": f"at-fresh-{self.calls}", "expires_in": 3600}
        if self.rotate:
            token["refresh_token"] = "rt-rotated"
        return httpx.Response(200, json=token)


def at(deps: Deps, platforms: Platforms) -> Deps:
    """The dependencies with these platform settings, at NOW."""
    return replace(deps, platforms=platforms, clock=lambda: NOW)


def tokens_for(deps: Deps, fake: FakeStripeTokens, conn: Connection) -> VaultTokens:
    platforms = Platforms(
        settings={"stripe": PlatformSettings(client_id="cid", client_secret="shh")},
        transport=httpx.MockTransport(fake),
    )
    return VaultTokens(at(deps, platforms), conn)


async def test_concurrent_refreshes_call_the_provider_once(store: Store, deps: Deps) -> None:
    conn = connection()
    almost_expired = {**SECRET, "expiresAt": (NOW + timedelta(minutes=2)).isoformat()}
    await save(store, conn, almost_expired)
    fake = FakeStripeTokens()

    results = await asyncio.gather(*(tokens_for(deps, fake, conn).token() for _ in range(4)))

    opened = await store.vault.open(account_id="acct-1", connection_id="conn-1")
    [stored] = await connections_by_id(store, ["conn-1"])
    assert fake.calls == 1
    assert set(results) == {"at-fresh-1"}
    assert opened["refreshToken"] == "rt-original-88d1"  # none came back: ours kept
    assert opened["expiresAt"] == (NOW + timedelta(hours=1)).isoformat()
    assert stored is not None
    assert stored.expires_at == NOW + timedelta(hours=1)


async def test_a_fresh_token_is_used_as_it_is(store: Store, deps: Deps) -> None:
    conn = connection()
    await save(store, conn, {**SECRET, "expiresAt": (NOW + timedelta(hours=1)).isoformat()})
    fake = FakeStripeTokens()

    token = await tokens_for(deps, fake, conn).token()

    assert token == "at-stale-7f3a9c"
    assert fake.calls == 0


async def test_a_rotated_refresh_token_replaces_ours(store: Store, deps: Deps) -> None:
    conn = connection()
    await save(store, conn, SECRET)
    fake = FakeStripeTokens(rotate=True)

    await tokens_for(deps, fake, conn).refresh()

    opened = await store.vault.open(account_id="acct-1", connection_id="conn-1")
    assert opened["refreshToken"] == "rt-rotated"


async def test_a_refused_refresh_expires_the_connection(store: Store, deps: Deps) -> None:
    conn = connection()
    await save(store, conn, SECRET)

    with pytest.raises(CredentialsRejected):
        await tokens_for(deps, FakeStripeTokens(refuse=True), conn).refresh()

    [stored] = await connections_by_id(store, ["conn-1"])
    assert stored is not None
    assert stored.status is ConnectionStatus.EXPIRED
    assert stored.last_error is not None
    assert "invalid_grant" in stored.last_error


class FakeOutage:
    async def __call__(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, json={"error": "temporarily_unavailable"})


async def test_a_provider_outage_does_not_expire_the_connection(store: Store, deps: Deps) -> None:
    conn = connection()
    await save(store, conn, SECRET)
    platforms = Platforms(
        settings={"stripe": PlatformSettings(client_id="cid", client_secret="shh")},
        transport=httpx.MockTransport(FakeOutage()),
    )
    tokens = VaultTokens(at(deps, platforms), conn)

    with pytest.raises(PlatformUnavailable):
        await tokens.refresh()

    [stored] = await connections_by_id(store, ["conn-1"])
    assert stored is not None
    assert stored.status is ConnectionStatus.ACTIVE


async def test_a_token_someone_else_already_replaced_is_not_refreshed_again(
    deps: Deps,
    store: Store,
) -> None:
    conn = connection()
    await save(store, conn, {**SECRET, "accessToken": "at-newer-by-another-worker"})
    fake = FakeStripeTokens()

    token = await tokens_for(deps, fake, conn).refresh("at-stale-7f3a9c")

    assert token == "at-newer-by-another-worker"
    assert fake.calls == 0


async def test_new_tokens_are_saved_only_by_the_lock_holder(store: Store) -> None:
    await save(store, connection(), SECRET)
    vault = store.vault
    assert await vault.lock("conn-1", owner="holder", now=NOW)

    with pytest.raises(SealedSecretError):
        await vault.replace(
            account_id="acct-1", connection_id="conn-1", secret={"a": 1}, owner="intruder"
        )
    await vault.replace(
        account_id="acct-1", connection_id="conn-1", secret={"a": 2}, owner="holder"
    )

    assert not await vault.lock("conn-1", owner="intruder", now=NOW)  # still held
    await vault.unlock("conn-1", owner="holder")
    assert await vault.lock("conn-1", owner="next", now=NOW)
    assert await vault.open(account_id="acct-1", connection_id="conn-1") == {"a": 2}
