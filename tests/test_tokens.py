"""Access tokens: every way a bearer token can be wrong is UNAUTHENTICATED, and never echoed.

The HTTP and WebSocket tests run against the live app and moto's Cognito. Tokens are minted
with moto's own signing key (the private half of the JWKS moto serves), so a self-minted
token is as good as one moto issued; the positive controls prove it, which makes every
negative case fail for the reason it names. The unit tests drive :class:`TokenVerifier`
against a fake JWKS endpoint with an injected clock.
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jose import jwk, jwt
from websockets.asyncio.client import ClientConnection, connect

from listbackup.auth import REFETCH_INTERVAL_SECONDS, TokenVerifier, issuer
from listbackup.config import Settings
from listbackup.errors import UnauthenticatedError
from tests.helpers import gql

VIEWER = "{ viewer { id email } }"
PASSWORD = "Passw0rd!x"
MOTO_KID = "dummy"

SIGN_UP = """
mutation ($email: String!, $password: String!, $name: String!) {
  signUp(input: {email: $email, password: $password, name: $name}) { userId }
}
"""
CONFIRM = 'mutation ($email: String!) { confirmSignUp(email: $email, code: "123456") }'
SIGN_IN = """
mutation ($email: String!, $password: String!) {
  signIn(email: $email, password: $password) {
    accessToken idToken refreshToken user { id }
  }
}
"""

Claims = dict[str, Any]


# --- keys and minting ------------------------------------------------------------------


def _moto_resource(name: str) -> Any:
    """A JSON resource of moto's Cognito, stored plain or gzipped depending on the version."""
    folder = resources.files("moto") / "cognitoidp" / "resources"
    plain, packed = folder / name, folder / f"{name}.gz"
    if packed.is_file():
        return json.loads(gzip.decompress(packed.read_bytes()))
    return json.loads(plain.read_text(encoding="utf-8"))


MOTO_PRIVATE_JWK: dict[str, Any] = _moto_resource("jwks-private.json")
MOTO_PUBLIC_JWK: dict[str, Any] = next(
    key for key in _moto_resource("jwks-public.json")["keys"] if key["kid"] == MOTO_KID
)


def new_rsa_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def public_jwk(private_pem: str, kid: str) -> dict[str, Any]:
    public: dict[str, Any] = jwk.construct(private_pem, "RS256").public_key().to_dict()
    return {**public, "kid": kid, "use": "sig"}


OTHER_PEM = new_rsa_pem()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_json(value: Any) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())


_SIGNERS: dict[str, Any] = {}


def _signer(key: Any) -> Any:
    """The key, parsed once: loading an RSA key checks it, about 50 ms each time."""
    cache_key = key if isinstance(key, str) else json.dumps(key, sort_keys=True)
    if cache_key not in _SIGNERS:
        _SIGNERS[cache_key] = jwk.construct(key, "RS256")
    return _SIGNERS[cache_key]


def sign(claims: Claims, key: Any = None, *, kid: str = MOTO_KID) -> str:
    """RS256 with moto's signing key unless another is given."""
    token: str = jwt.encode(
        claims, _signer(key or MOTO_PRIVATE_JWK), algorithm="RS256", headers={"kid": kid}
    )
    return token


def unsigned(claims: Claims) -> str:
    return f"{b64url_json({'alg': 'none', 'kid': MOTO_KID})}.{b64url_json(claims)}."


def hs256(claims: Claims, secret: bytes) -> str:
    """HS256 by hand: jose rightly refuses to use public-key material as an HMAC secret."""
    signing_input = f"{b64url_json({'alg': 'HS256', 'kid': MOTO_KID})}.{b64url_json(claims)}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(mac)}"


def moto_public_pem() -> bytes:
    pem: bytes = jwk.construct(MOTO_PUBLIC_JWK, "RS256").to_pem()
    return pem


