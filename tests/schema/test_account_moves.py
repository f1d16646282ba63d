"""moveAccount's rules over HTTP: an account stays in its root's tree, a root stays put, a
move needs owner-level rights and never raises the mover's own access, and two moves
crossing each other end in one move and one CONFLICT."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from listbackup.aws import AwsClients
from listbackup.config import Settings
from listbackup.models.accounts import Account
from listbackup.store.accounts import AccountStore
from tests.aws_state import snapshot
from tests.helpers import Tenant, error_codes, join, tenant

MOVE = "mutation($id: ID!, $to: ID!) { moveAccount(id: $id, newParentId: $to) { id level } }"
REMOVE_MEMBER = """
mutation($account: ID!, $user: ID!) { removeMember(accountId: $account, userId: $user) }
"""
UPDATE_MEMBER = """
mutation($account: ID!, $user: ID!, $role: Role!, $permissions: [Permission!]) {
  updateMember(accountId: $account, userId: $user, role: $role, permissions: $permissions) {
    role
  }
}
"""
PLACE = """
query($id: ID!) {
  account(id: $id) { parent { id } level children { nodes { id } } viewerRole }
}
"""


def refusal(body: dict[str, Any]) -> tuple[list[str], str | None]:
    codes = error_codes(body)
    reason = body["errors"][0]["extensions"].get("reason") if codes else None
    return codes, reason


async def place(caller: Tenant, account_id: str) -> dict[str, Any] | None:
    body = await caller.call(PLACE, id=account_id)
    found: dict[str, Any] | None = body["data"]["account"]
    return found


async def test_manager_cannot_take_over_an_organisation_by_moving_its_root(
    client: httpx.AsyncClient, aws: AwsClients, settings: Settings
) -> None:
    ada, bob = await asyncio.gather(
        tenant(client, "ada@example.com"), tenant(client, "bob@example.com")
    )
    await join(ada, ada.root, bob, "MANAGER")
    before = await snapshot(aws, settings)

    moved = await bob.call(MOVE, id=ada.root, to=bob.root)
    removed = await bob.call(REMOVE_MEMBER, account=ada.root, user=ada.user_id)

    assert refusal(moved) == (["FORBIDDEN"], "ROOT_ACCOUNT")
    assert refusal(removed) == (["FORBIDDEN"], "OWNER_REQUIRED")
    assert await snapshot(aws, settings) == before
    assert (await place(bob, ada.root)) == {
        "parent": None,
        "level": 0,
        "children": {"nodes": []},
        "viewerRole": "MANAGER",
    }


async def test_a_root_stays_a_root_even_for_its_owner(client: httpx.AsyncClient) -> None:
    ada, bob = await asyncio.gather(
        tenant(client, "ada@example.com"), tenant(client, "bob@example.com")
    )
    child = await ada.create("Child", ada.root)
    await join(bob, bob.root, ada, "OWNER")

    under_own_child = await ada.call(MOVE, id=ada.root, to=child)
    into_a_tree_she_also_owns = await ada.call(MOVE, id=ada.root, to=bob.root)

    assert refusal(under_own_child) == (["FORBIDDEN"], "ROOT_ACCOUNT")
    assert refusal(into_a_tree_she_also_owns) == (["FORBIDDEN"], "ROOT_ACCOUNT")
    assert (await place(ada, ada.root) or {}).get("parent") is None


@pytest.mark.parametrize("role", ["MANAGER", "OWNER"])
async def test_manager_of_a_shared_sub_account_cannot_carry_it_off_into_their_own_tree(
    client: httpx.AsyncClient, aws: AwsClients, settings: Settings, role: str
) -> None:
    ada, bob = await asyncio.gather(
        tenant(client, "ada@example.com"), tenant(client, "bob@example.com")
    )
    shared = await ada.create("Shared", ada.root)
    below = await ada.create("Below shared", shared)
    bobs_own = await bob.create("Bob's own", bob.root)
    await join(ada, shared, bob, role)
    before = await snapshot(aws, settings)

    answers = {
        "shared into Bob's root": await bob.call(MOVE, id=shared, to=bob.root),
        "below shared into Bob's tree": await bob.call(MOVE, id=below, to=bobs_own),
        "Bob's own into Ada's tree": await bob.call(MOVE, id=bobs_own, to=shared),
    }

    assert {name: refusal(body) for name, body in answers.items()} == {
        name: (["FORBIDDEN"], "CROSS_TREE_MOVE") for name in answers
    }
    assert await snapshot(aws, settings) == before
    assert (await place(ada, shared) or {}).get("parent") == {"id": ada.root}


#: A membership: its role and explicit permissions (None: the role's).
Held = tuple[str, Sequence[str] | None]


@dataclass(frozen=True, slots=True)
class Mover:
    on_account: Held
    on_parent: Held
    #: Whether moving the account under the parent would raise the mover's access to it.
    rises: bool


MOVERS = [
    pytest.param(
        Mover(("OWNER", ["DELETE_ACCOUNT", "VIEW_ALL_DATA"]), ("MANAGER", None), rises=True),
        id="restricted-owner-would-gain-a-managers-permissions",
    ),
    pytest.param(
        Mover(
            ("VIEWER", ["DELETE_ACCOUNT", "VIEW_ALL_DATA"]),
            ("OWNER", ["CREATE_SUB_ACCOUNTS", "VIEW_ALL_DATA"]),
            rises=True,
        ),
        id="viewer-would-become-owner",
    ),
    pytest.param(
        Mover(("OWNER", None), ("MANAGER", None), rises=False), id="owner-under-a-managed-parent"
    ),
]


@pytest.mark.parametrize("mover", MOVERS)
async def test_a_move_never_raises_the_movers_own_access(
    client: httpx.AsyncClient, aws: AwsClients, settings: Settings, mover: Mover
) -> None:
    ada, bob = await asyncio.gather(
        tenant(client, "ada@example.com"), tenant(client, "bob@example.com")
    )
    moving = await ada.create("Moving", ada.root)
    parent = await ada.create("New parent", ada.root)
    for account_id, (role, permissions) in ((moving, mover.on_account), (parent, mover.on_parent)):
        await join(ada, account_id, bob, role)
        if permissions is not None:
            changed = await ada.call(
                UPDATE_MEMBER, account=account_id, user=bob.user_id, role=role,
                permissions=permissions,
            )  # fmt: skip
            assert "errors" not in changed, changed
    role_before = (await place(bob, moving) or {}).get("viewerRole")
    before = await snapshot(aws, settings)

    body = await bob.call(MOVE, id=moving, to=parent)

    seen = await place(ada, moving)
    assert seen is not None
    if mover.rises:
        assert refusal(body) == (["FORBIDDEN"], "PERMISSION_ESCALATION")
        assert await snapshot(aws, settings) == before
        assert seen["parent"] == {"id": ada.root}
    else:
        assert body == {"data": {"moveAccount": {"id": moving, "level": 2}}}
        assert seen["parent"] == {"id": parent}
        assert (await place(bob, moving) or {}).get("viewerRole") == role_before


async def test_two_moves_crossing_each_other_end_in_one_move_and_one_conflict(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    ada = await tenant(client, "ada@example.com")
    east = await ada.create("East", ada.root)
    west = await ada.create("West", ada.root)
    read_subtree = AccountStore.subtree
    crossing: list[dict[str, Any]] = []

    async def subtree_read_after_a_crossing_move(
        store: AccountStore, root_id: str, path: Sequence[str]
    ) -> list[Account]:
        # The first move has checked both accounts; the crossing one now runs to the end.
        if not crossing:
            crossing.append({})
            crossing[0] = await ada.call(MOVE, id=west, to=east)
        return await read_subtree(store, root_id, path)

    monkeypatch.setattr(AccountStore, "subtree", subtree_read_after_a_crossing_move)

    first = await ada.call(MOVE, id=east, to=west)

    assert refusal(first) == (["CONFLICT"], "CIRCULAR_HIERARCHY")
    assert crossing == [{"data": {"moveAccount": {"id": west, "level": 2}}}]
    assert await place(ada, east) == {
        "parent": {"id": ada.root},
        "level": 1,
        "children": {"nodes": [{"id": west}]},
        "viewerRole": "OWNER",
    }
    assert await place(ada, ada.root) == {
        "parent": None,
        "level": 0,
        "children": {"nodes": [{"id": east}]},
        "viewerRole": "OWNER",
    }
