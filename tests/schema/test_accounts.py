"""The account tree over HTTP: create, read up and down, update, move, delete, switch."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from listbackup import ids
from listbackup.aws import AwsClients
from listbackup.config import Settings
from tests.helpers import CREATE, error_codes, tenant

TREE = """
query($id: ID!) {
  account(id: $id) {
    id name level
    parent { id }
    ancestors { name }
    children { nodes { name } pageInfo { hasNextPage endCursor } }
    descendants { nodes { name level } pageInfo { hasNextPage } }
  }
}
"""


async def test_a_tree_reads_up_and_down(client: httpx.AsyncClient) -> None:
    ada = await tenant(client, "tree@example.com")
    client_a = await ada.create("Client A", ada.root)
    client_b = await ada.create("Client B", ada.root)
    store_1 = await ada.create("Store 1", client_a)

    root = (await ada.call(TREE, id=ada.root))["data"]["account"]
    leaf = (await ada.call(TREE, id=store_1))["data"]["account"]

    assert [c["name"] for c in root["children"]["nodes"]] == ["Client A", "Client B"]
    assert {d["name"] for d in root["descendants"]["nodes"]} == {"Client A", "Client B", "Store 1"}
    assert root["parent"] is None
    assert root["ancestors"] == []
    assert leaf["level"] == 2
    assert leaf["parent"] == {"id": client_a}
    assert [a["name"] for a in leaf["ancestors"]] == [root["name"], "Client A"]
    assert client_b


UPDATE = """
mutation($id: ID!, $input: UpdateAccountInput!) {
  updateAccount(id: $id, input: $input) {
    name company settings { allowSubAccounts maxSubAccounts defaultRetentionDays timezone }
  }
}
"""
MOVE = "mutation($id: ID!, $to: ID!) { moveAccount(id: $id, newParentId: $to) { id level } }"
DELETE = "mutation($id: ID!) { deleteAccount(id: $id) }"
PATHS = """
query($id: ID!) { account(id: $id) { level parent { id } ancestors { id }
  descendants(first: 100) { nodes { id level } } } }
