"""Identity over HTTP: sign-up to sign-out, profile, passwords, and their errors."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from listbackup import ids
from listbackup.aws import AwsClients
from listbackup.config import Settings
from listbackup.devstack import live_server
from listbackup.resources import SPEC
from listbackup.server import create_app
from tests.aws_state import confirmation_code
from tests.helpers import (
    PASSWORD,
    SIGN_IN,
    error_codes,
    gql,
    new_user,
    sign_in,
    sign_up,
)

VIEWER = """
{
  viewer {
    id email name phone timezone createdAt lastLoginAt
    currentAccount {
      id name company level status viewerRole viewerPermissions
      settings { allowSubAccounts maxSubAccounts defaultRetentionDays timezone }
    }
    memberships { nodes { role permissions status inherited joinedAt
                          account { id name } user { email } }
                  pageInfo { hasNextPage endCursor } }
    pendingInvitations { id }
  }
}
"""
REFRESH = """
mutation($t: String!) {
  refreshSession(refreshToken: $t) { accessToken idToken refreshToken expiresIn user { email } }
}
"""
UPDATE_PROFILE = """
mutation($input: UpdateProfileInput!) { updateProfile(input: $input) { name phone timezone } }
"""
CHANGE_PASSWORD = """
mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }
"""


async def reset_code(settings: Settings, email: str) -> str:
    """The code Cognito would email, as the local AWS tells it."""
    assert settings.cognito_user_pool_id
    code = await confirmation_code(settings.cognito_user_pool_id, email)
    assert code
    return code


async def test_the_whole_journey(client: httpx.AsyncClient, settings: Settings) -> None:
    signed_up = await sign_up(client, "Ada@Example.com", company="Analytical Engines Ltd")
    session = await sign_in(client, "ada@example.com")

    token = session["accessToken"]
    viewer = (await gql(client, VIEWER, token=token))["data"]["viewer"]
    assert viewer["id"] == signed_up["userId"] == session["user"]["id"]
    assert viewer["email"] == "ada@example.com"
    assert viewer["lastLoginAt"] is not None
    account = viewer["currentAccount"]
    assert account["name"] == "Analytical Engines Ltd"
    assert account["company"] == "Analytical Engines Ltd"
    assert account["level"] == 0
    assert account["status"] == "ACTIVE"
    assert account["viewerRole"] == "OWNER"
    assert len(account["viewerPermissions"]) == 7
    assert account["settings"]["timezone"] == "UTC"
    [membership] = viewer["memberships"]["nodes"]
    assert membership["role"] == "OWNER"
    assert membership["inherited"] is False
    assert membership["account"]["id"] == account["id"]
    assert membership["user"]["email"] == "ada@example.com"
    assert viewer["memberships"]["pageInfo"] == {"hasNextPage": False, "endCursor": None}
    assert viewer["pendingInvitations"] == []

    refreshed = (await gql(client, REFRESH, {"t": session["refreshToken"]}))["data"]
    assert refreshed["refreshSession"]["user"]["email"] == "ada@example.com"
    assert refreshed["refreshSession"]["refreshToken"] is None
    token = refreshed["refreshSession"]["accessToken"]

    profile = await gql(
        client,
        UPDATE_PROFILE,
        {
            "input": {
                "name": " Ada  King ",
                "phone": "+44 20 7946 0958",
                "timezone": "Europe/London",
            }
        },
        token=token,
    )
    assert profile == {
        "data": {
            "updateProfile": {
                "name": "Ada King",
                "phone": "+442079460958",
                "timezone": "Europe/London",
            }
        }
    }
    cleared = await gql(client, UPDATE_PROFILE, {"input": {"phone": None}}, token=token)
    assert cleared["data"]["updateProfile"]["phone"] is None
    assert cleared["data"]["updateProfile"]["timezone"] == "Europe/London"

    changed = await gql(client, CHANGE_PASSWORD, {"c": PASSWORD, "n": "N3w-Passw0rd!"}, token=token)
    assert changed == {"data": {"changePassword": True}}
    old = await gql(client, SIGN_IN, {"e": "ada@example.com", "p": PASSWORD})
    assert error_codes(old) == ["UNAUTHENTICATED"]
    session = await sign_in(client, "ada@example.com", "N3w-Passw0rd!")

    signed_out = await gql(client, "mutation { signOut }", token=session["accessToken"])
    assert signed_out == {"data": {"signOut": True}}
    stale = await gql(client, REFRESH, {"t": session["refreshToken"]})
    assert stale["data"] is None
    assert error_codes(stale) == ["UNAUTHENTICATED"]


async def test_sign_up_writes_user_root_account_and_owner_membership(
    client: httpx.AsyncClient, aws: AwsClients, settings: Settings
) -> None:
    signed_up = await sign_up(client, "grace@example.com", name="Grace Hopper")

    user_id = ids.decode_as(ids.USER, signed_up["userId"])
    assert user_id
    ddb = aws.dynamodb
    names = settings.names
    user = (await ddb.get_item(TableName=names.table("users"), Key={"id": {"S": user_id}}))["Item"]
    account_id = user["currentAccountId"]["S"]
    account = (
        await ddb.get_item(TableName=names.table("accounts"), Key={"id": {"S": account_id}})
    )["Item"]
    membership = (
        await ddb.get_item(
            TableName=names.table("memberships"),
            Key={"accountId": {"S": account_id}, "userId": {"S": user_id}},
        )
    )["Item"]
    assert user["email"]["S"] == "grace@example.com"
    assert account["name"]["S"] == "Grace Hopper"
    assert account["level"]["N"] == "0"
    assert account["path"]["S"] == account_id
    assert "parentId" not in account
    assert membership["role"]["S"] == "OWNER"
    pool = await aws.cognito.admin_get_user(
        UserPoolId=settings.cognito_user_pool_id or "", Username="grace@example.com"
    )
    assert pool["Username"] == user_id


async def test_auto_confirm_lets_a_new_user_sign_in_at_once(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"auto_confirm": True}))

    async with live_server(app) as url, httpx.AsyncClient(base_url=url) as http:
        signed_up = await sign_up(http, "linus@example.com", confirm=False)
        session = await sign_in(http, "linus@example.com")

    assert signed_up["userConfirmed"] is True
    assert session["user"]["email"] == "linus@example.com"


async def test_unconfirmed_users_cannot_sign_in(client: httpx.AsyncClient) -> None:
    signed_up = await sign_up(client, "barbara@example.com", confirm=False)

    body = await gql(client, SIGN_IN, {"e": "barbara@example.com", "p": PASSWORD})

    assert signed_up["userConfirmed"] is False
    assert error_codes(body) == ["FORBIDDEN"]
    assert body["errors"][0]["extensions"]["reason"] == "USER_NOT_CONFIRMED"


async def test_wrong_password_and_unknown_email_look_the_same(client: httpx.AsyncClient) -> None:
    await sign_up(client, "alan@example.com")

    wrong = await gql(client, SIGN_IN, {"e": "alan@example.com", "p": "Wr0ng-password!"})
    unknown = await gql(client, SIGN_IN, {"e": "nobody@example.com", "p": "Wr0ng-password!"})

    assert wrong["data"] is None
    assert error_codes(wrong) == error_codes(unknown) == ["UNAUTHENTICATED"]
    assert wrong["errors"][0]["message"] == unknown["errors"][0]["message"]
    assert wrong["errors"][0]["extensions"] == unknown["errors"][0]["extensions"]


@pytest.mark.parametrize(
    "password", ["short1!", "alllowercase1!", "ALLUPPERCASE1!", "NoDigitsHere!", "NoSymbols123"]
)
async def test_weak_passwords_are_refused_with_the_policy_in_words(
    client: httpx.AsyncClient, aws: AwsClients, settings: Settings, password: str
) -> None:
    body = await gql(
        client,
        "mutation($i: SignUpInput!) { signUp(input: $i) { userId } }",
        {"i": {"email": "weak@example.com", "password": password, "name": "W"}},
    )

    assert error_codes(body) == ["BAD_USER_INPUT"]
    error = body["errors"][0]
    assert error["message"] == SPEC.user_pool.password_rule
    assert error["extensions"]["field"] == "password"
    assert error["extensions"]["reason"] == "WEAK_PASSWORD"
    users = await aws.cognito.list_users(UserPoolId=settings.cognito_user_pool_id or "")
    assert users["Users"] == []


@pytest.mark.parametrize(
    ("field", "value"),
    [("email", "not-an-email"), ("name", "   "), ("phone", "12345"), ("company", "x" * 101)],
)
async def test_bad_sign_up_input_names_the_field(
    client: httpx.AsyncClient, field: str, value: str
) -> None:
    data = {"email": "ok@example.com", "password": PASSWORD, "name": "Ok", field: value}

    body = await gql(
        client, "mutation($i: SignUpInput!) { signUp(input: $i) { userId } }", {"i": data}
    )

    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == field


async def test_an_existing_email_is_a_conflict(client: httpx.AsyncClient) -> None:
    await sign_up(client, "taken@example.com")

    body = await gql(
        client,
        "mutation($i: SignUpInput!) { signUp(input: $i) { userId } }",
        {"i": {"email": "TAKEN@example.com", "password": PASSWORD, "name": "Again"}},
    )

    assert error_codes(body) == ["CONFLICT"]


async def test_forgot_password_answers_the_same_for_any_email(client: httpx.AsyncClient) -> None:
    await sign_up(client, "known@example.com")
    mutation = "mutation($e: String!) { forgotPassword(email: $e) }"

    known = await gql(client, mutation, {"e": "known@example.com"})
    unknown = await gql(client, mutation, {"e": "unknown@example.com"})

    assert known == unknown == {"data": {"forgotPassword": True}}


async def test_password_reset_with_the_emailed_code(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    await sign_up(client, "reset@example.com")
    await gql(client, 'mutation { forgotPassword(email: "reset@example.com") }')
    confirm = """
    mutation($c: String!, $p: String!) {
      confirmForgotPassword(email: "reset@example.com", code: $c, newPassword: $p)
    }"""

    wrong = await gql(client, confirm, {"c": "moto-confirmation-code:000000", "p": "N3w-Passw0rd!"})
    weak = await gql(
        client, confirm, {"c": await reset_code(settings, "reset@example.com"), "p": "weak"}
    )
    done = await gql(
        client,
        confirm,
        {"c": await reset_code(settings, "reset@example.com"), "p": "N3w-Passw0rd!"},
    )

    assert error_codes(wrong) == ["BAD_USER_INPUT"]
    assert wrong["errors"][0]["extensions"]["field"] == "code"
    assert weak["errors"][0]["extensions"]["field"] == "newPassword"
    assert done == {"data": {"confirmForgotPassword": True}}
    assert (await sign_in(client, "reset@example.com", "N3w-Passw0rd!"))["accessToken"]


async def test_change_password_needs_the_current_one(client: httpx.AsyncClient) -> None:
    session = await new_user(client, "careful@example.com")
    token = session["accessToken"]

    wrong = await gql(
        client, CHANGE_PASSWORD, {"c": "Not-it-123!", "n": "N3w-Passw0rd!"}, token=token
    )
    weak = await gql(client, CHANGE_PASSWORD, {"c": PASSWORD, "n": "weak"}, token=token)

    assert error_codes(wrong) == ["BAD_USER_INPUT"]
    assert wrong["errors"][0]["extensions"]["reason"] == "INCORRECT_PASSWORD"
    assert weak["errors"][0]["extensions"]["field"] == "newPassword"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": None}, "name"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"phone": "call me"}, "phone"),
    ],
)
async def test_bad_profile_changes_name_the_field(
    client: httpx.AsyncClient, changes: dict[str, Any], field: str
) -> None:
    session = await new_user(client, "profile@example.com")

    body = await gql(client, UPDATE_PROFILE, {"input": changes}, token=session["accessToken"])

    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == field


@pytest.mark.parametrize(
    "operation",
    [
        VIEWER,
        "mutation { signOut }",
        'mutation { changePassword(currentPassword: "a", newPassword: "b") }',
        'mutation { updateProfile(input: {name: "x"}) { name } }',
    ],
)
async def test_signed_in_operations_need_a_token(client: httpx.AsyncClient, operation: str) -> None:
    body = await gql(client, operation)

    assert body["data"] is None
    assert error_codes(body) == ["UNAUTHENTICATED"]


async def test_memberships_page_arguments_are_checked(client: httpx.AsyncClient) -> None:
    session = await new_user(client, "pager@example.com")
    query = """query($f: Int, $a: String) {
      viewer { memberships(first: $f, after: $a) { nodes { role } } }
    }"""

    too_many = await gql(client, query, {"f": 101}, token=session["accessToken"])
    bad_cursor = await gql(client, query, {"a": "bm90LWEtY3Vyc29y"}, token=session["accessToken"])
    default = await gql(client, query, {"f": None}, token=session["accessToken"])

    assert too_many["errors"][0]["extensions"]["field"] == "first"
    assert bad_cursor["errors"][0]["extensions"]["field"] == "after"
    assert default["data"]["viewer"]["memberships"]["nodes"] == [{"role": "OWNER"}]


async def test_node_resolves_the_viewer_and_their_account_only(client: httpx.AsyncClient) -> None:
    ada = await new_user(client, "ada2@example.com")
    bob = await new_user(client, "bob@example.com")
    ada_viewer = (await gql(client, VIEWER, token=ada["accessToken"]))["data"]["viewer"]
    account_id = ada_viewer["currentAccount"]["id"]
    query = "query($id: ID!) { node(id: $id) { __typename id } }"

    own_user = await gql(client, query, {"id": ada_viewer["id"]}, token=ada["accessToken"])
    own_account = await gql(client, query, {"id": account_id}, token=ada["accessToken"])
    other_user = await gql(client, query, {"id": ada_viewer["id"]}, token=bob["accessToken"])
    other_account = await gql(client, query, {"id": account_id}, token=bob["accessToken"])
    anonymous = await gql(client, query, {"id": account_id})

    assert own_user["data"]["node"] == {"__typename": "User", "id": ada_viewer["id"]}
    assert own_account["data"]["node"] == {"__typename": "Account", "id": account_id}
    missing = {"data": {"node": None}}
    for body in (other_user, other_account, anonymous):
        assert {"data": body["data"]} == missing
        assert error_codes(body) == ["NOT_FOUND"]
        assert body["errors"][0]["message"] == "No node with that id."
