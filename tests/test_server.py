"""The HTTP edge: health, readiness, request ids, limits, CORS, GraphiQL, error masking,
and the attacks the request limits stop."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from listbackup.config import Settings
from listbackup.devstack import free_port, live_server
from listbackup.schema import MAX_ALIASES, MAX_DEPTH
from listbackup.schema.limits import MAX_TOKENS
from listbackup.server import create_app
from tests.helpers import error_codes, gql


async def test_healthz_answers_without_touching_aws(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_is_ready_when_dynamodb_answers(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ready", "dynamodb": "ok"}


async def test_readyz_is_503_when_dynamodb_is_unreachable(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Nothing listens on this port: every DynamoDB call fails to connect.
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", f"http://127.0.0.1:{free_port('127.0.0.1')}")
    app = create_app(settings.model_copy(update={"readiness_timeout_seconds": 1.0}))

    async with live_server(app) as url, httpx.AsyncClient(base_url=url) as http:
        ready = await http.get("/readyz")
        alive = await http.get("/healthz")

    assert ready.status_code == 503
    assert ready.json() == {"status": "unavailable", "dynamodb": "unreachable"}
    assert alive.status_code == 200


async def test_every_response_carries_a_request_id(client: httpx.AsyncClient) -> None:
    first = await client.get("/healthz")
    second = await client.get("/healthz")

    assert len(first.headers["x-request-id"]) == 32
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


async def test_a_sane_incoming_request_id_is_kept_and_a_hostile_one_replaced(
    client: httpx.AsyncClient,
) -> None:
    kept = await client.get("/healthz", headers={"X-Request-ID": "trace-abc-12345"})
    replaced = await client.get("/healthz", headers={"X-Request-ID": "bad id <script>{}"})

    assert kept.headers["x-request-id"] == "trace-abc-12345"
    assert replaced.headers["x-request-id"] != "bad id <script>{}"
    assert len(replaced.headers["x-request-id"]) == 32


async def test_logs_are_json_lines_with_the_request_id(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="listbackup.access"):
        response = await client.get("/healthz", headers={"X-Request-ID": "trace-log-12345"})

    access = [r for r in caplog.records if r.name == "listbackup.access"]
    assert response.status_code == 200
    assert access
    assert access[-1].__dict__["status"] == 200
    assert access[-1].__dict__["path"] == "/healthz"
    assert access[-1].__dict__["duration_ms"] >= 0


async def test_declared_oversized_body_is_refused_with_413(
    settings: Settings, client: httpx.AsyncClient
) -> None:
    query = "{ platforms { slug } }" + " " * settings.max_body_bytes

    response = await client.post("/graphql", json={"query": query})

    assert response.status_code == 413
    assert error_codes(response.json()) == ["BAD_USER_INPUT"]
    assert response.json()["errors"][0]["extensions"]["reason"] == "BODY_TOO_LARGE"


async def test_streamed_oversized_body_is_refused_with_413(
    settings: Settings, client: httpx.AsyncClient
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"query": "{ platforms { slug } }", "pad": "'
        for _ in range(settings.max_body_bytes // 65536 + 2):
            yield b"x" * 65536
        yield b'"}'

    response = await client.post(
        "/graphql", content=chunks(), headers={"content-type": "application/json"}
    )

    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["reason"] == "BODY_TOO_LARGE"


async def test_graphql_over_get(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/graphql", params={"query": '{ platform(slug: "stripe") { name } }'}
    )

    assert response.json() == {"data": {"platform": {"name": "Stripe"}}}


async def test_mutations_over_get_are_refused(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", params={"query": "mutation { x }"})

    assert response.status_code == 400
    assert error_codes(response.json()) == ["BAD_USER_INPUT"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "Unable to parse request body as JSON"),
        (b'{"variables": {}}', "No GraphQL query found in the request"),
    ],
)
async def test_malformed_requests_are_400_with_a_code(
    client: httpx.AsyncClient, content: bytes, message: str
) -> None:
    response = await client.post(
        "/graphql", content=content, headers={"content-type": "application/json"}
    )

    assert response.status_code == 400
    body = response.json()
    assert body["errors"][0]["message"] == message
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert body["errors"][0]["extensions"]["requestId"] == response.headers["x-request-id"]


async def test_syntax_error_is_bad_user_input(client: httpx.AsyncClient) -> None:
    body = await gql(client, "{ platforms { slug ")

    assert body["data"] is None
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["reason"] == "GRAPHQL_PARSE_FAILED"


async def test_unknown_field_is_bad_user_input(client: httpx.AsyncClient) -> None:
    body = await gql(client, "{ platforms { slug secretSauce } }")

    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["reason"] == "GRAPHQL_VALIDATION_FAILED"
    assert "secretSauce" in body["errors"][0]["message"]


async def test_wrong_variable_type_is_bad_user_input(client: httpx.AsyncClient) -> None:
    body = await gql(client, "query($s: String!) { platform(slug: $s) { slug } }", {"s": 42})

    assert error_codes(body) == ["BAD_USER_INPUT"]


async def test_too_many_aliases_are_refused(client: httpx.AsyncClient) -> None:
    aliases = " ".join(f"a{i}: platforms {{ slug }}" for i in range(MAX_ALIASES + 1))
    body = await gql(client, f"{{ {aliases} }}")

    assert body["data"] is None
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert "aliases" in body["errors"][0]["message"]


async def test_unexpected_failures_are_masked_and_logged(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    # Tables under this prefix do not exist: DynamoDB answers ResourceNotFoundException.
    app = create_app(settings.model_copy(update={"resource_prefix": "no-such-stack"}))

    async with live_server(app) as url, httpx.AsyncClient(base_url=url) as http:
        with caplog.at_level(logging.ERROR):
            response = await http.post("/graphql", json={"query": "{ platforms { slug } }"})

    body = response.json()
    error = body["errors"][0]
    assert response.status_code == 200
    assert body["data"] is None
    assert error["message"] == "Internal server error."
    assert error["extensions"] == {
        "code": "INTERNAL_SERVER_ERROR",
        "requestId": response.headers["x-request-id"],
    }
    assert "ResourceNotFound" not in response.text
    assert "Traceback" not in response.text
    logged = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert logged
    assert logged[0].exc_info is not None
    assert "ResourceNotFoundException" in caplog.text


async def test_cors_preflight_allows_configured_origins_only(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"cors_origins": ("https://app.example.com",)}))
    preflight = {"Access-Control-Request-Method": "POST"}

    async with live_server(app) as url, httpx.AsyncClient(base_url=url) as http:
        allowed = await http.options(
            "/graphql", headers={**preflight, "Origin": "https://app.example.com"}
        )
        refused = await http.options(
            "/graphql", headers={**preflight, "Origin": "https://evil.example.com"}
        )

    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://app.example.com"
    assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers


async def test_graphiql_is_served_to_browsers_when_enabled(settings: Settings) -> None:
    on = create_app(settings.model_copy(update={"graphiql": True}))
    off = create_app(settings.model_copy(update={"graphiql": False}))
    browser = {"Accept": "text/html"}

    async with live_server(on) as url, httpx.AsyncClient(base_url=url) as http:
        page = await http.get("/graphql", headers=browser)
    async with live_server(off) as url, httpx.AsyncClient(base_url=url) as http:
        missing = await http.get("/graphql", headers=browser)

    assert page.status_code == 200
    assert "graphiql" in page.text.lower()
    assert missing.status_code == 404


async def test_unknown_paths_and_methods(client: httpx.AsyncClient) -> None:
    assert (await client.get("/nope")).status_code == 404
    assert (await client.put("/graphql", json={})).status_code == 405


async def test_too_deep_a_query_is_refused(client: httpx.AsyncClient) -> None:
    levels = MAX_DEPTH // 2 + 1  # each level is two fields: children, nodes
    # Pages of one keep the cost low: the depth limit is what refuses it.
    level = "children(first: 1) { nodes { "
    query = '{ account(id: "x") { ' + level * levels + "id" + " } }" * levels
    body = await gql(client, query + " } }")

    assert body["data"] is None
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert "exceeds maximum operation depth" in body["errors"][0]["message"]


async def test_token_flood_is_refused_fast_while_healthz_stays_responsive(
    settings: Settings, client: httpx.AsyncClient
) -> None:
    # The review's attack: a body-sized document of __typename tokens, unauthenticated.
    flood = "{" + " __typename" * ((settings.max_body_bytes - 100) // 11) + " }"

    async def refused() -> tuple[float, httpx.Response]:
        started = time.perf_counter()
        response = await client.post("/graphql", json={"query": flood})
        return time.perf_counter() - started, response

    async def alive() -> tuple[float, httpx.Response]:
        await asyncio.sleep(0.01)  # once the flood is on its way
        started = time.perf_counter()
        response = await client.get("/healthz")
        return time.perf_counter() - started, response

    (refusal_time, refusal), (health_time, health) = await asyncio.gather(refused(), alive())

    assert error_codes(refusal.json()) == ["BAD_USER_INPUT"]
    assert f"more than {MAX_TOKENS} tokens" in refusal.json()["errors"][0]["message"]
    assert health.status_code == 200
    # Loose bounds on a shared machine; before the limit this took seconds.
    assert refusal_time < 1
    assert health_time < 1


async def test_fragment_bomb_is_refused_before_validation_walks_it(
    client: httpx.AsyncClient,
) -> None:
    # 18 fragments that spread the next one twice: 262 144 fields from 200 tokens, which
    # the depth and alias limiters would each walk one by one.
    fragments = " ".join(f"fragment F{i} on User {{ ...F{i + 1} ...F{i + 1} }}" for i in range(18))
    body = await gql(client, "{ viewer { ...F0 } } " + fragments + " fragment F18 on User { id }")

    assert body["data"] is None
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["reason"] == "QUERY_TOO_COMPLEX"
    assert body["errors"][0]["extensions"]["fields"] == 2**18 + 1


async def test_page_fan_out_through_parent_is_refused_with_its_cost(
    settings: Settings, client: httpx.AsyncClient
) -> None:
    # Five aliases of children -> parent -> children -> parent -> children, 100 a page:
    # within the depth and alias limits, up to five million accounts.
    level = "children(first: 100) { nodes { parent { %s } } }"
    tree = level % (level % "children(first: 100) { nodes { id } }")
    aliases = " ".join(f'a{i}: account(id: "x") {{ {tree} }}' for i in range(5))
    body = await gql(client, f"{{ {aliases} }}")

    assert body["data"] is None
    assert body["errors"][0]["extensions"] == {
        "code": "BAD_USER_INPUT",
        "reason": "QUERY_TOO_COMPLEX",
        "cost": 5_151_510,
        "maxCost": settings.max_query_cost,
    }
    assert "5151510" in body["errors"][0]["message"]


INTROSPECTION = "{ __schema { queryType { name } } }"


async def test_introspection_is_refused_unless_graphiql_or_introspection_is_on(
    settings: Settings, client: httpx.AsyncClient
) -> None:
    refused = await gql(client, INTROSPECTION)
    typename = await gql(client, "{ __typename }")

    for update in ({"introspection": True}, {"graphiql": True}):
        app = create_app(settings.model_copy(update=update))
        async with live_server(app) as url, httpx.AsyncClient(base_url=url) as http:
            allowed = await gql(http, INTROSPECTION)
        assert allowed == {"data": {"__schema": {"queryType": {"name": "Query"}}}}, update

    assert refused["data"] is None
    assert set(error_codes(refused)) == {"BAD_USER_INPUT"}  # one per introspection field
    assert "introspection has been disabled" in refused["errors"][0]["message"]
    assert typename == {"data": {"__typename": "Query"}}


async def test_suggestions_do_not_spell_out_the_schema_unless_graphiql_is_on(
    settings: Settings, client: httpx.AsyncClient
) -> None:
    # A misspelt field, argument and enum value: graphql-core would name the right ones.
    probes = [
        "{ platforms { slgu } }",
        '{ platform(slgu: "stripe") { slug } }',
        'mutation { inviteMember(accountId: "x", email: "a@example.com", role: OWNR) { id } }',
    ]
    hidden = [await gql(client, probe) for probe in probes]
    app = create_app(settings.model_copy(update={"graphiql": True}))
    async with live_server(app) as url, httpx.AsyncClient(base_url=url) as http:
        shown = [await gql(http, probe) for probe in probes]

    for body in hidden:
        assert error_codes(body)[0] == "BAD_USER_INPUT"
        assert all("Did you mean" not in e["message"] for e in body["errors"]), body
    assert "Did you mean 'slug'?" in shown[0]["errors"][0]["message"]
    assert "Did you mean 'slug'?" in shown[1]["errors"][0]["message"]
    assert "Did you mean the enum value 'OWNER'?" in shown[2]["errors"][0]["message"]