"""


def reason(body: dict[str, Any]) -> str:
    value: str = body["errors"][0]["extensions"]["reason"]
    return value


async def test_children_and_descendants_page_with_cursors(client: httpx.AsyncClient) -> None:
    ada = await tenant(client, "pages@example.com")
    for n in range(5):
        await ada.create(f"Child {n}", ada.root)
    query = """query($id: ID!, $after: String) { account(id: $id) {
      children(first: 2, after: $after) { nodes { name } pageInfo { hasNextPage endCursor } }
    } }"""

    names: list[str] = []
    after = None
    for _ in range(5):
        page = (await ada.call(query, id=ada.root, after=after))["data"]["account"]["children"]
        names += [n["name"] for n in page["nodes"]]
        after = page["pageInfo"]["endCursor"]
        if not page["pageInfo"]["hasNextPage"]:
            break

    assert names == [f"Child {n}" for n in range(5)]
    bad = await ada.call(query, id=ada.root, after="garbage")
    assert error_codes(bad) == ["BAD_USER_INPUT"]


async def test_update_account_name_company_and_settings(client: httpx.AsyncClient) -> None:
    ada = await tenant(client, "update@example.com")
    settings = {"maxSubAccounts": 3, "defaultRetentionDays": 30, "timezone": "Europe/Paris"}

    first = await ada.call(
        UPDATE, id=ada.root, input={"name": "Acme", "company": "Acme SA", "settings": settings}
    )
    cleared = await ada.call(
        UPDATE, id=ada.root, input={"company": None, "settings": {"maxSubAccounts": None}}
    )

    assert first["data"]["updateAccount"] == {
        "name": "Acme",
        "company": "Acme SA",
        "settings": {
            "allowSubAccounts": True,
            "maxSubAccounts": 3,
            "defaultRetentionDays": 30,
            "timezone": "Europe/Paris",
        },
    }
    account = cleared["data"]["updateAccount"]
    assert account["company"] is None
    assert account["settings"]["maxSubAccounts"] is None
    assert account["settings"]["timezone"] == "Europe/Paris"


@pytest.mark.parametrize(
    "name",
    ["Acme\x00", "Acme\x1b[31m red", "\u202eemoc.emca", "Ac\x7fme", "A\u2066cme\u2069"],
)
async def test_a_name_with_control_characters_is_refused_and_nothing_changes(
    client: httpx.AsyncClient, name: str
) -> None:
    ada = await tenant(client, "controls@example.com")

    refused = await ada.call(UPDATE, id=ada.root, input={"name": name, "company": "Kept"})
    after = await ada.call("query($id: ID!) { account(id: $id) { name company } }", id=ada.root)

    assert error_codes(refused) == ["BAD_USER_INPUT"]
    assert refused["errors"][0]["extensions"]["field"] == "name"
    assert refused["errors"][0]["extensions"]["reason"] == "CONTROL_CHARACTER"
    assert after["data"]["account"]["company"] is None


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"maxSubAccounts": -1}, "settings.maxSubAccounts"),
        ({"defaultRetentionDays": 0}, "settings.defaultRetentionDays"),
        ({"timezone": "Nowhere/Land"}, "settings.timezone"),
    ],
)
async def test_bad_settings_name_the_field(
    client: httpx.AsyncClient, changes: dict[str, Any], field: str
) -> None:
    ada = await tenant(client, "badsettings@example.com")

    body = await ada.call(UPDATE, id=ada.root, input={"settings": changes})

    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == field


async def test_max_sub_accounts_is_enforced(client: httpx.AsyncClient) -> None:
    ada = await tenant(client, "max@example.com")
    await ada.call(UPDATE, id=ada.root, input={"settings": {"maxSubAccounts": 3}})

    results = [await ada.call(CREATE, name=f"Child {n}", parent=ada.root) for n in range(4)]

    assert ["errors" in r for r in results] == [False, False, False, True]
    assert error_codes(results[3]) == ["CONFLICT"]
    assert reason(results[3]) == "MAX_SUB_ACCOUNTS_REACHED"


async def test_sub_accounts_can_be_switched_off(client: httpx.AsyncClient) -> None:
    ada = await tenant(client, "nosubs@example.com")
    await ada.call(UPDATE, id=ada.root, input={"settings": {"allowSubAccounts": False}})

    body = await ada.call(CREATE, name="Nope", parent=ada.root)

    assert error_codes(body) == ["CONFLICT"]
    assert reason(body) == "SUB_ACCOUNTS_NOT_ALLOWED"


async def test_move_takes_the_whole_subtree_along(client: httpx.AsyncClient) -> None:
    ada = await tenant(client, "move@example.com")
    north = await ada.create("North", ada.root)
    south = await ada.create("South", ada.root)
    store = await ada.create("Store", north)
    till = await ada.create("Till", store)

    moved = await ada.call(MOVE, id=store, to=south)
    till_after = (await ada.call(PATHS, id=till))["data"]["account"]
    north_after = (await ada.call(PATHS, id=north))["data"]["account"]
    south_after = (await ada.call(PATHS, id=south))["data"]["account"]

    assert moved["data"]["moveAccount"] == {"id": store, "level": 2}
    assert [a["id"] for a in till_after["ancestors"]] == [ada.root, south, store]
    assert till_after["level"] == 3
    assert north_after["descendants"]["nodes"] == []
    assert {d["id"] for d in south_after["descendants"]["nodes"]} == {store, till}


async def test_move_below_itself_or_a_descendant_is_circular(client: httpx.AsyncClient) -> None:
    ada = await tenant(client, "cycle@example.com")
    child = await ada.create("Child", ada.root)
    grandchild = await ada.create("Grandchild", child)

    for target in (child, grandchild):
        body = await ada.call(MOVE, id=child, to=target)
        assert error_codes(body) == ["CONFLICT"]
        assert reason(body) == "CIRCULAR_HIERARCHY"
    unchanged = (await ada.call(PATHS, id=grandchild))["data"]["account"]
    assert [a["id"] for a in unchanged["ancestors"]] == [ada.root, child]


async def test_move_respects_the_new_parents_limit_and_frees_the_old(
    client: httpx.AsyncClient,
) -> None:
    ada = await tenant(client, "limits@example.com")
    full = await ada.create("Full", ada.root)
    await ada.create("Occupant", full)
    await ada.call(UPDATE, id=full, input={"settings": {"maxSubAccounts": 1}})
    wanderer = await ada.create("Wanderer", ada.root)

    refused = await ada.call(MOVE, id=wanderer, to=full)
    await ada.call(UPDATE, id=ada.root, input={"settings": {"maxSubAccounts": 3}})
    moved = await ada.call(MOVE, id=wanderer, to=(await ada.create("Roomy", ada.root)))
    after_move = await ada.call(CREATE, name="Fits again", parent=ada.root)

    assert reason(refused) == "MAX_SUB_ACCOUNTS_REACHED"
    assert "errors" not in moved
    # Root had Full, Wanderer, Roomy (3/3); Wanderer left, so one more fits.
    assert "errors" not in after_move


async def test_delete_is_refused_while_anything_depends_on_it(
    client: httpx.AsyncClient, aws: AwsClients, settings: Settings
) -> None:
    ada = await tenant(client, "delete@example.com")
    parent = await ada.create("Parent", ada.root)
    child = await ada.create("Child", parent)
    child_key = ids.decode_as(ids.ACCOUNT, child)
    assert child_key

    with_children = await ada.call(DELETE, id=parent)
    for table, expected in (("connections", "HAS_CONNECTIONS"), ("sources", "HAS_SOURCES")):
        item = {
            "id": {"S": f"{table}-1"},
            "accountId": {"S": child_key},
            "createdAt": {"S": "2026-01-01T00:00:00.000Z"},
        }
        await aws.dynamodb.put_item(TableName=settings.names.table(table), Item=item)
        refused = await ada.call(DELETE, id=child)
        await aws.dynamodb.delete_item(
            TableName=settings.names.table(table), Key={"id": item["id"]}
        )
        assert reason(refused) == expected
    deleted = await ada.call(DELETE, id=child)
    gone = await ada.call("query($id: ID!) { account(id: $id) { id } }", id=child)
    parent_deleted = await ada.call(DELETE, id=parent)

    assert reason(with_children) == "HAS_SUB_ACCOUNTS"
    assert deleted == {"data": {"deleteAccount": child}}
    assert error_codes(gone) == ["NOT_FOUND"]
    assert parent_deleted == {"data": {"deleteAccount": parent}}


async def test_switch_account_persists(client: httpx.AsyncClient) -> None:
    ada = await tenant(client, "switch@example.com")
    branch = await ada.create("Branch", ada.root)

    switched = await ada.call(
        "mutation($id: ID!) { switchAccount(accountId: $id) { currentAccount { id } } }", id=branch
    )
    later = await ada.call("{ viewer { currentAccount { id } } }")

    assert switched["data"]["switchAccount"]["currentAccount"]["id"] == branch
    assert later["data"]["viewer"]["currentAccount"]["id"] == branch
