"""OAuth connections over HTTP, end to end, as a browser drives them.

``startOAuthConnection`` gives the provider's authorization URL; a fake provider "consents"
by issuing a code bound to the URL's PKCE challenge and redirect URI; the browser comes back
to ``GET /oauth/callback/<slug>`` (redirects not followed), which hands state and code to the
web app; the app calls ``completeOAuthConnection`` with its user's token, and the server
exchanges the code at the fake's token endpoint, which checks the grant type, the code, the
redirect URI, the client credentials and the PKCE verifier. Each test runs its own app,
configured for the fake (client ids and secrets in the environment, the fake as the platform
transport) and with a clock it can move. Then: tenant isolation of the connection queries
and mutations.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from listbackup import ids, integrations
from listbackup.aws import AwsClients
from listbackup.config import Settings
from listbackup.devstack import live_server
from listbackup.server import create_app
from tests.helpers import Tenant, error_codes, tenant

PUBLIC_URL = "https://api.listbackup.test"
APP_URL = "https://app.listbackup.test"
#: Our OAuth app at each fake provider: client id and secret.
CLIENTS = {
    "dropbox": ("dbx-client-id", "dbx-client-secret-0123456789"),
    "stripe": ("ca_stripe_client", "sk_stripe_client_secret_0123456789"),
    "shopify": ("shopify-client-id", "shopify-client-secret-0123456789"),
    "mailchimp": ("mailchimp-client-id", "mailchimp-client-secret-0123456789"),
}
#: An OAuth platform this server has no client id for.
UNCONFIGURED = "hubspot"
#: Token endpoints of the fake, by (host, path).
TOKEN_ENDPOINTS = {
    ("api.dropboxapi.com", "/oauth2/token"): "dropbox",
    ("connect.stripe.com", "/oauth/token"): "stripe",
    ("login.mailchimp.com", "/oauth2/token"): "mailchimp",
}
DROPBOX_ACCOUNT = "Ada's Dropbox"
STRIPE_ACCOUNT = "Ada's Shop"
MAILCHIMP_ACCOUNT = "Ada's Audience"

PLATFORM = "query($slug: String!) { platform(slug: $slug) { id } }"
START = """
mutation($input: StartOAuthInput!) {
  startOAuthConnection(input: $input) { authorizationUrl state }
}
"""
COMPLETE = """
mutation($state: String!, $code: String!) {
  completeOAuthConnection(state: $state, code: $code) { id status authType platform { slug } }
}
"""
CONNECTION_FIELDS = """
  id name status authType externalAccount expiresAt lastTestedAt lastError createdAt
  platform { slug } account { id }
"""
CONNECTION = f"query($id: ID!) {{ connection(id: $id) {{ {CONNECTION_FIELDS} }} }}"
NODE = "query($id: ID!) { node(id: $id) { id ... on PlatformConnection { status } } }"
LIST = f"""
query($id: ID!) {{
  account(id: $id) {{ connections {{ nodes {{ {CONNECTION_FIELDS} }} }} }}
}}
"""
TEST = "mutation($id: ID!) { testConnection(id: $id) { ok message connection { id status } } }"
RECONNECT = "mutation($id: ID!) { reconnect(id: $id) { authorizationUrl state } }"
UPDATE = 'mutation($id: ID!) { updateConnection(id: $id, input: {name: "Pwned"}) { id name } }'
DELETE = "mutation($id: ID!) { deleteConnection(id: $id) }"


def s256(verifier: str) -> str:
    """RFC 7636's S256 code challenge of a verifier."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def query_of(url: str) -> dict[str, str]:
    """The URL's query parameters, each given exactly once."""
    parsed = parse_qs(urlsplit(url).query, keep_blank_values=True)
    assert all(len(values) == 1 for values in parsed.values()), url
    return {name: values[0] for name, values in parsed.items()}


def scopes_of(slug: str) -> tuple[str, ...]:
    spec = integrations.REGISTRY[slug].oauth
    assert spec is not None
    return spec.scopes


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value)


@dataclass
class Clock:
    """The app's clock: starts now, on a whole second, and moves only when told."""

    now: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: int) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass(frozen=True, slots=True)
class Grant:
    """What the provider remembers of one consent: a code is good for this, once."""

    platform: str
    client_id: str
    redirect_uri: str
    challenge: str | None


