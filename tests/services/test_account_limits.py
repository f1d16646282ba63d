"""The sub-account limit holds in DynamoDB itself, not only in a check before writing.

Concurrent requests all pass the service's check on what they read; the transaction's
condition on the parent's child count is what refuses the extra ones: shown by a real
race over HTTP (the local AWS applies each DynamoDB request atomically, as DynamoDB
does) and, deterministically, by a create from a stale read.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime

import httpx
import pytest

from listbackup.deps import Deps
from listbackup.errors import ConflictError
from listbackup.loaders import Loaders
from listbackup.models.accounts import Account, AccountSettings, Membership, Role
from listbackup.models.users import Principal, User
from listbackup.services import accounts
from tests.helpers import CREATE, error_codes, tenant

NOW = datetime(2026, 6, 1, tzinfo=UTC)


async def test_a_create_from_a_stale_read_is_refused_by_the_condition(deps: Deps) -> None:
    store = deps.store
    user = User(id="owner", email="owner@example.com", name="Owner", created_at=NOW)
    root = Account(
        id="root",
        name="Root",
        path=("root",),
        created_at=NOW,
        owner_count=1,
        member_ids=frozenset({"owner"}),
        settings=AccountSettings(max_sub_accounts=1),
    )
    await store.transact(
        [
            store.users.put_new(user),
            store.accounts.put_new(root),
            store.memberships.put_new(Membership("root", "owner", Role.OWNER, NOW)),
        ]
    )
    principal = Principal(user=user, access_token="unused")

    first = await accounts.create(
        deps, principal=principal, name="First", parent_id="root", company=None
    )
    # A second request read the parent before the first wrote: it still sees 0 children.
    stale = Loaders(store, clock=deps.clock)
    stale.account.prime("root", replace(root, child_count=0))
    with pytest.raises(ConflictError) as refused:
        await accounts.create(
            replace(deps, loaders=stale),
            principal=principal,
            name="Second",
            parent_id="root",
            company=None,
        )

    [parent] = await store.accounts.get_many(["root"])
    assert first.parent_id == "root"
    assert refused.value.reason == "MAX_SUB_ACCOUNTS_REACHED"
    assert parent is not None
    assert parent.child_count == 1


async def test_concurrent_creates_cannot_overshoot_the_limit(client: httpx.AsyncClient) -> None:
    ada = await tenant(client, "race@example.com")
    await ada.call(
        "mutation($id: ID!) {"
        " updateAccount(id: $id, input: {settings: {maxSubAccounts: 3}}) { id } }",
        id=ada.root,
    )

    results = await asyncio.gather(
        *(ada.call(CREATE, name=f"Child {n}", parent=ada.root) for n in range(10))
    )
    children = await ada.call(
        "query($id: ID!) { account(id: $id) { children { nodes { id } } } }", id=ada.root
    )

    created = [r for r in results if "errors" not in r]
    assert len(created) == 3
    assert all(error_codes(r) == ["CONFLICT"] for r in results if "errors" in r)
    assert len(children["data"]["account"]["children"]["nodes"]) == 3
