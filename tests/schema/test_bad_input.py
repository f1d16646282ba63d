"""Malformed or hostile input over real HTTP: a clear BAD_USER_INPUT, never a masked 500,
and nothing written. Bodies are posted as raw bytes, as an attacker would send them."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from listbackup import ids
from listbackup.aws import AwsClients
from listbackup.config import Settings
from listbackup.request_json import MAX_DEPTH, MAX_INTEGER_DIGITS
from tests.aws_state import snapshot
from tests.helpers import CONFIRM, Tenant, error_codes, gql, tenant

JSON = {"content-type": "application/json"}
SURROGATE = "\\ud800"  # as JSON text: the escape of a lone high surrogate
DEEP = 50_000

CREATE_ACCOUNT = """
mutation($name: String!, $parent: ID!) {
  createAccount(input: {name: $name, parentId: $parent}) { id }
}
"""
SIGN_UP = "mutation($input: SignUpInput!) { signUp(input: $input) { userId } }"
INVITE = """
mutation($id: ID!, $email: String!) { inviteMember(accountId: $id, email: $email, role: VIEWER) {
  id } }
"""
CONNECT = """
mutation($input: ApiKeyConnectionInput!) { createApiKeyConnection(input: $input) { id } }
"""
UPDATE_PROFILE = "mutation($name: String!) { updateProfile(input: {name: $name}) { name } }"


def request_with(query: str, variables_json: str, **fields: str) -> bytes:
    """A body whose variables are given as JSON text, so they can hold what json.dumps
    would never write."""
    extra = "".join(f', "{k}": {v}' for k, v in fields.items())
    return f'{{"query": {json.dumps(query)}, "variables": {variables_json}{extra}}}'.encode()


def surrogate_cases(ada: Tenant) -> dict[str, bytes]:
    """Every kind of string input, each carrying a lone surrogate."""
    parent = json.dumps(ada.root)
    name = f'"Shop {SURROGATE}"'
    return {
        "account name": request_with(CREATE_ACCOUNT, f'{{"name": {name}, "parent": {parent}}}'),
        "sign-up name": request_with(
            SIGN_UP,
            '{"input": {"email": "new@example.com", "password": "Passw0rd!x", '
            f'"name": {name}}}}}',
        ),
        "invited email": request_with(
            INVITE, f'{{"id": {parent}, "email": "bob{SURROGATE}@example.com"}}'
        ),
        "api key": request_with(
            CONNECT,
            f'{{"input": {{"accountId": {parent}, "name": "Demo", '
            f'"platformId": {json.dumps(ids.encode(ids.PLATFORM, "demo"))}, '
            f'"credentials": {{"apiKey": "key-{SURROGATE}"}}}}}}',
        ),
        "profile name": request_with(UPDATE_PROFILE, f'{{"name": {name}}}'),
        "a variable's name": request_with(UPDATE_PROFILE, f'{{"name": "Ada", "x{SURROGATE}": 1}}'),
        "operation name": request_with(UPDATE_PROFILE, '{"name": "Ada"}', operationName=name),
        "the document": (
            f'{{"query": "mutation {{ updateProfile(input: {{name: \\"{SURROGATE}\\"}}) '
            '{ name } }"}'
        ).encode(),
    }


async def users_in_pool(aws: AwsClients, settings: Settings) -> list[str]:
    assert settings.cognito_user_pool_id
    listed = await aws.cognito.list_users(UserPoolId=settings.cognito_user_pool_id)
    return sorted(u["Username"] for u in listed["Users"])


def refused(response: httpx.Response) -> str:
    """The message of a request refused as a whole with 400 BAD_USER_INPUT."""
    assert response.status_code == 400, response.text
    body: dict[str, Any] = response.json()
    assert error_codes(body) == ["BAD_USER_INPUT"], body
    message: str = body["errors"][0]["message"]
    return message


async def test_a_lone_surrogate_in_any_string_input_is_bad_user_input_and_writes_nothing(
    client: httpx.AsyncClient, aws: AwsClients, settings: Settings
) -> None:
    ada = await tenant(client, "ada@example.com")
    headers = {**JSON, "Authorization": f"Bearer {ada.token}"}
    before = (await snapshot(aws, settings), await users_in_pool(aws, settings))

    messages = {}
    for case, content in surrogate_cases(ada).items():
        response = await client.post("/graphql", content=content, headers=headers)
        messages[case] = refused(response)

    assert all("surrogate" in m for m in messages.values()), messages
    assert (await snapshot(aws, settings), await users_in_pool(aws, settings)) == before


async def test_a_lone_surrogate_in_get_variables_is_bad_user_input(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(
        "/graphql",
        params={
            "query": "query($s: String!) { platform(slug: $s) { name } }",
            "variables": f'{{"s": "stripe{SURROGATE}"}}',
        },
    )

    assert "surrogate" in refused(response)


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param(b"null", "No GraphQL query found in the request", id="null"),
        pytest.param(b"5", "JSON objects", id="a number"),
        pytest.param(b'"{ platforms { slug } }"', "JSON objects", id="a string"),
        pytest.param(b'{"query": "{ platforms { slug } }\xff"}', "UTF-8", id="not utf-8"),
        pytest.param(
            request_with("{ platforms { slug } }", f'{{"x": {nested(DEEP)}}}'),
            "nested",
            id="variables-nested-50000-deep",
        ),
        pytest.param(
            request_with("{ platforms { slug } }", "{}", extensions=nested(DEEP)),
            "nested",
            id="extensions-nested-50000-deep",
        ),
        pytest.param(
            request_with("{ platforms { slug } }", f'{{"x": {nested(40)}}}'),
            "nested",
            id="variables-nested-40-deep",
        ),
        pytest.param(
            request_with("query($n: Int) { platforms { slug } }", '{"n": ' + "7" * 5000 + "}"),
            "digits",
            id="integer-of-5000-digits",
        ),
        pytest.param(
            request_with("query($n: Float) { platforms { slug } }", '{"n": NaN}'),
            "Unable to parse request body as JSON",
            id="nan",
        ),
    ],
)
async def test_a_malformed_body_is_a_400_saying_what_is_wrong(
    client: httpx.AsyncClient, content: bytes, expected: str
) -> None:
    response = await client.post("/graphql", content=content, headers=JSON)

    assert expected in refused(response)


async def test_variables_nested_too_deep_over_get_are_refused(client: httpx.AsyncClient) -> None:
    # Deeper than Python's recursion limit, yet short enough for a request line.
    response = await client.get(
        "/graphql",
        params={"query": "{ platforms { slug } }", "variables": f'{{"x": {nested(3000)}}}'},
    )

    assert "nested" in refused(response)


async def test_input_within_the_bounds_still_works(client: httpx.AsyncClient) -> None:
    body = request_with(
        "query($s: String!) { platform(slug: $s) { name } }",
        # At the limits: 100 digits, 32 levels (body, variables, "unused", 29 lists), and
        # a surrogate pair, which is one valid character.
        f'{{"s": "stripe", "unused": {{"n": {"9" * MAX_INTEGER_DIGITS}, '
        f'"x": {nested(MAX_DEPTH - 3)}, "e": "\\ud83d\\ude00"}}}}',
    )

    response = await client.post("/graphql", content=body, headers=JSON)

    assert response.json() == {"data": {"platform": {"name": "Stripe"}}}


async def test_confirming_an_unknown_email_is_a_wrong_code(client: httpx.AsyncClient) -> None:
    body = await gql(client, CONFIRM, {"e": "nobody@example.com"})

    assert body["data"] is None
    assert error_codes(body) == ["BAD_USER_INPUT"]
    # The same answer as a wrong code: confirmSignUp does not tell who has signed up.
    assert body["errors"][0]["extensions"]["reason"] == "INVALID_CODE"