def access_claims(settings: Settings, sub: str | None, **changes: Any) -> Claims:
    """What a Cognito access token for ``sub`` carries; ``None`` in changes drops a claim."""
    now = int(time.time())
    claims: Claims = {
        "iss": issuer(settings.region, settings.cognito_user_pool_id or ""),
        "client_id": settings.cognito_client_id,
        "token_use": "access",
        "sub": sub,
        "iat": now,
        "auth_time": now,
        "exp": now + 3600,
        "jti": str(uuid.uuid4()),
        "username": sub,
    }
    claims.update(changes)
    return {name: value for name, value in claims.items() if value is not None}


def with_payload(token: str, claims: Claims) -> str:
    """``token`` with its payload segment replaced, header and signature kept."""
    header, _, signature = token.split(".")
    return f"{header}.{b64url_json(claims)}.{signature}"


# --- calling the API -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SignedIn:
    email: str
    user_id: str
    sub: str
    access_token: str
    id_token: str


async def create_user(client: httpx.AsyncClient, name: str = "Ada") -> SignedIn:
    email = f"{name.lower()}-{uuid.uuid4().hex[:8]}@example.com"
    credentials = {"email": email, "password": PASSWORD}
    signed_up = await gql(client, SIGN_UP, {**credentials, "name": name})
    assert "errors" not in signed_up, signed_up
    confirmed = await gql(client, CONFIRM, {"email": email})
    assert confirmed == {"data": {"confirmSignUp": True}}, confirmed
    body = await gql(client, SIGN_IN, credentials)
    assert "errors" not in body, body
    session = body["data"]["signIn"]
    return SignedIn(
        email=email,
        user_id=session["user"]["id"],
        sub=str(jwt.get_unverified_claims(session["accessToken"])["sub"]),
        access_token=session["accessToken"],
        id_token=session["idToken"],
    )


async def ask_viewer(client: httpx.AsyncClient, authorization: str | None) -> httpx.Response:
    headers = {"Authorization": authorization} if authorization is not None else {}
    return await client.post("/graphql", json={"query": VIEWER}, headers=headers)


async def ask_viewer_raw(app_url: str, authorization: str | None) -> httpx.Response:
    """POST the viewer query over a bare socket, the Authorization value sent byte for byte.

    httpx refuses header values with surrounding blanks; a real client may still send them.
    """
    url = httpx.URL(app_url)
    body = json.dumps({"query": VIEWER}).encode()
    lines = [
        "POST /graphql HTTP/1.1",
        f"Host: {url.host}:{url.port}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        "Connection: close",
    ]
    if authorization is not None:
        lines.append(f"Authorization: {authorization}")
    reader, writer = await asyncio.open_connection(url.host, url.port)
    try:
        writer.write("\r\n".join([*lines, "", ""]).encode("latin-1") + body)
        await writer.drain()
        raw = await reader.read()  # to EOF: the server closes after answering
    finally:
        writer.close()
        await writer.wait_closed()
    head, _, content = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = [(name, value) for name, _, value in (h.partition(": ") for h in header_lines)]
    assert all(name.lower() != "transfer-encoding" for name, _ in headers), head
    return httpx.Response(int(status_line.split()[1]), headers=headers, content=content)


def assert_unauthenticated(response: httpx.Response, secret: str | None) -> None:
    assert response.headers["content-type"].startswith("application/json"), response.text
    body = response.json()
    assert body["data"] is None, body
    assert len(body["errors"]) == 1, body
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", body
    if secret:
        assert secret not in response.text
        for segment in secret.split("."):
            if len(segment) >= 16:
                assert segment not in response.text


@pytest.fixture
async def user(client: httpx.AsyncClient) -> SignedIn:
    return await create_user(client)