@dataclass
class FakeProvider:
    """Dropbox's and Stripe's authorization servers and the one API call each connector
    makes to name the account; everything else answers 404."""

    #: Lifetime of the access tokens it issues.
    expires_in: int = 14_400
    #: Whether the connectors' check call is answered (else 404: the name is best effort).
    answers_check: bool = True
    #: Whether the token endpoint can be reached at all.
    down: bool = False
    grants: dict[str, Grant] = field(default_factory=dict)
    #: Every form posted to a token endpoint.
    token_requests: list[dict[str, str]] = field(default_factory=list)
    #: Why each refused token request was refused.
    refusals: list[str] = field(default_factory=list)
    #: Every secret it handed out: access and refresh tokens.
    issued: list[str] = field(default_factory=list)
    access_tokens: set[str] = field(default_factory=set)
    #: The bearer tokens of the API calls it answered.
    api_calls: list[str] = field(default_factory=list)
    #: The server prefix Mailchimp's metadata endpoint tells (its accounts live on usN).
    mailchimp_dc: str = "us6"

    def authorize(self, authorization_url: str, *, platform: str = "dropbox") -> str:
        """The user consents: a one-time code bound to the URL's client, redirect URI and
        PKCE challenge."""
        params = query_of(authorization_url)
        code = secrets.token_urlsafe(24)
        self.grants[code] = Grant(
            platform=platform,
            client_id=params["client_id"],
            redirect_uri=params["redirect_uri"],
            challenge=params.get("code_challenge"),
        )
        return code

    def __call__(self, request: httpx.Request) -> httpx.Response:
        platform = TOKEN_ENDPOINTS.get((request.url.host, request.url.path))
        if platform is not None:
            if self.down:
                raise httpx.ConnectError("connection refused", request=request)
            return self._token(request, platform)
        route = (request.method, request.url.host, request.url.path)
        if route == ("GET", "login.mailchimp.com", "/oauth2/metadata"):
            return self._mailchimp_metadata(request)
        account = self._accounts().get(route)
        if account is None:
            return httpx.Response(404, json={"error": "not_found"})
        return self._api(request, account)

    def _accounts(self) -> dict[tuple[str, str, str], dict[str, Any]]:
        """The call each connector makes to name the account, and its answer."""
        return {
            ("POST", "api.dropboxapi.com", "/2/users/get_current_account"): {
                "name": {"display_name": DROPBOX_ACCOUNT}
            },
            ("GET", "api.stripe.com", "/v1/account"): {
                "id": "acct_1",
                "business_profile": {"name": STRIPE_ACCOUNT},
            },
            ("GET", f"{self.mailchimp_dc}.api.mailchimp.com", "/3.0/"): {
                "account_id": "a1",
                "account_name": MAILCHIMP_ACCOUNT,
            },
        }

    def _mailchimp_metadata(self, request: httpx.Request) -> httpx.Response:
        """https://mailchimp.com/developer/marketing/guides/access-user-data-oauth-2/"""
        token = request.headers.get("authorization", "").removeprefix("OAuth ")
        if token not in self.access_tokens:
            return httpx.Response(401, json={"error": "invalid_token"})
        dc = self.mailchimp_dc
        return httpx.Response(
            200,
            json={
                "dc": dc,
                "role": "owner",
                "accountname": MAILCHIMP_ACCOUNT,
                "api_endpoint": f"https://{dc}.api.mailchimp.com",
            },
        )

    def _api(self, request: httpx.Request, body: dict[str, Any]) -> httpx.Response:
        bearer = request.headers.get("authorization", "").removeprefix("Bearer ")
        if bearer not in self.access_tokens:
            return httpx.Response(401, json={"error": "invalid_access_token"})
        self.api_calls.append(bearer)
        if not self.answers_check:
            return httpx.Response(404, json={"error": "not_found"})
        return httpx.Response(200, json=body)

    def _token(self, request: httpx.Request, platform: str) -> httpx.Response:
        assert request.headers["content-type"] == "application/x-www-form-urlencoded"
        form = query_of("?" + request.content.decode())
        self.token_requests.append(form)
        problem = self._refusal(form, platform)
        if problem:
            self.refusals.append(problem)
            return httpx.Response(400, json={"error": "invalid_grant"})
        access, refresh = f"at-{secrets.token_hex(16)}", f"rt-{secrets.token_hex(16)}"
        self.issued += [access, refresh]
        self.access_tokens.add(access)
        token: dict[str, Any] = {
            "access_token": access,
            "refresh_token": refresh,
            "token_type": "bearer",
        }
        if platform == "stripe":  # Stripe Connect's tokens do not expire
            token |= {"stripe_user_id": "acct_1", "scope": "read_only", "livemode": False}
        elif platform == "mailchimp":  # nor do Mailchimp's, which have no refresh token
            del token["refresh_token"]
            token |= {"expires_in": 0, "scope": None}
        else:
            token |= {"expires_in": self.expires_in, "account_id": "dbid:ada"}
        return httpx.Response(200, json=token)

    def _refusal(self, form: dict[str, str], platform: str) -> str | None:
        """The first thing wrong with a token request, if any."""
        client_id, client_secret = CLIENTS[platform]
        grant = self.grants.pop(form.get("code", ""), None)  # a code is spent by any use
        if grant is None or grant.platform != platform:
            return "code"
        verifier = form.get("code_verifier")
        if grant.challenge is None:
            pkce_ok = verifier is None
        else:
            pkce_ok = verifier is not None and s256(verifier) == grant.challenge
        checks = {
            "grant_type": form.get("grant_type") == "authorization_code",
            "redirect_uri": form.get("redirect_uri") == grant.redirect_uri,
            "client_id": grant.client_id == client_id == form.get("client_id"),
            "client_secret": form.get("client_secret") == client_secret,
            "code_verifier": pkce_ok,
        }
        return next((name for name, ok in checks.items() if not ok), None)


