"""Members over HTTP: direct and inherited listing, roles, the last owner, leaving, current
account."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from listbackup import ids
from tests.helpers import Tenant, error_codes, tenant

INVITE = """
mutation($account: ID!, $email: String!, $role: Role!) {
  inviteMember(accountId: $account, email: $email, role: $role) { id }
}
"""
ACCEPT = "mutation($id: ID!) { acceptInvitation(id: $id) { role } }"
MEMBERS = """
query($id: ID!, $first: Int, $after: String) {
  account(id: $id) {
    members(first: $first, after: $after) {
      nodes { role inherited user { id } }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""
MEMBER_ACCOUNTS = """
query($id: ID!) { account(id: $id) { members { nodes { inherited account { id } } } } }
"""
UPDATE = """
mutation($account: ID!, $user: ID!, $role: Role!, $permissions: [Permission!]) {
  updateMember(accountId: $account, userId: $user, role: $role, permissions: $permissions) {
    role permissions inherited status user { id }
  }
}
"""
REMOVE = "mutation($account: ID!, $user: ID!) { removeMember(accountId: $account, userId: $user) }"
ACCESS = "query($id: ID!) { account(id: $id) { id viewerRole viewerPermissions } }"
NODE = "query($id: ID!) { node(id: $id) { id } }"
CURRENT = "{ viewer { currentAccount { id } } }"
SWITCH = "mutation($id: ID!) { switchAccount(accountId: $id) { id currentAccount { id } } }"
DELETE = "mutation($id: ID!) { deleteAccount(id: $id) }"

MANAGER_DEFAULTS = [
    "CREATE_SUB_ACCOUNTS",
    "INVITE_USERS",
    "MANAGE_INTEGRATIONS",
    "VIEW_ALL_DATA",
    "MODIFY_SETTINGS",
]
ALL_PERMISSIONS = [
    "CREATE_SUB_ACCOUNTS",
    "INVITE_USERS",
    "MANAGE_INTEGRATIONS",
    "VIEW_ALL_DATA",
    "MANAGE_BILLING",
    "DELETE_ACCOUNT",
    "MODIFY_SETTINGS",
]

Row = tuple[str, str, bool]  # (user id, role, inherited)


async def join(inviter: Tenant, member: Tenant, account: str, role: str) -> None:
    invited = await inviter.call(INVITE, account=account, email=member.email, role=role)
    assert "errors" not in invited, invited
    accepted = await member.call(ACCEPT, id=invited["data"]["inviteMember"]["id"])
    assert accepted == {"data": {"acceptInvitation": {"role": role}}}, accepted


def reason(body: dict[str, Any]) -> str | None:
    value: str | None = body["errors"][0]["extensions"].get("reason")
    return value


async def members_page(
    caller: Tenant, account: str, first: int = 50, after: str | None = None
) -> dict[str, Any]:
    body = await caller.call(MEMBERS, id=account, first=first, after=after)
    assert "errors" not in body, body
    page: dict[str, Any] = body["data"]["account"]["members"]
    return page


def rows(page: dict[str, Any]) -> list[Row]:
    return [(n["user"]["id"], n["role"], n["inherited"]) for n in page["nodes"]]


async def all_members(caller: Tenant, account: str) -> list[Row]:
    page = await members_page(caller, account)
    assert page["pageInfo"]["hasNextPage"] is False
    return rows(page)


async def access(caller: Tenant, account: str) -> dict[str, Any] | None:
    body = await caller.call(ACCESS, id=account)
    found: dict[str, Any] | None = body["data"]["account"]
    return found


async def current_account(caller: Tenant) -> str:
    body = await caller.call(CURRENT)
    assert "errors" not in body, body
    current: str = body["data"]["viewer"]["currentAccount"]["id"]
    return current


class Tree:
    """root (Ada OWNER, Bob VIEWER) > region (Carol MANAGER, Dave MANAGER)
    > store (Bob MANAGER, Dave VIEWER)."""

    def __init__(self, ada: Tenant, bob: Tenant, carol: Tenant, dave: Tenant) -> None:
        self.ada, self.bob, self.carol, self.dave = ada, bob, carol, dave
        self.root = ada.root
        self.region = ""
        self.store = ""

    @classmethod
    async def build(cls, client: httpx.AsyncClient) -> Tree:
        tree = cls(
            *[await tenant(client, f"{who}@example.com") for who in ("ada", "bob", "carol", "dave")]
        )
        ada = tree.ada
        tree.region = await ada.create("Region", ada.root)
        tree.store = await ada.create("Store", tree.region)
        await join(ada, tree.bob, tree.root, "VIEWER")
        await join(ada, tree.carol, tree.region, "MANAGER")
        await join(ada, tree.dave, tree.region, "MANAGER")
        await join(ada, tree.bob, tree.store, "MANAGER")
        await join(ada, tree.dave, tree.store, "VIEWER")
        return tree


# ---------------------------------------------------------------- listing


async def test_members_list_direct_then_inherited_each_person_once(
    client: httpx.AsyncClient,
) -> None:
    tree = await Tree.build(client)
    ada, bob, carol, dave = (u.user_id for u in (tree.ada, tree.bob, tree.carol, tree.dave))

    at_root = await all_members(tree.ada, tree.root)
    at_region = await all_members(tree.ada, tree.region)
    at_store = await all_members(tree.ada, tree.store)

    assert sorted(at_root) == sorted([(ada, "OWNER", False), (bob, "VIEWER", False)])
    assert sorted(at_region[:2]) == sorted([(carol, "MANAGER", False), (dave, "MANAGER", False)])
    assert sorted(at_region[2:]) == sorted([(ada, "OWNER", True), (bob, "VIEWER", True)])
    # Nearest first: the region's members, then the root's; Bob and Dave once, as direct.
    assert sorted(at_store[:2]) == sorted([(bob, "MANAGER", False), (dave, "VIEWER", False)])
    assert at_store[2:] == [(carol, "MANAGER", True), (ada, "OWNER", True)]


@pytest.mark.parametrize("first", [1, 2])
async def test_member_pages_cross_the_inherited_boundary_without_gaps_or_repeats(
    client: httpx.AsyncClient, first: int
) -> None:
    tree = await Tree.build(client)
    everyone = await all_members(tree.ada, tree.store)

    paged: list[Row] = []
    after: str | None = None
    for _ in range(len(everyone) * 2 + 2):
        page = await members_page(tree.ada, tree.store, first=first, after=after)
        assert len(page["nodes"]) <= first
        paged += rows(page)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
        assert after
    else:
        pytest.fail("the pages never ended")

    assert len(everyone) == 4
    assert paged == everyone
    assert len({user for user, _, _ in paged}) == len(paged)


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "after",
    [
        "garbage",
        "",
        "!!!",
        _b64("members:minus-one"),
        _b64("members:-1"),
        _b64('{"accountId":"a","userId":"b"}'),
    ],
)
async def test_a_garbage_members_cursor_is_bad_user_input(
    client: httpx.AsyncClient, after: str
) -> None:
    ada = await tenant(client, "ada@example.com")

    body = await ada.call(MEMBERS, id=ada.root, first=1, after=after)

    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == "after"


async def test_members_of_an_account_the_caller_cannot_see_are_not_found(
    client: httpx.AsyncClient,
) -> None:
    ada = await tenant(client, "ada@example.com")
    mallory = await tenant(client, "mallory@example.com")

    body = await mallory.call(MEMBERS, id=ada.root, first=10, after=None)

    assert body["data"] == {"account": None}
    assert error_codes(body) == ["NOT_FOUND"]


async def test_a_sub_account_member_can_read_the_accounts_of_its_members(
    client: httpx.AsyncClient,
) -> None:
    ada = await tenant(client, "ada@example.com")
    carol = await tenant(client, "carol@example.com")
    region = await ada.create("Region", ada.root)
    await join(ada, carol, region, "VIEWER")

    body = await carol.call(MEMBER_ACCOUNTS, id=region)

    assert "errors" not in body, body
    nodes = body["data"]["account"]["members"]["nodes"]
    assert {"inherited": False, "account": {"id": region}} in nodes
    assert len(nodes) == 2


# ---------------------------------------------------------------- updateMember


@pytest.mark.parametrize(
    ("role", "permissions", "expected"),
    [
        (
            "MANAGER",
            ["VIEW_ALL_DATA", "MANAGE_INTEGRATIONS"],
            ["MANAGE_INTEGRATIONS", "VIEW_ALL_DATA"],
        ),
        ("MANAGER", None, MANAGER_DEFAULTS),
        ("VIEWER", [], []),
        ("OWNER", None, ALL_PERMISSIONS),
    ],
)
async def test_update_member_changes_role_and_permissions(
    client: httpx.AsyncClient, role: str, permissions: list[str] | None, expected: list[str]
) -> None:
    ada = await tenant(client, "ada@example.com")
    bob = await tenant(client, "bob@example.com")
    await join(ada, bob, ada.root, "VIEWER")

    body = await ada.call(
        UPDATE, account=ada.root, user=bob.user_id, role=role, permissions=permissions
    )

    assert body == {
        "data": {
            "updateMember": {
                "role": role,
                "permissions": expected,
                "inherited": False,
                "status": "ACTIVE",
                "user": {"id": bob.user_id},
            }
        }
    }
    assert await access(bob, ada.root) == {
        "id": ada.root,
        "viewerRole": role,
        "viewerPermissions": expected,
    }
    assert (bob.user_id, role, False) in await all_members(ada, ada.root)


async def test_null_permissions_restore_the_role_defaults(client: httpx.AsyncClient) -> None:
    ada = await tenant(client, "ada@example.com")
    bob = await tenant(client, "bob@example.com")
    await join(ada, bob, ada.root, "MANAGER")
    explicit = await ada.call(
        UPDATE, account=ada.root, user=bob.user_id, role="MANAGER", permissions=["VIEW_ALL_DATA"]
    )
    narrowed = await access(bob, ada.root)

    reset = await ada.call(
        UPDATE, account=ada.root, user=bob.user_id, role="MANAGER", permissions=None
    )

    assert explicit["data"]["updateMember"]["permissions"] == ["VIEW_ALL_DATA"]
    assert narrowed is not None
    assert narrowed["viewerPermissions"] == ["VIEW_ALL_DATA"]
    assert reset["data"]["updateMember"]["permissions"] == MANAGER_DEFAULTS
    restored = await access(bob, ada.root)
    assert restored is not None
    assert restored["viewerPermissions"] == MANAGER_DEFAULTS


@pytest.mark.parametrize("target", ["stranger", "inherited", "unknown id", "garbage id"])
async def test_update_member_of_a_non_member_is_not_found(
    client: httpx.AsyncClient, target: str
) -> None:
    ada = await tenant(client, "ada@example.com")
    bob = await tenant(client, "bob@example.com")
    branch = await ada.create("Branch", ada.root)
    account = ada.root
    user_id = {
        "stranger": bob.user_id,
        "inherited": ada.user_id,
        "unknown id": ids.encode(ids.USER, "nobody"),
        "garbage id": "garbage",
    }[target]
    if target == "inherited":
        account = branch  # Ada owns the root, so she is only an inherited member here

    body = await ada.call(UPDATE, account=account, user=user_id, role="VIEWER", permissions=None)

    assert body["data"] is None
    assert error_codes(body) == ["NOT_FOUND"]
    me = await access(ada, account)
    assert me is not None
    assert me["viewerRole"] == "OWNER"


@pytest.mark.parametrize(
    ("role", "permissions", "why"),
    [
        ("OWNER", None, "OWNER_REQUIRED"),
        ("MANAGER", ["VIEW_ALL_DATA", "DELETE_ACCOUNT"], "PERMISSION_ESCALATION"),
    ],
)
async def test_a_manager_cannot_grant_more_than_they_hold(
    client: httpx.AsyncClient, role: str, permissions: list[str] | None, why: str
) -> None:
    ada = await tenant(client, "ada@example.com")
    bob = await tenant(client, "bob@example.com")
    carol = await tenant(client, "carol@example.com")
    await join(ada, bob, ada.root, "MANAGER")
    await join(ada, carol, ada.root, "VIEWER")

    body = await bob.call(
        UPDATE, account=ada.root, user=carol.user_id, role=role, permissions=permissions
    )

    assert error_codes(body) == ["FORBIDDEN"]
    assert reason(body) == why
    assert (carol.user_id, "VIEWER", False) in await all_members(ada, ada.root)


# ---------------------------------------------------------------- the last owner


@pytest.mark.parametrize("action", ["demote", "remove"])
async def test_the_only_owner_of_a_root_account_stays(
    client: httpx.AsyncClient, action: str
) -> None:
    ada = await tenant(client, "ada@example.com")

    if action == "demote":
        body = await ada.call(
            UPDATE, account=ada.root, user=ada.user_id, role="MANAGER", permissions=None
        )
    else:
        body = await ada.call(REMOVE, account=ada.root, user=ada.user_id)

    assert body["data"] is None
    assert error_codes(body) == ["CONFLICT"]
    assert reason(body) == "LAST_OWNER"
    assert await all_members(ada, ada.root) == [(ada.user_id, "OWNER", False)]
    assert await access(ada, ada.root) == {
        "id": ada.root,
        "viewerRole": "OWNER",
        "viewerPermissions": ALL_PERMISSIONS,
    }


@pytest.mark.parametrize("action", ["demote", "remove"])
async def test_one_of_two_root_owners_can_step_down(client: httpx.AsyncClient, action: str) -> None:
    ada = await tenant(client, "ada@example.com")
    bob = await tenant(client, "bob@example.com")
    await join(ada, bob, ada.root, "OWNER")

    if action == "demote":
        stepped = await ada.call(
            UPDATE, account=ada.root, user=ada.user_id, role="MANAGER", permissions=None
        )
    else:
        stepped = await ada.call(REMOVE, account=ada.root, user=ada.user_id)
    bob_last = await bob.call(REMOVE, account=ada.root, user=bob.user_id)

    assert "errors" not in stepped, stepped
    assert error_codes(bob_last) == ["CONFLICT"]
    assert reason(bob_last) == "LAST_OWNER"
    expected = [(bob.user_id, "OWNER", False)]
    if action == "demote":
        expected.append((ada.user_id, "MANAGER", False))
    assert sorted(await all_members(bob, ada.root)) == sorted(expected)


@pytest.mark.parametrize("action", ["removed by an owner above", "leaves", "demoted"])
async def test_a_sub_account_may_lose_its_only_direct_owner(
    client: httpx.AsyncClient, action: str
) -> None:
    ada = await tenant(client, "ada@example.com")
    bob = await tenant(client, "bob@example.com")
    branch = await ada.create("Branch", ada.root)
    await join(ada, bob, branch, "OWNER")

    if action == "removed by an owner above":
        body = await ada.call(REMOVE, account=branch, user=bob.user_id)
    elif action == "leaves":
        body = await bob.call(REMOVE, account=branch, user=bob.user_id)
    else:
        body = await ada.call(
            UPDATE, account=branch, user=bob.user_id, role="VIEWER", permissions=None
        )

    assert "errors" not in body, body
    members = await all_members(ada, branch)
    assert (ada.user_id, "OWNER", True) in members
    assert (bob.user_id, "OWNER", False) not in members
    owner_here = await access(ada, branch)
    assert owner_here is not None
    assert owner_here["viewerRole"] == "OWNER"


# ---------------------------------------------------------------- leaving


async def test_a_viewer_can_leave_and_then_sees_nothing_of_the_tree(
    client: httpx.AsyncClient,
) -> None:
    ada = await tenant(client, "ada@example.com")
    bob = await tenant(client, "bob@example.com")
    carol = await tenant(client, "carol@example.com")
    branch = await ada.create("Branch", ada.root)
    await join(ada, bob, ada.root, "VIEWER")
    await join(ada, carol, ada.root, "VIEWER")
    before = await access(bob, ada.root)
    branch_before = await access(bob, branch)

    remove_carol = await bob.call(REMOVE, account=ada.root, user=carol.user_id)
    leave = await bob.call(REMOVE, account=ada.root, user=bob.user_id)

    assert before is not None
    assert before["viewerPermissions"] == ["VIEW_ALL_DATA"]
    assert branch_before is not None
    assert error_codes(remove_carol) == ["FORBIDDEN"]
    assert leave == {"data": {"removeMember": True}}
    for account in (ada.root, branch):
        gone = await bob.call(ACCESS, id=account)
        assert gone["data"] == {"account": None}
        assert error_codes(gone) == ["NOT_FOUND"]
        as_node = await bob.call(NODE, id=account)
        assert as_node["data"] == {"node": None}
        assert error_codes(as_node) == ["NOT_FOUND"]
    assert sorted(await all_members(ada, ada.root)) == sorted(
        [(ada.user_id, "OWNER", False), (carol.user_id, "VIEWER", False)]
    )


async def test_leaving_an_account_you_only_inherit_is_not_found(
    client: httpx.AsyncClient,
) -> None:
    ada = await tenant(client, "ada@example.com")
    bob = await tenant(client, "bob@example.com")
    branch = await ada.create("Branch", ada.root)
    await join(ada, bob, ada.root, "VIEWER")

    body = await bob.call(REMOVE, account=branch, user=bob.user_id)

    assert error_codes(body) == ["NOT_FOUND"]
    assert await access(bob, branch) is not None


# ---------------------------------------------------------------- current account


async def test_switch_account_persists_across_requests(client: httpx.AsyncClient) -> None:
    ada = await tenant(client, "ada@example.com")
    bob = await tenant(client, "bob@example.com")
    branch = await ada.create("Branch", ada.root)
    await join(ada, bob, ada.root, "VIEWER")
    initially = await current_account(bob)

    switched = await bob.call(SWITCH, id=branch)
    unseen = await bob.call(SWITCH, id=ids.encode(ids.ACCOUNT, "nowhere"))

    assert initially == bob.root
    assert switched == {
        "data": {"switchAccount": {"id": bob.user_id, "currentAccount": {"id": branch}}}
    }
    assert error_codes(unseen) == ["NOT_FOUND"]
    assert await current_account(bob) == branch


async def test_a_removed_member_falls_back_to_their_root_account(
    client: httpx.AsyncClient,
) -> None:
    ada = await tenant(client, "ada@example.com")
    bob = await tenant(client, "bob@example.com")
    await join(ada, bob, ada.root, "MANAGER")
    assert "errors" not in await bob.call(SWITCH, id=ada.root)
    assert await current_account(bob) == ada.root

    removed = await ada.call(REMOVE, account=ada.root, user=bob.user_id)

    assert removed == {"data": {"removeMember": True}}
    assert await current_account(bob) == bob.root


async def test_deleting_someones_current_account_falls_back_to_their_root(
    client: httpx.AsyncClient,
) -> None:
    ada = await tenant(client, "ada@example.com")
    bob = await tenant(client, "bob@example.com")
    branch = await ada.create("Branch", ada.root)
    await join(ada, bob, branch, "VIEWER")
    for user in (ada, bob):
        assert "errors" not in await user.call(SWITCH, id=branch)
        assert await current_account(user) == branch

    deleted = await ada.call(DELETE, id=branch)

    assert deleted == {"data": {"deleteAccount": branch}}
    assert await current_account(ada) == ada.root
    assert await current_account(bob) == bob.root