# --- HTTP: headers ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("authorization", "secret"),
    [
        pytest.param(None, None, id="no-header"),
        pytest.param("Token abc", "abc", id="other-scheme"),
        pytest.param("Bearer", None, id="scheme-only"),
        pytest.param("Bearer  ", None, id="scheme-and-blanks"),
        pytest.param("bearer.only", "bearer.only", id="no-space"),
        pytest.param("Bearer " + "x" * 10_000, "x" * 10_000, id="10000-characters"),
        pytest.param("Bearer not.a.jwt", "not.a.jwt", id="not-a-jwt"),
    ],
)
async def test_missing_or_malformed_authorization_is_unauthenticated(
    app_url: str, authorization: str | None, secret: str | None
) -> None:
    response = await ask_viewer_raw(app_url, authorization)

    assert_unauthenticated(response, secret)


# --- HTTP: forged, mis-addressed and stale tokens --------------------------------------

TokenFactory = Callable[[Settings, SignedIn], str]


def _expired(settings: Settings, user: SignedIn) -> str:
    now = int(time.time())
    return sign(access_claims(settings, user.sub, iat=now - 7200, exp=now - 3600))


def _other_key_same_kid(settings: Settings, user: SignedIn) -> str:
    return sign(access_claims(settings, user.sub), OTHER_PEM)


def _alg_none(settings: Settings, user: SignedIn) -> str:
    return unsigned(access_claims(settings, user.sub))


def _hs256_public_pem(settings: Settings, user: SignedIn) -> str:
    return hs256(access_claims(settings, user.sub), moto_public_pem())


def _hs256_public_jwk_json(settings: Settings, user: SignedIn) -> str:
    return hs256(access_claims(settings, user.sub), json.dumps(MOTO_PUBLIC_JWK).encode())


def _unknown_kid(settings: Settings, user: SignedIn) -> str:
    return sign(access_claims(settings, user.sub), OTHER_PEM, kid="other")


def _other_pool(settings: Settings, user: SignedIn) -> str:
    other = issuer(settings.region, f"{settings.region}_NotOurPool")
    return sign(access_claims(settings, user.sub, iss=other))


def _other_region(settings: Settings, user: SignedIn) -> str:
    other = issuer("eu-west-1", settings.cognito_user_pool_id or "")
    return sign(access_claims(settings, user.sub, iss=other))


def _no_issuer(settings: Settings, user: SignedIn) -> str:
    return sign(access_claims(settings, user.sub, iss=None))


def _other_client(settings: Settings, user: SignedIn) -> str:
    return sign(access_claims(settings, user.sub, client_id="someoneelsesclient"))


def _no_client(settings: Settings, user: SignedIn) -> str:
    return sign(access_claims(settings, user.sub, client_id=None))


def _real_id_token(settings: Settings, user: SignedIn) -> str:
    claims = jwt.get_unverified_claims(user.id_token)
    assert claims["token_use"] == "id"
    assert claims["aud"] == settings.cognito_client_id
    return user.id_token


def _id_token_use_with_client_id(settings: Settings, user: SignedIn) -> str:
    return sign(access_claims(settings, user.sub, token_use="id"))


def _no_expiry(settings: Settings, user: SignedIn) -> str:
    return sign(access_claims(settings, user.sub, exp=None))


def _no_subject(settings: Settings, user: SignedIn) -> str:
    return sign(access_claims(settings, None))


def _no_user_row(settings: Settings, user: SignedIn) -> str:
    return sign(access_claims(settings, str(uuid.uuid4())))


@pytest.mark.parametrize(
    "make_token",
    [
        pytest.param(_expired, id="expired"),
        pytest.param(_other_key_same_kid, id="other-rsa-key-same-kid"),
        pytest.param(_alg_none, id="alg-none"),
        pytest.param(_hs256_public_pem, id="hs256-with-public-pem"),
        pytest.param(_hs256_public_jwk_json, id="hs256-with-public-jwk-json"),
        pytest.param(_unknown_kid, id="unknown-kid"),
        pytest.param(_other_pool, id="issuer-other-pool"),
        pytest.param(_other_region, id="issuer-other-region"),
        pytest.param(_no_issuer, id="issuer-missing"),
        pytest.param(_other_client, id="client-id-other"),
        pytest.param(_no_client, id="client-id-missing"),
        pytest.param(_real_id_token, id="real-id-token"),
        pytest.param(_id_token_use_with_client_id, id="token-use-id"),
        pytest.param(_no_expiry, id="exp-missing"),
        pytest.param(_no_subject, id="sub-missing"),
        pytest.param(_no_user_row, id="no-user-row"),
    ],
)
async def test_invalid_token_is_unauthenticated(
    client: httpx.AsyncClient, settings: Settings, user: SignedIn, make_token: TokenFactory
) -> None:
    token = make_token(settings, user)

    response = await ask_viewer(client, f"Bearer {token}")

    assert_unauthenticated(response, token)
    assert user.email not in response.text


