"""``first`` on every paged field: 0 is an empty page, 1..100 a page, anything else refused."""

from __future__ import annotations

from typing import Any

import httpx

from listbackup import ids
from tests.helpers import Tenant, tenant

PAGE = "{ nodes { __typename } pageInfo { hasNextPage endCursor } }"
PAGE_FIELDS = [
    ("viewer", "memberships"),
    ("account", "children"),
    ("account", "descendants"),
    ("account", "members"),
    ("account", "invitations"),
    ("account", "connections"),
]


def paged(parent: str, field: str) -> str:
    """One paged field, asked for ``$n`` items."""
    if parent == "viewer":
        return f"query($n: Int) {{ viewer {{ {field}(first: $n) {PAGE} }} }}"
    return f"query($id: ID!, $n: Int) {{ account(id: $id) {{ {field}(first: $n) {PAGE} }} }}"


async def owner_with_one_of_everything(client: httpx.AsyncClient) -> Tenant:
    ada = await tenant(client, "pager@example.com")
    await ada.create("Child", ada.root)
    invited = await ada.call(
        'mutation($a: ID!) { inviteMember(accountId: $a, email: "b@example.com", role: VIEWER)'
        " { id } }",
        a=ada.root,
    )
    connected = await ada.call(
        "mutation($input: ApiKeyConnectionInput!) { createApiKeyConnection(input: $input) { id } }",
        input={
            "accountId": ada.root,
            "platformId": ids.encode(ids.PLATFORM, "demo"),
            "name": "Demo",
            "credentials": {"apiKey": "demo-key-0123456789"},
        },
    )
    assert "errors" not in invited, invited
    assert "errors" not in connected, connected
    return ada


async def page(ada: Tenant, parent: str, field: str, first: int) -> dict[str, Any]:
    variables = {"n": first} if parent == "viewer" else {"n": first, "id": ada.root}
    return await ada.call(paged(parent, field), **variables)


async def test_first_zero_is_an_empty_page_on_every_paged_field(
    client: httpx.AsyncClient,
) -> None:
    ada = await owner_with_one_of_everything(client)

    for parent, field in PAGE_FIELDS:
        empty = await page(ada, parent, field, 0)
        one = await page(ada, parent, field, 1)

        assert empty == {
            "data": {
                parent: {
                    field: {"nodes": [], "pageInfo": {"hasNextPage": False, "endCursor": None}}
                }
            }
        }, field
        assert len(one["data"][parent][field]["nodes"]) == 1, one  # not for want of items


async def test_first_outside_0_to_100_is_refused_on_every_paged_field(
    client: httpx.AsyncClient,
) -> None:
    ada = await tenant(client, "pager@example.com")

    for first in (-1, 101):
        for parent, field in PAGE_FIELDS:
            body = await page(ada, parent, field, first)

            [error] = body["errors"]
            assert error["path"] == [parent, field]
            assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "first"}
            assert error["message"] == "first must be between 0 and 100."