@dataclass
class OAuthApp:
    """An app wired to the fake provider, and a browser-like client of it."""

    http: httpx.AsyncClient
    clock: Clock
    provider: FakeProvider
    #: Every response the app sent this client: bodies and Location headers.
    seen: list[str]

    async def tenant(self, email: str) -> Tenant:
        return await tenant(self.http, email)

    async def start(self, user: Tenant, slug: str = "dropbox", **extra: Any) -> dict[str, Any]:
        found = await user.call(PLATFORM, slug=slug)
        platform_id = found["data"]["platform"]["id"]
        return await user.call(
            START, input={"accountId": user.root, "platformId": platform_id, **extra}
        )

    async def started(self, user: Tenant, slug: str = "dropbox", **extra: Any) -> tuple[str, str]:
        """(authorization URL, state) of a flow that must start."""
        body = await self.start(user, slug, **extra)
        assert "errors" not in body, body
        started = body["data"]["startOAuthConnection"]
        return started["authorizationUrl"], started["state"]

    async def callback(self, slug: str = "dropbox", **params: str) -> dict[str, str]:
        """The browser's return from the provider: the app's redirect, as query parameters."""
        response = await self.http.get(f"/oauth/callback/{slug}", params=params)
        assert response.status_code == 302, (response.status_code, response.text)
        target, _, query = response.headers["location"].partition("?")
        assert target == f"{APP_URL}/oauth/callback"
        return query_of("?" + query)

    async def returned(self, slug: str, *, code: str, state: str) -> None:
        """The provider's return, handed to the app unchanged for it to complete."""
        back = await self.callback(slug, code=code, state=state)
        assert back == {"platform": slug, "state": state, "code": code}, back

    async def complete(self, user: Tenant, *, state: str, code: str) -> str:
        """The app completes a flow under its user's token; the connection's id."""
        body = await user.call(COMPLETE, state=state, code=code)
        assert "errors" not in body, body
        connection_id: str = body["data"]["completeOAuthConnection"]["id"]
        return connection_id

    async def connect(self, user: Tenant, slug: str = "dropbox", **extra: Any) -> str:
        """A whole successful flow, as a browser and the app drive it; the connection's id."""
        url, state = await self.started(user, slug, **extra)
        code = self.provider.authorize(url, platform=slug)
        await self.returned(slug, code=code, state=state)
        return await self.complete(user, state=state, code=code)

    async def connection(self, user: Tenant, connection_id: str) -> dict[str, Any]:
        body = await user.call(CONNECTION, id=connection_id)
        assert "errors" not in body, body
        found: dict[str, Any] = body["data"]["connection"]
        return found

    async def listed(self, user: Tenant) -> list[dict[str, Any]]:
        body = await user.call(LIST, id=user.root)
        assert "errors" not in body, body
        nodes: list[dict[str, Any]] = body["data"]["account"]["connections"]["nodes"]
        return nodes