async def test_tampered_payload_is_unauthenticated(
    client: httpx.AsyncClient, user: SignedIn
) -> None:
    victim = await create_user(client, "Bob")
    claims = jwt.get_unverified_claims(user.access_token)
    tampered = with_payload(user.access_token, {**claims, "sub": victim.sub})
    assert tampered != user.access_token

    response = await ask_viewer(client, f"Bearer {tampered}")

    assert_unauthenticated(response, tampered)
    assert victim.email not in response.text
    # The untampered token still works: only the edit broke it.
    body = await gql(client, VIEWER, token=user.access_token)
    assert body == {"data": {"viewer": {"id": user.user_id, "email": user.email}}}


# --- HTTP: positive controls -----------------------------------------------------------


async def test_access_token_from_sign_in_is_accepted(
    client: httpx.AsyncClient, user: SignedIn
) -> None:
    body = await gql(client, "{ viewer { email } }", token=user.access_token)

    assert body == {"data": {"viewer": {"email": user.email}}}


async def test_self_minted_token_for_a_real_user_is_accepted(
    client: httpx.AsyncClient, settings: Settings, user: SignedIn
) -> None:
    token = sign(access_claims(settings, user.sub))

    body = await gql(client, VIEWER, token=token)

    assert body == {"data": {"viewer": {"id": user.user_id, "email": user.email}}}


@pytest.mark.parametrize("scheme", ["Bearer", "bearer"])
async def test_bearer_scheme_is_case_insensitive(
    client: httpx.AsyncClient, user: SignedIn, scheme: str
) -> None:
    response = await ask_viewer(client, f"{scheme} {user.access_token}")

    assert response.json() == {"data": {"viewer": {"id": user.user_id, "email": user.email}}}


# --- WebSocket -------------------------------------------------------------------------


async def ws_viewer(app_url: str, authorization: str) -> dict[str, Any]:
    """connection_init with ``authorization``, then ``viewer``: return the `next` message."""
    url = app_url.replace("http://", "ws://") + "/graphql"
    async with connect(url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        await _send(ws, {"type": "connection_init", "payload": {"authorization": authorization}})
        assert await _receive(ws) == {"type": "connection_ack"}
        query = {"query": "{ viewer { email } }"}
        await _send(ws, {"id": "1", "type": "subscribe", "payload": query})
        message = await _receive(ws)
        assert await _receive(ws) == {"id": "1", "type": "complete"}
    return message


async def _send(ws: ClientConnection, message: dict[str, Any]) -> None:
    await ws.send(json.dumps(message))


async def _receive(ws: ClientConnection) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await ws.recv(decode=True))
    return message


async def test_websocket_connection_init_token_is_accepted(app_url: str, user: SignedIn) -> None:
    message = await ws_viewer(app_url, f"Bearer {user.access_token}")

    assert message == {
        "id": "1",
        "type": "next",
        "payload": {"data": {"viewer": {"email": user.email}}},
    }


async def test_websocket_forged_token_is_unauthenticated(
    app_url: str, settings: Settings, user: SignedIn
) -> None:
    forged = sign(access_claims(settings, user.sub), OTHER_PEM)

    message = await ws_viewer(app_url, f"Bearer {forged}")

    assert message["type"] == "next"
    payload = message["payload"]
    assert payload["data"] is None
    assert [error["extensions"]["code"] for error in payload["errors"]] == ["UNAUTHENTICATED"]
    assert forged not in json.dumps(message)
    assert user.email not in json.dumps(message)


