"""Moving a subtree too large for one transaction: journaled, batched, resumable."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from listbackup.aws import AwsClients
from listbackup.deps import Deps
from listbackup.models.accounts import Account, Membership, Role
from listbackup.models.users import Principal, User
from listbackup.services import accounts
from listbackup.store import Store
from listbackup.store.accounts import to_item_data
from listbackup.store.dynamo import batch_write
from listbackup.store.moves import Move

NOW = datetime(2026, 6, 1, tzinfo=UTC)
LEAVES = 150


def _account(path: tuple[str, ...], **extra: object) -> Account:
    return Account(id=path[-1], name=path[-1], path=path, created_at=NOW, **extra)  # type: ignore[arg-type]


@pytest.fixture
async def forest(aws: AwsClients, deps: Deps) -> tuple[Deps, Principal]:
    """root -> {west, east}; west -> big -> 150 leaves. The principal owns root."""
    deps = replace(deps, clock=lambda: NOW)
    store = deps.store
    user = User(id="owner", email="owner@example.com", name="Owner", created_at=NOW)
    tree = [
        _account(("root",), child_count=2, owner_count=1, member_ids=frozenset({"owner"})),
        _account(("root", "west"), child_count=1),
        _account(("root", "east")),
        _account(("root", "west", "big"), child_count=LEAVES),
        *(_account(("root", "west", "big", f"leaf-{n:03}")) for n in range(LEAVES)),
    ]
    await batch_write(aws.dynamodb, store.accounts.table, puts=[to_item_data(a) for a in tree])
    await store.transact(
        [
            store.users.put_new(user),
            store.memberships.put_new(Membership("root", "owner", Role.OWNER, NOW)),
        ]
    )
    return deps, Principal(user=user, access_token="unused")


async def _paths(store: Store) -> dict[str, tuple[str, ...]]:
    ids = ["root", "west", "east", "big", *(f"leaf-{n:03}" for n in range(LEAVES))]
    found = await store.accounts.get_many(ids)
    return {a.id: a.path for a in found if a is not None}


async def test_a_large_subtree_moves_whole(forest: tuple[Deps, Principal]) -> None:
    deps, principal = forest
    store = deps.store

    moved = await accounts.move(deps, principal=principal, account_id="big", new_parent_id="east")

    paths = await _paths(store)
    assert moved.path == ("root", "east", "big")
    assert all(
        paths[f"leaf-{n:03}"] == ("root", "east", "big", f"leaf-{n:03}") for n in range(LEAVES)
    )
    west, east = await store.accounts.get_many(["west", "east"])
    assert west is not None
    assert west.child_count == 0
    assert east is not None
    assert east.child_count == 1
    assert await store.moves.pending() == []


async def test_a_move_cut_short_is_finished_by_resume(forest: tuple[Deps, Principal]) -> None:
    deps, _ = forest
    store = deps.store
    [big, west, east] = await store.accounts.get_many(["big", "west", "east"])
    assert big
    assert west
    assert east
    new_path = ("root", "east", "big")
    # What move() writes before it starts on the leaves, then a crash after 40 leaves.
    await store.transact(
        [
            store.moves.put_new(Move("big", big.path, new_path, NOW)),
            store.accounts.moved(big, new_path),
            store.accounts.add_child(east, max_children=None),
            store.accounts.remove_child("west"),
        ]
    )
    leaves = await store.accounts.get_many([f"leaf-{n:03}" for n in range(40)])
    await store.transact(
        [store.accounts.moved(leaf, (*new_path, leaf.id)) for leaf in leaves if leaf]
    )

    resumed = await accounts.resume_moves(deps)
    again = await accounts.resume_moves(deps)

    paths = await _paths(store)
    assert resumed == 1
    assert again == 0
    assert {paths[f"leaf-{n:03}"][:3] for n in range(LEAVES)} == {new_path}
    assert await store.accounts.subtree("root", ("root", "west", "big")) == []
