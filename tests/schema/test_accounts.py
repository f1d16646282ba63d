"""The account tree over HTTP: create, read up and down, update, move, delete, switch."""

from __future__ import annotations

import httpx

from tests.helpers import tenant

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