# --- TokenVerifier against a fake JWKS endpoint ----------------------------------------

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Fake"
CLIENT_ID = "fakeclientid"
JWKS_URL = f"{ISSUER}/.well-known/jwks.json"
KEY_A = new_rsa_pem()
KEY_B = new_rsa_pem()


@dataclass
class Clock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class FakeJwks:
    """Cognito's JWKS endpoint: counts requests; ``respond`` decides each answer."""

    keys: list[dict[str, Any]] = field(default_factory=lambda: [public_jwk(KEY_A, "a")])
    requests: int = 0
    respond: Callable[[], httpx.Response] | None = None
    #: Answer only after the event loop has run everything else that is ready, so
    #: concurrent verifications reach the key lookup while this request is in flight.
    slow: bool = False

    async def handle(self, request: httpx.Request) -> httpx.Response:
        assert str(request.url) == JWKS_URL
        self.requests += 1
        if self.slow:
            answered = asyncio.Event()
            asyncio.get_running_loop().call_soon(answered.set)
            await answered.wait()
        if self.respond is not None:
            return self.respond()
        return httpx.Response(200, json={"keys": self.keys})


def token_for(key: str, kid: str, sub: str = "user-1", **changes: Any) -> str:
    now = int(time.time())
    claims: Claims = {
        "iss": ISSUER,
        "client_id": CLIENT_ID,
        "token_use": "access",
        "sub": sub,
        "iat": now,
        "exp": now + 3600,
        "jti": str(uuid.uuid4()),
        "username": sub,
        **changes,
    }
    return sign(claims, key, kid=kid)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def jwks() -> FakeJwks:
    return FakeJwks()


@pytest.fixture
async def verifier(jwks: FakeJwks, clock: Clock) -> AsyncIterator[TokenVerifier]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(jwks.handle)) as http:
        yield TokenVerifier(
            http=http, issuer=ISSUER, client_id=CLIENT_ID, jwks_url=JWKS_URL, monotonic=clock
        )


async def assert_rejected(verifier: TokenVerifier, token: str) -> None:
    with pytest.raises(UnauthenticatedError) as raised:
        await verifier.verify(token)
    if token:
        assert token not in str(raised.value)


async def test_verifier_fetches_keys_once_and_caches_them(
    verifier: TokenVerifier, jwks: FakeJwks, clock: Clock
) -> None:
    for n in range(25):
        clock.now += 100  # the cache of known keys does not expire
        claims = await verifier.verify(token_for(KEY_A, "a", sub=f"user-{n}"))
        assert claims.subject == f"user-{n}"

    assert jwks.requests == 1


async def test_concurrent_first_verifications_share_one_fetch(
    verifier: TokenVerifier, jwks: FakeJwks
) -> None:
    jwks.slow = True
    tokens = [token_for(KEY_A, "a", sub=f"user-{n}") for n in range(10)]

    results = await asyncio.gather(*(verifier.verify(token) for token in tokens))

    assert [claims.subject for claims in results] == [f"user-{n}" for n in range(10)]
    assert jwks.requests == 1


async def test_unknown_kid_refetches_at_most_once_per_window(
    verifier: TokenVerifier, jwks: FakeJwks, clock: Clock
) -> None:
    await verifier.verify(token_for(KEY_A, "a"))
    assert jwks.requests == 1
    forged = token_for(KEY_B, "nope")

    for _ in range(5):  # within the window of the first fetch: no request at all
        await assert_rejected(verifier, forged)
    clock.now += REFETCH_INTERVAL_SECONDS - 0.5
    await assert_rejected(verifier, forged)
    assert jwks.requests == 1

    clock.now += 0.5  # the window has passed: one re-fetch, then quiet again
    for _ in range(5):
        await assert_rejected(verifier, forged)
    assert jwks.requests == 2
    clock.now += REFETCH_INTERVAL_SECONDS - 0.1
    await assert_rejected(verifier, forged)
    assert jwks.requests == 2

    clock.now += 0.1
    await assert_rejected(verifier, forged)
    assert jwks.requests == 3
    # Known keys keep working throughout, without requests of their own.
    assert (await verifier.verify(token_for(KEY_A, "a"))).subject == "user-1"
    assert jwks.requests == 3