@pytest.fixture
async def oauth_app(
    settings: Settings, aws: AwsClients, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[OAuthApp]:
    for slug, (client_id, client_secret) in CLIENTS.items():
        monkeypatch.setenv(f"LISTBACKUP_PLATFORM_{slug.upper()}_CLIENT_ID", client_id)
        monkeypatch.setenv(f"LISTBACKUP_PLATFORM_{slug.upper()}_CLIENT_SECRET", client_secret)
    monkeypatch.delenv(f"LISTBACKUP_PLATFORM_{UNCONFIGURED.upper()}_CLIENT_ID", raising=False)
    clock, provider, seen = Clock(), FakeProvider(), list[str]()

    async def record(response: httpx.Response) -> None:
        await response.aread()
        seen.append(response.headers.get("location", "") + "\n" + response.text)

    app = create_app(
        settings.model_copy(update={"public_url": PUBLIC_URL, "app_url": APP_URL}),
        clock=clock,
        platform_transport=httpx.MockTransport(provider),
    )
    async with (
        live_server(app) as url,
        httpx.AsyncClient(base_url=url, timeout=10, event_hooks={"response": [record]}) as http,
    ):
        yield OAuthApp(http=http, clock=clock, provider=provider, seen=seen)


async def table_items(aws: AwsClients, settings: Settings, table: str) -> list[dict[str, Any]]:
    scanned = await aws.dynamodb.scan(TableName=settings.names.table(table))
    items: list[dict[str, Any]] = scanned["Items"]
    return items


# ------------------------------------------------------------------ starting a flow


async def test_dropbox_authorization_url_asks_for_a_code_with_pkce_and_offline_access(
    oauth_app: OAuthApp,
) -> None:
    ada = await oauth_app.tenant("dbx-url@example.com")

    url, state = await oauth_app.started(ada)
    again, other_state = await oauth_app.started(ada)

    parts = urlsplit(url)
    params = query_of(url)
    assert (parts.scheme, parts.netloc, parts.path) == (
        "https",
        "www.dropbox.com",
        "/oauth2/authorize",
    )
    assert params.pop("code_challenge") != query_of(again)["code_challenge"]
    assert params == {
        "response_type": "code",
        "client_id": CLIENTS["dropbox"][0],
        "redirect_uri": f"{PUBLIC_URL}/oauth/callback/dropbox",
        "scope": " ".join(scopes_of("dropbox")),
        "state": state,
        "code_challenge_method": "S256",
        "token_access_type": "offline",
    }
    assert "files.metadata.read" in params["scope"].split()
    assert len(query_of(url)["code_challenge"]) == 43  # base64url of a SHA-256 digest
    assert len(state) >= 43  # at least 256 bits
    assert state != other_state


async def test_stripe_authorization_url_has_no_pkce(oauth_app: OAuthApp) -> None:
    ada = await oauth_app.tenant("stripe-url@example.com")

    url, state = await oauth_app.started(ada, "stripe")

    parts = urlsplit(url)
    assert (parts.netloc, parts.path) == ("connect.stripe.com", "/oauth/authorize")
    assert query_of(url) == {
        "response_type": "code",
        "client_id": CLIENTS["stripe"][0],
        "redirect_uri": f"{PUBLIC_URL}/oauth/callback/stripe",
        "scope": "read_only",
        "state": state,
    }


async def test_a_platform_without_a_client_id_is_not_configured(oauth_app: OAuthApp) -> None:
    ada = await oauth_app.tenant("unconfigured@example.com")

    body = await oauth_app.start(ada, UNCONFIGURED)

    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["reason"] == "PLATFORM_NOT_CONFIGURED"
    assert body["data"] is None


async def test_an_api_key_platform_is_not_an_oauth_platform(oauth_app: OAuthApp) -> None:
    ada = await oauth_app.tenant("apikey@example.com")

    body = await oauth_app.start(ada, "demo")

    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["reason"] == "NOT_AN_OAUTH_PLATFORM"


async def test_shopify_needs_a_myshopify_domain_and_authorizes_at_that_shop(
    oauth_app: OAuthApp, aws: AwsClients, settings: Settings
) -> None:
    ada = await oauth_app.tenant("shopify@example.com")
    bad_domains = [
        None,
        "",
        "acme",
        "acme.com",
        "acme.myshopify.com.evil.example",
        "evil.example/?.myshopify.com",
        "evil.example#.myshopify.com",
        "-acme.myshopify.com",
        "acme.myshopify.com:8443",
        "ev il.myshopify.com",
    ]

    refused: dict[str | None, tuple[list[str], str | None]] = {}
    for domain in bad_domains:
        body = await oauth_app.start(ada, "shopify", shopDomain=domain)
        refused[domain] = (error_codes(body), body["errors"][0]["extensions"].get("field"))
    states_after_refusals = await table_items(aws, settings, "oauth-states")
    url, state = await oauth_app.started(
        ada, "shopify", shopDomain=" https://Acme-Store.myshopify.com/ "
    )

    assert refused == {domain: (["BAD_USER_INPUT"], "shopDomain") for domain in bad_domains}
    assert states_after_refusals == []
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == (
        "https",
        "acme-store.myshopify.com",
        "/admin/oauth/authorize",
    )
    params = query_of(url)
    assert params["client_id"] == CLIENTS["shopify"][0]
    assert params["redirect_uri"] == f"{PUBLIC_URL}/oauth/callback/shopify"
    assert params["scope"] == ",".join(scopes_of("shopify"))
    assert params["state"] == state


async def test_a_shop_domain_with_a_line_break_is_refused(oauth_app: OAuthApp) -> None:
    ada = await oauth_app.tenant("shop-newline@example.com")

    body = await oauth_app.start(ada, "shopify", shopDomain="acme.myshopify.com\n/")

    assert error_codes(body) == ["BAD_USER_INPUT"], body
    assert body["errors"][0]["extensions"]["field"] == "shopDomain"


# ------------------------------------------------------------------ completing a flow


async def test_a_completed_dropbox_flow_hands_the_code_to_the_app_which_completes_it(
    oauth_app: OAuthApp, aws: AwsClients, settings: Settings
) -> None:
    ada = await oauth_app.tenant("dbx-ok@example.com")
    url, state = await oauth_app.started(ada)
    code = oauth_app.provider.authorize(url)
    oauth_app.clock.advance(30)  # the user takes a while to consent
    started_at = oauth_app.clock.now

    response = await oauth_app.http.get(
        "/oauth/callback/dropbox", params={"code": code, "state": state}
    )
    made_by_the_redirect = await oauth_app.listed(ada)
    connection_id = await oauth_app.complete(ada, state=state, code=code)
    connection = await oauth_app.connection(ada, connection_id)
    listed = await oauth_app.listed(ada)
    by_node = await ada.call(NODE, id=connection_id)

    assert response.status_code == 302
    assert response.headers["location"] == (
        f"{APP_URL}/oauth/callback?"
        + urlencode({"platform": "dropbox", "state": state, "code": code})
    )
    assert made_by_the_redirect == []
    assert ids.decode_as(ids.CONNECTION, connection_id)
    assert connection == {
        "id": connection_id,
        "name": "Dropbox",
        "status": "ACTIVE",
        "authType": "OAUTH2",
        "externalAccount": DROPBOX_ACCOUNT,
        "expiresAt": connection["expiresAt"],
        "lastTestedAt": connection["lastTestedAt"],
        "lastError": None,
        "createdAt": connection["createdAt"],
        "platform": {"slug": "dropbox"},
        "account": {"id": ada.root},
    }
    expires_in = timedelta(seconds=oauth_app.provider.expires_in)
    assert parse_time(connection["expiresAt"]) == started_at + expires_in
    assert parse_time(connection["createdAt"]) == started_at
    assert parse_time(connection["lastTestedAt"]) == started_at
    assert listed == [connection]
    assert by_node == {"data": {"node": {"id": connection_id, "status": "ACTIVE"}}}
    # One exchange, with the PKCE verifier; the check call used the issued token.
    assert oauth_app.provider.refusals == []
    [exchange] = oauth_app.provider.token_requests
    assert s256(exchange["code_verifier"]) == query_of(url)["code_challenge"]
    assert oauth_app.provider.api_calls == [oauth_app.provider.issued[0]]
    # No secret reached the browser: not the tokens, the verifier or our client secret.
    secrets_ = [*oauth_app.provider.issued, exchange["code_verifier"], CLIENTS["dropbox"][1]]
    assert [s for s in secrets_ if any(s in text for text in oauth_app.seen)] == []
    # Nor are they stored in the clear.
    stored = repr(await table_items(aws, settings, "connections")) + repr(
        await table_items(aws, settings, "credentials")
    )
    assert [s for s in oauth_app.provider.issued if s in stored] == []
    assert await table_items(aws, settings, "oauth-states") == []


async def test_a_stripe_flow_without_pkce_keeps_the_chosen_name_and_never_expires(
    oauth_app: OAuthApp,
) -> None:
    ada = await oauth_app.tenant("stripe-ok@example.com")

    connection_id = await oauth_app.connect(ada, "stripe", name="  Main    Stripe ")
    connection = await oauth_app.connection(ada, connection_id)

    [exchange] = oauth_app.provider.token_requests
    assert "code_verifier" not in exchange
    assert oauth_app.provider.refusals == []
    assert connection["platform"] == {"slug": "stripe"}
    assert connection["name"] == "Main Stripe"
    assert connection["status"] == "ACTIVE"
    assert connection["expiresAt"] is None
    assert connection["externalAccount"] == STRIPE_ACCOUNT


async def test_a_mailchimp_connection_learns_its_data_centre_and_never_expires(
    oauth_app: OAuthApp,
) -> None:
    ada = await oauth_app.tenant("mailchimp@example.com")

    connection_id = await oauth_app.connect(ada, "mailchimp")
    connection = await oauth_app.connection(ada, connection_id)
    oauth_app.provider.api_calls.clear()
    tested = await ada.call(TEST, id=connection_id)

    assert oauth_app.provider.refusals == []
    assert connection["status"] == "ACTIVE"
    assert connection["expiresAt"] is None  # "expires_in": 0 is Mailchimp's "never"
    # Named by the API of the account's data centre, us6.mailchimp.com's own answer.
    assert connection["externalAccount"] == MAILCHIMP_ACCOUNT
    # Later calls (a test, a backup) go to that data centre with the same token.
    assert tested["data"]["testConnection"]["ok"] is True
    assert oauth_app.provider.api_calls == [oauth_app.provider.issued[0]]


@pytest.mark.parametrize("dc", ["us6.evil.test", ""])
async def test_a_mailchimp_data_centre_that_is_no_server_prefix_saves_nothing(
    oauth_app: OAuthApp, dc: str
) -> None:
    oauth_app.provider.mailchimp_dc = dc
    ada = await oauth_app.tenant("mailchimp-bad@example.com")
    url, state = await oauth_app.started(ada, "mailchimp")
    code = oauth_app.provider.authorize(url, platform="mailchimp")

    completed = await ada.call(COMPLETE, state=state, code=code)

    assert error_codes(completed) == ["BAD_USER_INPUT"]
    assert completed["errors"][0]["extensions"]["reason"] == "TOKEN_EXCHANGE_FAILED"
    assert "server prefix" in completed["errors"][0]["message"]
    assert await oauth_app.listed(ada) == []


async def test_the_external_account_name_is_best_effort(oauth_app: OAuthApp) -> None:
    oauth_app.provider.answers_check = False
    ada = await oauth_app.tenant("noname@example.com")

    connection_id = await oauth_app.connect(ada)
    connection = await oauth_app.connection(ada, connection_id)

    assert len(oauth_app.provider.api_calls) == 1
    assert connection["status"] == "ACTIVE"
    assert connection["externalAccount"] is None


async def test_test_connection_calls_the_platform_with_the_issued_access_token(
    oauth_app: OAuthApp,
) -> None:
    ada = await oauth_app.tenant("dbx-test@example.com")
    connection_id = await oauth_app.connect(ada)
    oauth_app.provider.api_calls.clear()

    tested = await ada.call(TEST, id=connection_id)

    assert tested == {
        "data": {
            "testConnection": {
                "ok": True,
                "message": None,
                "connection": {"id": connection_id, "status": "ACTIVE"},
            }
        }
    }
    assert oauth_app.provider.api_calls == [oauth_app.provider.issued[0]]


async def test_a_flow_completes_once(oauth_app: OAuthApp) -> None:
    ada = await oauth_app.tenant("complete@example.com")
    url, state = await oauth_app.started(ada)
    code = oauth_app.provider.authorize(url)
    # The browser may come back twice (a reload): the callback spends nothing.
    await oauth_app.returned("dropbox", code=code, state=state)
    await oauth_app.returned("dropbox", code=code, state=state)

    body = await ada.call(COMPLETE, state=state, code=code)
    again = await ada.call(COMPLETE, state=state, code=code)

    completed = body["data"]["completeOAuthConnection"]
    assert completed["status"] == "ACTIVE"
    assert completed["authType"] == "OAUTH2"
    assert completed["platform"] == {"slug": "dropbox"}
    assert [c["id"] for c in await oauth_app.listed(ada)] == [completed["id"]]
    assert error_codes(again) == ["BAD_USER_INPUT"]
    assert again["errors"][0]["extensions"]["reason"] == "INVALID_STATE"
    assert len(oauth_app.provider.token_requests) == 1
    assert oauth_app.provider.issued
    assert [t for t in oauth_app.provider.issued if any(t in text for text in oauth_app.seen)] == []


async def test_a_lured_victim_cannot_land_their_platform_account_in_the_attackers_tenant(
    oauth_app: OAuthApp,
) -> None:
    mallory = await oauth_app.tenant("mallory@example.com")
    ada = await oauth_app.tenant("victim@example.com")
    # Mallory starts a flow on her own account and lures Ada through its URL; Ada consents
    # at the provider with her own platform account, and her browser comes back to us.
    url, state = await oauth_app.started(mallory)
    code = oauth_app.provider.authorize(url)

    back = await oauth_app.callback("dropbox", code=code, state=state)
    ada_completes = await ada.call(COMPLETE, state=state, code=code)

    assert back == {"platform": "dropbox", "state": state, "code": code}
    assert error_codes(ada_completes) == ["BAD_USER_INPUT"]
    assert ada_completes["errors"][0]["extensions"]["reason"] == "INVALID_STATE"
    assert await oauth_app.listed(mallory) == []
    assert await oauth_app.listed(ada) == []
    assert oauth_app.provider.token_requests == []


# ------------------------------------------------------------------ failed flows


async def test_a_declined_authorization_redirects_with_the_error_and_spends_the_state(
    oauth_app: OAuthApp,
) -> None:
    ada = await oauth_app.tenant("declined@example.com")
    url, state = await oauth_app.started(ada)

    declined = await oauth_app.callback(error="access_denied", state=state)
    code = oauth_app.provider.authorize(url)  # as if the user went back and consented
    retried = await oauth_app.callback(code=code, state=state)
    completed = await ada.call(COMPLETE, state=state, code=code)

    assert declined == {"error": "access_denied", "platform": "dropbox"}
    assert retried == {"error": "invalid_state", "platform": "dropbox"}
    assert completed["errors"][0]["extensions"]["reason"] == "INVALID_STATE"
    assert oauth_app.provider.token_requests == []
    assert await oauth_app.listed(ada) == []


async def test_a_completed_state_is_gone_for_the_callback_too(oauth_app: OAuthApp) -> None:
    ada = await oauth_app.tenant("reuse@example.com")
    connection_id = await oauth_app.connect(ada)
    url, state = await oauth_app.started(ada)
    code = oauth_app.provider.authorize(url)
    await oauth_app.complete(ada, state=state, code=code)

    late = await oauth_app.callback(code=code, state=state)

    assert late == {"error": "invalid_state", "platform": "dropbox"}
    assert len(oauth_app.provider.token_requests) == 2
    assert len([c for c in await oauth_app.listed(ada) if c["id"] != connection_id]) == 1


@pytest.mark.parametrize(
    ("seconds", "expired"),
    [pytest.param(599, False, id="within-10-minutes"), pytest.param(660, True, id="after-11")],
)
async def test_a_state_lives_ten_minutes(oauth_app: OAuthApp, seconds: int, expired: bool) -> None:
    ada = await oauth_app.tenant("slow@example.com")
    url, state = await oauth_app.started(ada)
    code = oauth_app.provider.authorize(url)

    oauth_app.clock.advance(seconds)
    back = await oauth_app.callback(code=code, state=state)
    completed = await ada.call(COMPLETE, state=state, code=code)

    if expired:
        assert back == {"error": "state_expired", "platform": "dropbox"}
        assert completed["errors"][0]["extensions"]["reason"] == "STATE_EXPIRED"
        assert oauth_app.provider.token_requests == []
        assert await oauth_app.listed(ada) == []
    else:
        assert back == {"platform": "dropbox", "state": state, "code": code}
        connection_id = completed["data"]["completeOAuthConnection"]["id"]
        assert [c["id"] for c in await oauth_app.listed(ada)] == [connection_id]


async def test_another_users_state_is_refused_and_stays_usable_by_its_owner(
    oauth_app: OAuthApp,
) -> None:
    ada = await oauth_app.tenant("ada-state@example.com")
    bob = await oauth_app.tenant("bob-state@example.com")
    url, state = await oauth_app.started(ada)
    code = oauth_app.provider.authorize(url)

    stolen = await bob.call(COMPLETE, state=state, code=code)
    own = await ada.call(COMPLETE, state=state, code=code)

    assert error_codes(stolen) == ["BAD_USER_INPUT"]
    assert stolen["errors"][0]["extensions"]["reason"] == "INVALID_STATE"
    assert stolen["data"] is None
    assert "errors" not in own, own
    assert own["data"]["completeOAuthConnection"]["status"] == "ACTIVE"
    assert len(oauth_app.provider.token_requests) == 1
    assert await oauth_app.listed(bob) == []
    assert [c["id"] for c in await oauth_app.listed(ada)] == [
        own["data"]["completeOAuthConnection"]["id"]
    ]


async def test_a_code_bound_to_another_pkce_challenge_fails_the_exchange(
    oauth_app: OAuthApp, aws: AwsClients, settings: Settings
) -> None:
    ada = await oauth_app.tenant("pkce@example.com")
    _, state = await oauth_app.started(ada)
    # A code injected into this callback: issued to another flow, with another challenge.
    other_url, _ = await oauth_app.started(ada)
    injected = oauth_app.provider.authorize(other_url)

    await oauth_app.returned("dropbox", code=injected, state=state)
    completed = await ada.call(COMPLETE, state=state, code=injected)

    assert completed["errors"][0]["extensions"]["reason"] == "TOKEN_EXCHANGE_FAILED"
    assert oauth_app.provider.refusals == ["code_verifier"]
    assert oauth_app.provider.issued == []
    assert await oauth_app.listed(ada) == []
    assert await table_items(aws, settings, "connections") == []
    assert await table_items(aws, settings, "credentials") == []


async def test_the_callback_answers_every_bad_request_with_a_redirect_never_a_500(
    oauth_app: OAuthApp,
) -> None:
    ada = await oauth_app.tenant("malformed@example.com")
    states = [(await oauth_app.started(ada))[1] for _ in range(3)]
    _, stripe_state = await oauth_app.started(ada, "stripe")

    results: dict[str, dict[str, str]] = {}
    results["nothing"] = await oauth_app.callback()
    results["no code"] = await oauth_app.callback(state=states[0])
    results["huge code"] = await oauth_app.callback(code="c" * 5000, state=states[1])
    results["unknown state"] = await oauth_app.callback(code="c", state=secrets.token_urlsafe(32))
    results["huge state"] = await oauth_app.callback(code="c", state="s" * 5000)
    results["another platform's state"] = await oauth_app.callback(code="c", state=stripe_state)
    results["unknown platform"] = await oauth_app.callback("nowhere", code="c", state=states[2])
    results["odd error"] = await oauth_app.callback(error="Access Denied<script>", state="x")
    results["empty error"] = await oauth_app.callback(error="!!!")

    def error(code: str) -> dict[str, str]:
        return {"error": code, "platform": "dropbox"}

    assert results == {
        "nothing": error("invalid_state"),
        "no code": error("no_code"),
        "unknown state": error("invalid_state"),
        "huge state": error("invalid_state"),
        "huge code": error("no_code"),
        "another platform's state": error("invalid_state"),
        "unknown platform": {"error": "invalid_state", "platform": "nowhere"},
        "odd error": error("accessdeniedscript"),
        "empty error": error("provider_error"),
    }
    assert oauth_app.provider.token_requests == []
    assert await oauth_app.listed(ada) == []


async def test_a_provider_down_at_completion_is_a_clear_error_and_saves_nothing(
    oauth_app: OAuthApp,
) -> None:
    ada = await oauth_app.tenant("down@example.com")
    url, state = await oauth_app.started(ada)
    code = oauth_app.provider.authorize(url)
    oauth_app.provider.down = True

    completed = await ada.call(COMPLETE, state=state, code=code)

    assert error_codes(completed) == ["BAD_USER_INPUT"]
    assert completed["errors"][0]["extensions"]["reason"] == "TOKEN_EXCHANGE_FAILED"
    assert await oauth_app.listed(ada) == []


# ------------------------------------------------------------------ reconnecting


async def test_reconnect_updates_the_same_connection_in_place(oauth_app: OAuthApp) -> None:
    ada = await oauth_app.tenant("reconnect@example.com")
    connection_id = await oauth_app.connect(ada)
    before = await oauth_app.connection(ada, connection_id)
    oauth_app.clock.advance(5 * 3600)  # the first token has run out
    oauth_app.provider.expires_in = 7200

    body = await ada.call(RECONNECT, id=connection_id)
    started = body["data"]["reconnect"]
    code = oauth_app.provider.authorize(started["authorizationUrl"])
    await oauth_app.returned("dropbox", code=code, state=started["state"])
    completed = await oauth_app.complete(ada, state=started["state"], code=code)
    after = await oauth_app.connection(ada, connection_id)

    params = query_of(started["authorizationUrl"])
    assert params["state"] == started["state"]
    assert params["redirect_uri"] == f"{PUBLIC_URL}/oauth/callback/dropbox"
    assert params["code_challenge_method"] == "S256"
    assert completed == connection_id
    assert parse_time(after["expiresAt"]) == oauth_app.clock.now + timedelta(seconds=7200)
    assert parse_time(after["expiresAt"]) > parse_time(before["expiresAt"])
    assert parse_time(after["lastTestedAt"]) == oauth_app.clock.now
    unchanged = ("id", "name", "createdAt", "platform", "account", "authType", "status")
    assert {k: after[k] for k in unchanged} == {k: before[k] for k in unchanged}
    assert [c["id"] for c in await oauth_app.listed(ada)] == [connection_id]
    assert len(oauth_app.provider.token_requests) == 2
    assert oauth_app.provider.refusals == []


# ------------------------------------------------------------------ tenant isolation


def without_location(body: dict[str, Any]) -> dict[str, Any]:
    """What a client can tell two answers apart by: data and errors, less their place."""
    return {
        "data": body.get("data"),
        "errors": [
            {k: v for k, v in error.items() if k not in {"path", "locations"}}
            for error in body.get("errors", [])
        ],
    }


async def test_another_tenants_connection_answers_like_a_missing_one(
    oauth_app: OAuthApp, aws: AwsClients, settings: Settings
) -> None:
    ada = await oauth_app.tenant("ada-owner@example.com")
    bob = await oauth_app.tenant("bob-intruder@example.com")
    connection_id = await oauth_app.connect(ada)
    before = await oauth_app.connection(ada, connection_id)
    missing = ids.encode(ids.CONNECTION, str(uuid.uuid4()))
    oauth_app.provider.api_calls.clear()

    verdicts: dict[str, tuple[list[str], bool]] = {}
    for name, query in [
        ("connection", CONNECTION),
        ("node", NODE),
        ("testConnection", TEST),
        ("updateConnection", UPDATE),
        ("reconnect", RECONNECT),
        ("deleteConnection", DELETE),
    ]:
        real = await bob.call(query, id=connection_id)
        forged = await bob.call(query, id=missing)
        verdicts[name] = (error_codes(real), without_location(real) == without_location(forged))
    platform_id = (await bob.call(PLATFORM, slug="dropbox"))["data"]["platform"]["id"]
    starts = [
        await bob.call(START, input={"accountId": account, "platformId": platform_id})
        for account in (ada.root, ids.encode(ids.ACCOUNT, str(uuid.uuid4())))
    ]

    like_missing = (["NOT_FOUND"], True)
    assert verdicts == dict.fromkeys(verdicts, like_missing)
    assert len(verdicts) == 6
    assert error_codes(starts[0]) == ["NOT_FOUND"]
    assert without_location(starts[0]) == without_location(starts[1])
    assert await oauth_app.connection(ada, connection_id) == before
    assert oauth_app.provider.api_calls == []
    assert await table_items(aws, settings, "oauth-states") == []
    assert len(await table_items(aws, settings, "credentials")) == 1
    text = json.dumps([verdicts, starts])
    assert ada.root not in text
