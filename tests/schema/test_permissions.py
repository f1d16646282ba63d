"""The permission matrix over HTTP: each role, held on the account itself or inherited from
its parent, against every tenancy mutation and ``Account.invitations``.

The expected outcomes come from the tables below (the product's rules), never from the
application's own role table.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.helpers import Tenant, error_codes, tenant

PERMISSIONS = frozenset(
    {
        "CREATE_SUB_ACCOUNTS",
        "INVITE_USERS",
        "MANAGE_INTEGRATIONS",
        "VIEW_ALL_DATA",
        "MANAGE_BILLING",
        "DELETE_ACCOUNT",
        "MODIFY_SETTINGS",
    }
)
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "OWNER": PERMISSIONS,
    "MANAGER": PERMISSIONS - {"MANAGE_BILLING", "DELETE_ACCOUNT"},
    "VIEWER": frozenset({"VIEW_ALL_DATA"}),
}
ROLES = list(ROLE_PERMISSIONS)
RANK = {"VIEWER": 1, "MANAGER": 2, "OWNER": 3}
#: What each operation needs on the account it acts on. moveAccount: DELETE_ACCOUNT on the
#: account and CREATE_SUB_ACCOUNTS on the new parent (see MOVE_NEEDS), where the matrix
#: gives the actor the same access. Nobody grants what they lack, so inviting a VIEWER
#: also needs a VIEWER's permissions, and making a VIEWER a MANAGER a MANAGER's. Leaving
#: an account (removeMember on yourself) needs nothing.
NEEDS: dict[str, frozenset[str]] = {
    "Account.invitations": frozenset({"INVITE_USERS"}),
    "createAccount": frozenset({"CREATE_SUB_ACCOUNTS"}),
    "updateAccount": frozenset({"MODIFY_SETTINGS"}),
    "moveAccount": frozenset({"DELETE_ACCOUNT", "CREATE_SUB_ACCOUNTS"}),
    "deleteAccount": frozenset({"DELETE_ACCOUNT"}),
    "switchAccount": frozenset(),
    "inviteMember(VIEWER)": frozenset({"INVITE_USERS"}) | ROLE_PERMISSIONS["VIEWER"],
    "revokeInvitation": frozenset({"INVITE_USERS"}),
    "updateMember(VIEWER to MANAGER)": frozenset({"INVITE_USERS"}) | ROLE_PERMISSIONS["MANAGER"],
    "removeMember": frozenset({"INVITE_USERS"}),
    "removeMember(self)": frozenset(),
}
MOVE_NEEDS = {"account": "DELETE_ACCOUNT", "new parent": "CREATE_SUB_ACCOUNTS"}
#: Operations aimed at an object that is itself hidden without a permission. Invitations
#: are shown to their invitee and to those who may invite (node(id:) and
#: Account.invitations), and what you cannot see answers NOT_FOUND, not FORBIDDEN.
HIDDEN_WITHOUT = {"revokeInvitation": "INVITE_USERS"}
MODES = ["direct", "inherited"]
ALLOWED = "allowed"


def expected(held: frozenset[str], operation: str) -> str:
    """The outcome the rules give someone holding ``held`` on the accounts involved."""
    if NEEDS[operation] <= held:
        return ALLOWED
    if operation in HIDDEN_WITHOUT and HIDDEN_WITHOUT[operation] not in held:
        return "NOT_FOUND"
    return "FORBIDDEN"


def outcome(body: dict[str, Any], took_effect: bool) -> str:
    """ALLOWED when it answered without error and did what it says; the error code when it
    refused and changed nothing; anything else spelled out."""
    codes = error_codes(body)
    if not codes and took_effect:
        return ALLOWED
    if len(codes) == 1 and not took_effect:
        return codes[0]
    return f"answered {body} and {'did' if took_effect else 'did not'} take effect"


INVITE = """
mutation($id: ID!, $email: String!, $role: Role!) {
  inviteMember(accountId: $id, email: $email, role: $role) { id email role }
}
"""
ACCEPT = "mutation($id: ID!) { acceptInvitation(id: $id) { role } }"
INVITATIONS = "query($id: ID!) { account(id: $id) { invitations { nodes { id } } } }"
CREATE = """
mutation($parent: ID!) {
  createAccount(input: {name: "Made by the actor", parentId: $parent}) { id }
}
"""
UPDATE = """
mutation($id: ID!) { updateAccount(id: $id, input: {name: "Renamed by the actor"}) { name } }
"""
MOVE = "mutation($id: ID!, $to: ID!) { moveAccount(id: $id, newParentId: $to) { id } }"
DELETE = "mutation($id: ID!) { deleteAccount(id: $id) }"
SWITCH = "mutation($id: ID!) { switchAccount(accountId: $id) { currentAccount { id } } }"
CURRENT = "{ viewer { currentAccount { id } } }"
REVOKE = "mutation($id: ID!) { revokeInvitation(id: $id) { status } }"
UPDATE_MEMBER = """
mutation($account: ID!, $user: ID!, $role: Role!, $permissions: [Permission!]) {
  updateMember(accountId: $account, userId: $user, role: $role, permissions: $permissions) {
    role permissions inherited
  }
}
"""
REMOVE_MEMBER = """
mutation($account: ID!, $user: ID!) { removeMember(accountId: $account, userId: $user) }
"""
#: Everything an effect check needs, read by the owner of the whole tree.
OVERVIEW = """
query($id: ID!) {
  account(id: $id) {
    name
    parent { id }
    children { nodes { name } }
    members(first: 100) { nodes { role permissions inherited user { id } } }
    invitations(first: 100) { nodes { id email status } }
  }
}
"""
ACCESS = """
query($id: ID!) {
  account(id: $id) {
    viewerRole viewerPermissions
    members(first: 100) { nodes { role inherited user { id } } }
  }
  viewer { memberships { nodes { inherited role account { id } } } }
}
"""


async def invite(inviter: Tenant, account_id: str, email: str, role: str) -> str:
    invited = await inviter.call(INVITE, id=account_id, email=email, role=role)
    assert "errors" not in invited, invited
    invitation_id: str = invited["data"]["inviteMember"]["id"]
    return invitation_id


async def join(inviter: Tenant, account_id: str, invitee: Tenant, role: str) -> None:
    accepted = await invitee.call(ACCEPT, id=await invite(inviter, account_id, invitee.email, role))
    assert accepted == {"data": {"acceptInvitation": {"role": role}}}, accepted


async def set_permissions(
    owner: Tenant, account_id: str, user: Tenant, role: str, permissions: set[str]
) -> None:
    body = await owner.call(
        UPDATE_MEMBER,
        account=account_id,
        user=user.user_id,
        role=role,
        permissions=sorted(permissions),
    )
    assert "errors" not in body, body
    assert set(body["data"]["updateMember"]["permissions"]) == permissions


async def overview(owner: Tenant, account_id: str) -> dict[str, Any] | None:
    body = await owner.call(OVERVIEW, id=account_id)
    account: dict[str, Any] | None = body["data"]["account"]
    assert account is not None or error_codes(body) == ["NOT_FOUND"], body
    return account


def member(account: dict[str, Any], user: Tenant) -> dict[str, Any] | None:
    """The user's entry among the account's members, if listed."""
    found = [m for m in account["members"]["nodes"] if m["user"]["id"] == user.user_id]
    assert len(found) <= 1, account
    return found[0] if found else None


def pending_emails(account: dict[str, Any]) -> set[str]:
    return {n["email"] for n in account["invitations"]["nodes"] if n["status"] == "PENDING"}


@dataclass(frozen=True, slots=True)
class Stage:
    """The owner's tree root > parent > {target, mover, destination, doomed}, with the
    actor's role either on each of the four (direct) or on the parent (inherited), a
    VIEWER member and a pending invitation on the target."""

    owner: Tenant
    actor: Tenant
    member: Tenant
    parent: str
    target: str
    mover: str
    destination: str
    doomed: str
    #: Where the actor's own membership is, for leaving.
    home: str
    pending: str


async def build_stage(client: httpx.AsyncClient, role: str, mode: str) -> Stage:
    owner, actor, member_ = await asyncio.gather(
        tenant(client, "owner@example.com"),
        tenant(client, "actor@example.com"),
        tenant(client, "member@example.com"),
    )
    parent = await owner.create("Parent", owner.root)
    # One at a time: each write also updates the parent's (or account's) counters.
    target = await owner.create("Target", parent)
    mover = await owner.create("Mover", parent)
    destination = await owner.create("Destination", parent)
    doomed = await owner.create("Doomed", parent)
    held_on = [target, mover, destination, doomed] if mode == "direct" else [parent]
    for account_id in held_on:
        await join(owner, account_id, actor, role)
    await join(owner, target, member_, "VIEWER")
    pending = await invite(owner, target, "pending@example.com", "VIEWER")
    return Stage(
        owner=owner,
        actor=actor,
        member=member_,
        parent=parent,
        target=target,
        mover=mover,
        destination=destination,
        doomed=doomed,
        home=held_on[0],
        pending=pending,
    )


Check = Callable[[Stage], Awaitable[tuple[dict[str, Any], bool]]]


async def list_invitations(st: Stage) -> tuple[dict[str, Any], bool]:
    body = await st.actor.call(INVITATIONS, id=st.target)
    account = (body.get("data") or {}).get("account")
    listed = account is not None and any(
        n["id"] == st.pending for n in account["invitations"]["nodes"]
    )
    return body, listed


async def create_account(st: Stage) -> tuple[dict[str, Any], bool]:
    body = await st.actor.call(CREATE, parent=st.target)
    seen = await overview(st.owner, st.target)
    assert seen is not None
    return body, {"name": "Made by the actor"} in seen["children"]["nodes"]


async def update_account(st: Stage) -> tuple[dict[str, Any], bool]:
    body = await st.actor.call(UPDATE, id=st.target)
    seen = await overview(st.owner, st.target)
    assert seen is not None
    return body, seen["name"] == "Renamed by the actor"


async def move_account(st: Stage) -> tuple[dict[str, Any], bool]:
    body = await st.actor.call(MOVE, id=st.mover, to=st.destination)
    seen = await overview(st.owner, st.mover)
    assert seen is not None
    return body, seen["parent"] == {"id": st.destination}


async def delete_account(st: Stage) -> tuple[dict[str, Any], bool]:
    body = await st.actor.call(DELETE, id=st.doomed)
    return body, await overview(st.owner, st.doomed) is None


async def switch_account(st: Stage) -> tuple[dict[str, Any], bool]:
    body = await st.actor.call(SWITCH, id=st.target)
    current = await st.actor.call(CURRENT)
    return body, current["data"]["viewer"]["currentAccount"] == {"id": st.target}


async def invite_member(st: Stage) -> tuple[dict[str, Any], bool]:
    body = await st.actor.call(
        INVITE, id=st.target, email="invited-by-actor@example.com", role="VIEWER"
    )
    seen = await overview(st.owner, st.target)
    assert seen is not None
    return body, "invited-by-actor@example.com" in pending_emails(seen)


async def revoke_invitation(st: Stage) -> tuple[dict[str, Any], bool]:
    body = await st.actor.call(REVOKE, id=st.pending)
    seen = await overview(st.owner, st.target)
    assert seen is not None
    statuses = {n["id"]: n["status"] for n in seen["invitations"]["nodes"]}
    return body, statuses[st.pending] == "REVOKED"


async def update_member(st: Stage) -> tuple[dict[str, Any], bool]:
    body = await st.actor.call(
        UPDATE_MEMBER, account=st.target, user=st.member.user_id, role="MANAGER"
    )
    seen = await overview(st.owner, st.target)
    assert seen is not None
    entry = member(seen, st.member)
    assert entry is not None
    return body, entry["role"] == "MANAGER"


async def remove_member(st: Stage) -> tuple[dict[str, Any], bool]:
    body = await st.actor.call(REMOVE_MEMBER, account=st.target, user=st.member.user_id)
    seen = await overview(st.owner, st.target)
    assert seen is not None
    return body, member(seen, st.member) is None


async def leave(st: Stage) -> tuple[dict[str, Any], bool]:
    body = await st.actor.call(REMOVE_MEMBER, account=st.home, user=st.actor.user_id)
    seen = await overview(st.owner, st.home)
    assert seen is not None
    return body, member(seen, st.actor) is None


#: In the order they run: updateMember before removeMember (same member), leaving last.
OPERATIONS: dict[str, Check] = {
    "Account.invitations": list_invitations,
    "createAccount": create_account,
    "updateAccount": update_account,
    "moveAccount": move_account,
    "deleteAccount": delete_account,
    "switchAccount": switch_account,
    "inviteMember(VIEWER)": invite_member,
    "revokeInvitation": revoke_invitation,
    "updateMember(VIEWER to MANAGER)": update_member,
    "removeMember": remove_member,
    "removeMember(self)": leave,
}


def test_the_matrix_covers_every_operation_it_runs() -> None:
    assert OPERATIONS.keys() == NEEDS.keys()
    assert {expected(ROLE_PERMISSIONS[role], op) for role in ROLES for op in NEEDS} == {
        ALLOWED,
        "FORBIDDEN",
        "NOT_FOUND",
    }


async def run_matrix(stage: Stage) -> dict[str, str]:
    outcomes = {}
    for name, check in OPERATIONS.items():
        body, took_effect = await check(stage)
        outcomes[name] = outcome(body, took_effect)
    return outcomes


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("role", ROLES)
async def test_a_role_allows_exactly_its_permissions_here_and_below(
    client: httpx.AsyncClient, role: str, mode: str
) -> None:
    stage = await build_stage(client, role, mode)
    access = await stage.actor.call(ACCESS, id=stage.target)

    outcomes = await run_matrix(stage)

    assert outcomes == {name: expected(ROLE_PERMISSIONS[role], name) for name in OPERATIONS}
    assert "errors" not in access, access
    seen = access["data"]["account"]
    assert seen["viewerRole"] == role
    assert set(seen["viewerPermissions"]) == ROLE_PERMISSIONS[role]
    assert member(seen, stage.actor) == {
        "role": role,
        "inherited": mode == "inherited",
        "user": {"id": stage.actor.user_id},
    }
    assert {
        "inherited": False,
        "role": role,
        "account": {"id": stage.home},
    } in access["data"]["viewer"]["memberships"]["nodes"]


@pytest.mark.parametrize(
    ("role", "permissions", "mode"),
    [
        pytest.param(
            "VIEWER", {"VIEW_ALL_DATA", "INVITE_USERS"}, "direct", id="viewer-who-may-invite"
        ),
        pytest.param(
            "MANAGER",
            {"VIEW_ALL_DATA", "MODIFY_SETTINGS", "MANAGE_INTEGRATIONS"},
            "inherited",
            id="manager-who-may-only-modify",
        ),
    ],
)
async def test_explicit_permissions_replace_the_role_defaults(
    client: httpx.AsyncClient, role: str, permissions: set[str], mode: str
) -> None:
    stage = await build_stage(client, role, mode)
    held_on = (
        [stage.target, stage.mover, stage.destination, stage.doomed]
        if mode == "direct"
        else [stage.parent]
    )
    for account_id in held_on:
        await set_permissions(stage.owner, account_id, stage.actor, role, permissions)
    access = await stage.actor.call(ACCESS, id=stage.target)

    outcomes = await run_matrix(stage)

    assert outcomes == {name: expected(frozenset(permissions), name) for name in OPERATIONS}
    seen = access["data"]["account"]
    assert seen["viewerRole"] == role
    assert set(seen["viewerPermissions"]) == permissions


async def test_a_viewer_given_invite_users_invites_viewers_but_grants_nothing_more(
    client: httpx.AsyncClient,
) -> None:
    owner, actor, colleague = await asyncio.gather(
        tenant(client, "owner@example.com"),
        tenant(client, "actor@example.com"),
        tenant(client, "colleague@example.com"),
    )
    account = await owner.create("Shop", owner.root)
    await join(owner, account, actor, "VIEWER")
    await join(owner, account, colleague, "VIEWER")
    await set_permissions(owner, account, actor, "VIEWER", {"VIEW_ALL_DATA", "INVITE_USERS"})

    as_viewer = await actor.call(INVITE, id=account, email="v@example.com", role="VIEWER")
    as_manager = await actor.call(INVITE, id=account, email="m@example.com", role="MANAGER")
    as_owner = await actor.call(INVITE, id=account, email="o@example.com", role="OWNER")
    more = await actor.call(
        UPDATE_MEMBER,
        account=account,
        user=colleague.user_id,
        role="VIEWER",
        permissions=["VIEW_ALL_DATA", "INVITE_USERS", "MODIFY_SETTINGS"],
    )
    same = await actor.call(
        UPDATE_MEMBER,
        account=account,
        user=colleague.user_id,
        role="VIEWER",
        permissions=["VIEW_ALL_DATA", "INVITE_USERS"],
    )
    settings = await actor.call(UPDATE, id=account)

    assert as_viewer["data"]["inviteMember"]["role"] == "VIEWER"
    for refused in (as_manager, as_owner, more):
        assert refused["data"] is None
        assert error_codes(refused) == ["FORBIDDEN"], refused
    assert as_manager["errors"][0]["extensions"]["reason"] == "PERMISSION_ESCALATION"
    assert more["errors"][0]["extensions"]["reason"] == "PERMISSION_ESCALATION"
    assert same == {
        "data": {
            "updateMember": {
                "role": "VIEWER",
                "permissions": ["INVITE_USERS", "VIEW_ALL_DATA"],
                "inherited": False,
            }
        }
    }
    assert error_codes(settings) == ["FORBIDDEN"]
    seen = await overview(owner, account)
    assert seen is not None
    assert pending_emails(seen) == {"v@example.com"}
    assert seen["name"] == "Shop"


#: What only an owner may do, even for someone who otherwise may manage members.
OWNER_ONLY = {
    "inviteMember(OWNER)",
    "updateMember(VIEWER to OWNER)",
    "updateMember(OWNER to MANAGER)",
    "removeMember(OWNER)",
}
SIGN_UPS = ("owner", "actor", "changed", "removed", "promoted")


@pytest.mark.parametrize("role", ["OWNER", "MANAGER"])
async def test_only_owners_make_change_or_remove_owners(
    client: httpx.AsyncClient, role: str
) -> None:
    owner, actor, changed, removed, promoted = await asyncio.gather(
        *(tenant(client, f"{who}@example.com") for who in SIGN_UPS)
    )
    account = await owner.create("Shop", owner.root)
    await join(owner, account, actor, role)
    await join(owner, account, changed, "OWNER")
    await join(owner, account, removed, "OWNER")
    await join(owner, account, promoted, "VIEWER")

    answers = {
        "inviteMember(MANAGER)": await actor.call(
            INVITE, id=account, email="manager@example.com", role="MANAGER"
        ),
        "inviteMember(OWNER)": await actor.call(
            INVITE, id=account, email="owner2@example.com", role="OWNER"
        ),
        "updateMember(VIEWER to OWNER)": await actor.call(
            UPDATE_MEMBER, account=account, user=promoted.user_id, role="OWNER"
        ),
        "updateMember(OWNER to MANAGER)": await actor.call(
            UPDATE_MEMBER, account=account, user=changed.user_id, role="MANAGER"
        ),
        "removeMember(OWNER)": await actor.call(
            REMOVE_MEMBER, account=account, user=removed.user_id
        ),
    }
    seen = await overview(owner, account)
    assert seen is not None
    roles = {
        who: (entry or {}).get("role")
        for who, entry in (
            ("changed", member(seen, changed)),
            ("removed", member(seen, removed)),
            ("promoted", member(seen, promoted)),
        )
    }
    invited = pending_emails(seen)

    allowed = role == "OWNER"
    assert {name: error_codes(body) for name, body in answers.items()} == {
        name: [] if allowed or name not in OWNER_ONLY else ["FORBIDDEN"] for name in answers
    }
    assert roles == (
        {"changed": "MANAGER", "removed": None, "promoted": "OWNER"}
        if allowed
        else {"changed": "OWNER", "removed": "OWNER", "promoted": "VIEWER"}
    )
    assert invited == (
        {"manager@example.com", "owner2@example.com"} if allowed else {"manager@example.com"}
    )


async def test_moving_needs_delete_account_here_and_create_sub_accounts_there(
    client: httpx.AsyncClient,
) -> None:
    owner, actor = await asyncio.gather(
        tenant(client, "owner@example.com"), tenant(client, "actor@example.com")
    )
    parent = await owner.create("Parent", owner.root)
    roles = {"owned": "OWNER", "managed": "MANAGER", "viewed": "VIEWER"}
    accounts = {}
    for name, role in roles.items():
        accounts[name] = await owner.create(name, parent)
        await join(owner, accounts[name], actor, role)
    moves = [("owned", "viewed"), ("managed", "owned"), ("owned", "managed")]

    outcomes = {}
    for moving, into in moves:
        body = await actor.call(MOVE, id=accounts[moving], to=accounts[into])
        seen = await overview(owner, accounts[moving])
        assert seen is not None
        outcomes[(moving, into)] = outcome(body, seen["parent"] == {"id": accounts[into]})

    assert outcomes == {
        (moving, into): ALLOWED
        if MOVE_NEEDS["account"] in ROLE_PERMISSIONS[roles[moving]]
        and MOVE_NEEDS["new parent"] in ROLE_PERMISSIONS[roles[into]]
        else "FORBIDDEN"
        for moving, into in moves
    }
    assert set(outcomes.values()) == {ALLOWED, "FORBIDDEN"}


#: (role on the parent, its explicit permissions, role on the child, its permissions).
PATHS = [
    pytest.param("VIEWER", None, "MANAGER", None, id="viewer-above-manager-here"),
    pytest.param("MANAGER", None, "VIEWER", None, id="manager-above-viewer-here"),
    pytest.param(
        "VIEWER",
        {"VIEW_ALL_DATA", "INVITE_USERS"},
        "VIEWER",
        {"VIEW_ALL_DATA", "MODIFY_SETTINGS"},
        id="explicit-permissions-add-up",
    ),
]


@pytest.mark.parametrize(("parent_role", "parent_set", "child_role", "child_set"), PATHS)
async def test_access_is_the_union_of_memberships_on_the_account_and_above(
    client: httpx.AsyncClient,
    parent_role: str,
    parent_set: set[str] | None,
    child_role: str,
    child_set: set[str] | None,
) -> None:
    owner, actor = await asyncio.gather(
        tenant(client, "owner@example.com"), tenant(client, "actor@example.com")
    )
    parent = await owner.create("Parent", owner.root)
    child = await owner.create("Child", parent)
    grandchild = await owner.create("Grandchild", child)
    for account_id, role, explicit in (
        (parent, parent_role, parent_set),
        (child, child_role, child_set),
    ):
        await join(owner, account_id, actor, role)
        if explicit is not None:
            await set_permissions(owner, account_id, actor, role, explicit)
    on_parent = frozenset(parent_set or ROLE_PERMISSIONS[parent_role])
    below = on_parent | frozenset(child_set or ROLE_PERMISSIONS[child_role])
    strongest = max(parent_role, child_role, key=RANK.__getitem__)

    accounts = {"parent": parent, "child": child, "grandchild": grandchild}
    seen = {
        name: (await actor.call(ACCESS, id=account_id))["data"]["account"]
        for name, account_id in accounts.items()
    }
    acted = {}
    for name in ("parent", "child"):
        listed = await actor.call(INVITATIONS, id=accounts[name])
        acted[(name, "Account.invitations")] = outcome(listed, "errors" not in listed)
        renamed = await actor.call(UPDATE, id=accounts[name])
        after = await overview(owner, accounts[name])
        assert after is not None
        acted[(name, "updateAccount")] = outcome(renamed, after["name"] == "Renamed by the actor")

    assert {
        name: (account["viewerRole"], frozenset(account["viewerPermissions"]))
        for name, account in seen.items()
    } == {
        "parent": (parent_role, on_parent),
        "child": (strongest, below),
        "grandchild": (strongest, below),
    }
    assert acted == {
        (name, op): expected(on_parent if name == "parent" else below, op)
        for name in ("parent", "child")
        for op in ("Account.invitations", "updateAccount")
    }
    # Listed once, under the membership nearest the account.
    assert member(seen["child"], actor) == {
        "role": child_role,
        "inherited": False,
        "user": {"id": actor.user_id},
    }
    assert member(seen["grandchild"], actor) == {
        "role": child_role,
        "inherited": True,
        "user": {"id": actor.user_id},
    }