async def test_concurrent_unknown_kids_make_one_fetch(
    verifier: TokenVerifier, jwks: FakeJwks
) -> None:
    jwks.slow = True
    forged = [token_for(KEY_B, f"kid-{n}") for n in range(20)]

    results = await asyncio.gather(
        *(verifier.verify(token) for token in forged), return_exceptions=True
    )

    assert all(isinstance(result, UnauthenticatedError) for result in results), results
    assert jwks.requests == 1


async def test_rotated_key_is_picked_up_after_the_window(
    verifier: TokenVerifier, jwks: FakeJwks, clock: Clock
) -> None:
    assert (await verifier.verify(token_for(KEY_A, "a"))).subject == "user-1"
    jwks.keys = [public_jwk(KEY_A, "a"), public_jwk(KEY_B, "b")]  # Cognito rotates
    rotated = token_for(KEY_B, "b", sub="user-2")

    clock.now += 3
    await assert_rejected(verifier, rotated)  # too soon after the last fetch
    assert jwks.requests == 1

    clock.now += REFETCH_INTERVAL_SECONDS
    assert (await verifier.verify(rotated)).subject == "user-2"
    assert (await verifier.verify(token_for(KEY_A, "a"))).subject == "user-1"
    assert jwks.requests == 2


async def test_key_dropped_from_the_jwks_stops_working_after_a_refetch(
    verifier: TokenVerifier, jwks: FakeJwks, clock: Clock
) -> None:
    old = token_for(KEY_A, "a")
    assert (await verifier.verify(old)).subject == "user-1"
    jwks.keys = [public_jwk(KEY_B, "b")]

    clock.now += REFETCH_INTERVAL_SECONDS
    assert (await verifier.verify(token_for(KEY_B, "b"))).subject == "user-1"

    await assert_rejected(verifier, old)
    assert jwks.requests == 2


async def test_each_key_is_built_once_and_rebuilt_when_the_jwks_changes_it(
    verifier: TokenVerifier, jwks: FakeJwks, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[str] = []
    construct = jwk.construct

    def counting(key: Any, algorithm: str) -> Any:
        if isinstance(key, dict):  # a JWK from the JWKS (signing in the test passes PEM)
            built.append(key["kid"])
        return construct(key, algorithm)

    monkeypatch.setattr("listbackup.auth.jwk.construct", counting)
    for n in range(5):
        assert (await verifier.verify(token_for(KEY_A, "a", sub=f"user-{n}"))).subject
    assert built == ["a"]

    # The same kid now names another key: a refetch (for kid b) replaces it.
    jwks.keys = [public_jwk(KEY_B, "a"), public_jwk(KEY_B, "b")]
    clock.now += REFETCH_INTERVAL_SECONDS
    assert (await verifier.verify(token_for(KEY_B, "b"))).subject == "user-1"
    await assert_rejected(verifier, token_for(KEY_A, "a"))
    assert (await verifier.verify(token_for(KEY_B, "a"))).subject == "user-1"
    assert built == ["a", "b", "a"]


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("", id="empty"),
        pytest.param("not.a.jwt", id="not-a-jwt"),
        pytest.param("a" * 9000, id="too-long"),
        pytest.param(unsigned({"sub": "user-1"}), id="alg-none"),
        pytest.param(hs256({"sub": "user-1"}, b"secret"), id="hs256"),
    ],
)
async def test_tokens_rejected_before_any_key_lookup_cost_no_request(
    verifier: TokenVerifier, jwks: FakeJwks, token: str
) -> None:
    await assert_rejected(verifier, token)

    assert jwks.requests == 0


def _raise_connect_error() -> httpx.Response:
    raise httpx.ConnectError("connection refused")


