"""Shared test helpers: a live uvicorn server and a GraphQL call over real HTTP."""

from __future__ import annotations

from typing import Any

import httpx


async def gql(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    token: str | None = None,
) -> dict[str, Any]:
    """POST a GraphQL document; return the decoded body (asserting a JSON answer)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
    )
    assert response.headers["content-type"].startswith("application/json"), response.text
    body: dict[str, Any] = response.json()
    return body


def error_codes(body: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in body.get("errors", [])]


PASSWORD = "Passw0rd!x"

SIGN_UP = """
mutation($input: SignUpInput!) { signUp(input: $input) { userConfirmed userId } }
"""
CONFIRM = 'mutation($e: String!) { confirmSignUp(email: $e, code: "123456") }'
SIGN_IN = """
mutation($e: String!, $p: String!) {
  signIn(email: $e, password: $p) {
    accessToken idToken refreshToken expiresIn
    user { id email name lastLoginAt }
  }
}
"""


async def sign_up(
    client: httpx.AsyncClient,
    email: str,
    *,
    password: str = PASSWORD,
    name: str = "Ada Lovelace",
    confirm: bool = True,
    **extra: str,
) -> dict[str, Any]:
    """Sign up over the API (and confirm: moto accepts any code); return signUp's payload."""
    body = await gql(
        client, SIGN_UP, {"input": {"email": email, "password": password, "name": name, **extra}}
    )
    assert "errors" not in body, body
    if confirm and not body["data"]["signUp"]["userConfirmed"]:
        confirmed = await gql(client, CONFIRM, {"e": email})
        assert confirmed == {"data": {"confirmSignUp": True}}, confirmed
    payload: dict[str, Any] = body["data"]["signUp"]
    return payload


async def sign_in(
    client: httpx.AsyncClient, email: str, password: str = PASSWORD
) -> dict[str, Any]:
    body = await gql(client, SIGN_IN, {"e": email, "p": password})
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["signIn"]
    return payload


async def new_user(client: httpx.AsyncClient, email: str) -> dict[str, Any]:
    """A confirmed, signed-in user: the signIn payload (tokens and user)."""
    await sign_up(client, email)
    return await sign_in(client, email)


VIEWER_ACCOUNT = "{ viewer { id currentAccount { id name } } }"
CREATE = """
mutation($name: String!, $parent: ID!) {
  createAccount(input: {name: $name, parentId: $parent}) { id name level parent { id } }
}
"""


class Tenant:
    """A signed-up user calling the API with their token; ``root`` is their root account."""

    def __init__(
        self, client: httpx.AsyncClient, token: str, root_id: str, user_id: str, email: str
    ) -> None:
        self.client = client
        self.token = token
        self.root = root_id
        self.user_id = user_id
        self.email = email

    async def call(self, query: str, **variables: Any) -> dict[str, Any]:
        return await gql(self.client, query, variables, token=self.token)

    async def create(self, name: str, parent: str) -> str:
        body = await self.call(CREATE, name=name, parent=parent)
        assert "errors" not in body, body
        account_id: str = body["data"]["createAccount"]["id"]
        return account_id


async def tenant(client: httpx.AsyncClient, email: str) -> Tenant:
    session = await new_user(client, email)
    viewer = (await gql(client, VIEWER_ACCOUNT, token=session["accessToken"]))["data"]["viewer"]
    return Tenant(
        client, session["accessToken"], viewer["currentAccount"]["id"], viewer["id"], email
    )


INVITE_MEMBER = """
mutation($id: ID!, $email: String!, $role: Role!) {
  inviteMember(accountId: $id, email: $email, role: $role) { id }
}
"""
ACCEPT_INVITATION = "mutation($id: ID!) { acceptInvitation(id: $id) { role } }"


async def join(inviter: Tenant, account_id: str, invitee: Tenant, role: str) -> None:
    """Make ``invitee`` a direct member of the account, invited and accepted over the API."""
    invited = await inviter.call(INVITE_MEMBER, id=account_id, email=invitee.email, role=role)
    assert "errors" not in invited, invited
    accepted = await invitee.call(ACCEPT_INVITATION, id=invited["data"]["inviteMember"]["id"])
    assert accepted == {"data": {"acceptInvitation": {"role": role}}}, accepted