def _raise_timeout() -> httpx.Response:
    raise httpx.ReadTimeout("timed out")


def _json_body(value: Any) -> Callable[[], httpx.Response]:
    return lambda: httpx.Response(200, json=value)


@pytest.mark.parametrize(
    "respond",
    [
        pytest.param(lambda: httpx.Response(500, text="oops"), id="500"),
        pytest.param(lambda: httpx.Response(503, json={"keys": []}), id="503"),
        pytest.param(lambda: httpx.Response(404, text="not found"), id="404"),
        pytest.param(lambda: httpx.Response(200, text="<html>nope"), id="invalid-json"),
        pytest.param(lambda: httpx.Response(200, content=b""), id="empty-body"),
        pytest.param(_raise_connect_error, id="connection-error"),
        pytest.param(_raise_timeout, id="timeout"),
        pytest.param(_json_body({}), id="no-keys-member"),
        pytest.param(_json_body([]), id="json-array"),
        pytest.param(_json_body("keys"), id="json-string"),
        pytest.param(_json_body({"keys": None}), id="keys-null"),
        pytest.param(_json_body({"keys": []}), id="keys-empty"),
        pytest.param(_json_body({"keys": [{"kid": "a", "kty": "EC"}]}), id="kid-not-rsa"),
    ],
)
async def test_jwks_endpoint_failure_is_unauthenticated(
    verifier: TokenVerifier, jwks: FakeJwks, respond: Callable[[], httpx.Response]
) -> None:
    jwks.respond = respond

    await assert_rejected(verifier, token_for(KEY_A, "a"))

    assert jwks.requests == 1


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"keys": [1]}, id="keys-of-numbers"),
        pytest.param({"keys": "abc"}, id="keys-a-string"),
        pytest.param({"keys": {"a": {}}}, id="keys-an-object"),
    ],
)
async def test_jwks_with_malformed_keys_list_is_unauthenticated(
    verifier: TokenVerifier, jwks: FakeJwks, body: Any
) -> None:
    jwks.respond = _json_body(body)

    await assert_rejected(verifier, token_for(KEY_A, "a"))


@pytest.mark.parametrize(
    "key",
    [
        pytest.param({"kid": "a", "kty": "RSA", "alg": "RS256"}, id="no-n-or-e"),
        pytest.param({"kid": "a", "kty": "RSA", "n": "!!", "e": "AQAB"}, id="corrupt-n"),
    ],
)
async def test_jwks_with_corrupt_rsa_key_is_unauthenticated(
    verifier: TokenVerifier, jwks: FakeJwks, key: dict[str, Any]
) -> None:
    jwks.keys = [key]

    await assert_rejected(verifier, token_for(KEY_A, "a"))


async def test_verifier_recovers_once_the_jwks_endpoint_is_back(
    verifier: TokenVerifier, jwks: FakeJwks, clock: Clock
) -> None:
    jwks.respond = lambda: httpx.Response(500)
    token = token_for(KEY_A, "a")
    await assert_rejected(verifier, token)

    jwks.respond = None
    clock.now += REFETCH_INTERVAL_SECONDS / 2
    await assert_rejected(verifier, token)  # no hammering a failing endpoint
    assert jwks.requests == 1

    clock.now += REFETCH_INTERVAL_SECONDS / 2
    assert (await verifier.verify(token)).subject == "user-1"
    assert jwks.requests == 2


async def test_verifier_keeps_known_keys_when_a_refetch_fails(
    verifier: TokenVerifier, jwks: FakeJwks, clock: Clock
) -> None:
    good = token_for(KEY_A, "a")
    assert (await verifier.verify(good)).subject == "user-1"
    jwks.respond = _raise_connect_error

    clock.now += REFETCH_INTERVAL_SECONDS
    await assert_rejected(verifier, token_for(KEY_B, "b"))  # triggers the failing refetch

    assert jwks.requests == 2
    assert (await verifier.verify(good)).subject == "user-1"
