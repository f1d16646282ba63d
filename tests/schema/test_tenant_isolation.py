"""Tenant isolation over HTTP: someone else's ids answer exactly like ids that do not exist.

Tenant A owns root > A1 > A1a and root > A2, with pending invitations on A1 and A2 and a
member S who belongs to A1 only (as its owner); tenant B owns root > B1. Every tenancy
query and mutation, called by B with A's ids, or by S with the ids of A2 or of the root,
must answer like a random id of the same kind that names nothing (same data, same errors
bar their path and location), with NOT_FOUND, and leave every table and the outbox as
they were.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from listbackup import ids
from listbackup.aws import AwsClients
from listbackup.config import Settings
from tests.aws_state import snapshot
from tests.helpers import Tenant, error_codes, tenant

ACCOUNT = "query($id: ID!) { account(id: $id) { id name } }"
NODE = "query($id: ID!) { node(id: $id) { id } }"
SWITCH = "mutation($id: ID!) { switchAccount(accountId: $id) { id currentAccount { id } } }"
CREATE = """
mutation($parent: ID!) { createAccount(input: {name: "Intruder", parentId: $parent}) { id } }
"""
UPDATE = 'mutation($id: ID!) { updateAccount(id: $id, input: {name: "Pwned"}) { id name } }'
MOVE = "mutation($id: ID!, $to: ID!) { moveAccount(id: $id, newParentId: $to) { id level } }"
DELETE = "mutation($id: ID!) { deleteAccount(id: $id) }"
INVITE = """
mutation($id: ID!, $email: String!, $role: Role!) {
  inviteMember(accountId: $id, email: $email, role: $role) { id email }
}
"""
ACCEPT = "mutation($id: ID!) { acceptInvitation(id: $id) { role account { id } } }"
REVOKE = "mutation($id: ID!) { revokeInvitation(id: $id) { id status } }"
UPDATE_MEMBER = """
mutation($account: ID!, $user: ID!, $role: Role!) {
  updateMember(accountId: $account, userId: $user, role: $role) { role }
}
"""
REMOVE_MEMBER = """
mutation($account: ID!, $user: ID!) { removeMember(accountId: $account, userId: $user) }
"""

TREE = """
fragment tree on Account {
  id
  parent { id }
  ancestors { id }
  children { nodes { id } }
  descendants { nodes { id } }
}
"""
OWN_VIEW = (
    """
query($root: ID!, $sub: ID!) {
  viewer {
    currentAccount { id }
    memberships { nodes { inherited role account { id } user { id } } }
    pendingInvitations { id }
  }
  root: account(id: $root) { ...tree ...people }
  sub: account(id: $sub) { ...tree ...people }
}
fragment people on Account {
  members { nodes { inherited role user { id email } account { id } } }
  invitations { nodes { id email account { id } } }
}
"""
    + TREE
)
SIBLING_VIEW = (
    """
query($a1: ID!, $a1a: ID!) {
  viewer { memberships { nodes { account { id } } } }
  a1: account(id: $a1) { ...tree members { nodes { inherited user { email } } } }
  a1a: account(id: $a1a) { ...tree }
}
"""
    + TREE
)
MEMBERS_WITH_ACCOUNT = """
query($id: ID!) {
  account(id: $id) { members { nodes { inherited user { email } account { id } } } }
}
"""
PENDING = """
{
  viewer {
    pendingInvitations {
      role invitedBy { email }
      account { id name viewerRole viewerPermissions parent { id } ancestors { id } }
    }
  }
}
"""
PENDING_ACCOUNT_FIELD = "{ viewer { pendingInvitations { account { %s } } } }"

A_EMAIL = "ada@tenant-a.example"
B_EMAIL = "bob@tenant-b.example"
S_EMAIL = "sam@tenant-a.example"
OUTSIDER = "someone-else@example.com"
LIKE_MISSING = "like a missing id"


@dataclass(frozen=True, slots=True)
class Ref:
    """A variable naming one of the world's objects, by its key in ``World.ids``."""

    name: str


@dataclass(frozen=True, slots=True)
class Attack:
    name: str
    query: str
    variables: dict[str, Any]


def attack(name: str, query: str, **variables: Any) -> Attack:
    return Attack(name, query, variables)


@dataclass(frozen=True, slots=True)
class World:
    a: Tenant
    b: Tenant
    s: Tenant
    #: Every object an attack can aim at: name -> global id.
    ids: dict[str, str]

    def resolve(self, variables: dict[str, Any], forge: frozenset[str]) -> dict[str, Any]:
        """The variables with each Ref made its real id or, when it is named in ``forge``,
        a random id of the same kind that names nothing."""

        def real_or_forged(value: Any) -> Any:
            if not isinstance(value, Ref):
                return value
            real = self.ids[value.name]
            return random_id_like(real) if value.name in forge else real

        return {key: real_or_forged(value) for key, value in variables.items()}


def random_id_like(global_id: str) -> str:
    decoded = ids.decode(global_id)
    assert decoded is not None, global_id
    return ids.encode(decoded[0], str(uuid.uuid4()))


INVITE_ID = """
mutation($id: ID!, $email: String!, $role: Role!) {
  inviteMember(accountId: $id, email: $email, role: $role) { id }
}
"""
ACCEPT_ROLE = "mutation($id: ID!) { acceptInvitation(id: $id) { role } }"


async def invite(inviter: Tenant, account_id: str, email: str, role: str) -> str:
    invited = await inviter.call(INVITE_ID, id=account_id, email=email, role=role)
    assert "errors" not in invited, invited
    invitation_id: str = invited["data"]["inviteMember"]["id"]
    return invitation_id


async def join(inviter: Tenant, account_id: str, invitee: Tenant, role: str) -> None:
    invitation_id = await invite(inviter, account_id, invitee.email, role)
    accepted = await invitee.call(ACCEPT_ROLE, id=invitation_id)
    assert accepted == {"data": {"acceptInvitation": {"role": role}}}, accepted


@pytest.fixture
async def world(client: httpx.AsyncClient) -> World:
    a, b, s = await asyncio.gather(
        tenant(client, A_EMAIL), tenant(client, B_EMAIL), tenant(client, S_EMAIL)
    )
    # One write at a time: each also updates its account's (or parent's) counters.
    a1 = await a.create("A1", a.root)
    a2 = await a.create("A2", a.root)
    b1 = await b.create("B1", b.root)
    a1a = await a.create("A1a", a1)
    await join(a, a1, s, "OWNER")
    a1_invitation = await invite(a, a1, OUTSIDER, "VIEWER")
    a2_invitation = await invite(a, a2, OUTSIDER, "VIEWER")
    return World(
        a=a,
        b=b,
        s=s,
        ids={
            "a.root": a.root,
            "a1": a1,
            "a1a": a1a,
            "a2": a2,
            "a.user": a.user_id,
            "s.user": s.user_id,
            "a1.invitation": a1_invitation,
            "a2.invitation": a2_invitation,
            "b.root": b.root,
            "b1": b1,
            "b.user": b.user_id,
        },
    )


def without_location(body: dict[str, Any]) -> dict[str, Any]:
    """What a client can tell two answers apart by: the data and the errors, less where
    in the document each error arose."""
    return {
        "data": body.get("data"),
        "errors": [
            {k: v for k, v in error.items() if k not in {"path", "locations"}}
            for error in body.get("errors", [])
        ],
    }


# B, a stranger to tenant A, aiming at A's objects.
CROSS_TENANT = [
    attack("account(root)", ACCOUNT, id=Ref("a.root")),
    attack("account(sub-account)", ACCOUNT, id=Ref("a1")),
    attack("node(account)", NODE, id=Ref("a1")),
    attack("node(invitation)", NODE, id=Ref("a1.invitation")),
    attack("node(user)", NODE, id=Ref("a.user")),
    attack("switchAccount", SWITCH, id=Ref("a1")),
    attack("createAccount under A's root", CREATE, parent=Ref("a.root")),
    attack("createAccount under A's sub-account", CREATE, parent=Ref("a1")),
    attack("updateAccount", UPDATE, id=Ref("a1")),
    attack("moveAccount A's under B's", MOVE, id=Ref("a1"), to=Ref("b.root")),
    attack("moveAccount B's under A's", MOVE, id=Ref("b1"), to=Ref("a1")),
    attack("moveAccount within A", MOVE, id=Ref("a1a"), to=Ref("a2")),
    attack("deleteAccount(leaf)", DELETE, id=Ref("a1a")),
    attack("deleteAccount(root)", DELETE, id=Ref("a.root")),
    attack("inviteMember(self as owner)", INVITE, id=Ref("a.root"), email=B_EMAIL,
           role="OWNER"),
    attack("inviteMember(stranger)", INVITE, id=Ref("a1"), email="new@x.example",
           role="VIEWER"),
    attack("acceptInvitation(someone else's)", ACCEPT, id=Ref("a1.invitation")),
    attack("revokeInvitation", REVOKE, id=Ref("a1.invitation")),
    attack("updateMember", UPDATE_MEMBER, account=Ref("a1"), user=Ref("s.user"),
           role="VIEWER"),
    attack("updateMember(promote self)", UPDATE_MEMBER, account=Ref("a.root"),
           user=Ref("b.user"), role="OWNER"),
    attack("updateMember(A's user on B's account)", UPDATE_MEMBER, account=Ref("b.root"),
           user=Ref("a.user"), role="VIEWER"),
    attack("removeMember", REMOVE_MEMBER, account=Ref("a1"), user=Ref("s.user")),
    attack("removeMember(the owner)", REMOVE_MEMBER, account=Ref("a.root"),
           user=Ref("a.user")),
    attack("removeMember(leave A's account)", REMOVE_MEMBER, account=Ref("a.root"),
           user=Ref("b.user")),
]  # fmt: skip

# S, an owner of A1 and nothing else in A, aiming at its sibling A2 and at the root above.
SIBLING = [
    attack("account(parent)", ACCOUNT, id=Ref("a.root")),
    attack("account(sibling)", ACCOUNT, id=Ref("a2")),
    attack("node(parent)", NODE, id=Ref("a.root")),
    attack("node(sibling)", NODE, id=Ref("a2")),
    attack("node(sibling's invitation)", NODE, id=Ref("a2.invitation")),
    attack("node(parent's owner)", NODE, id=Ref("a.user")),
    attack("switchAccount(sibling)", SWITCH, id=Ref("a2")),
    attack("switchAccount(parent)", SWITCH, id=Ref("a.root")),
    attack("createAccount under sibling", CREATE, parent=Ref("a2")),
    attack("createAccount under parent", CREATE, parent=Ref("a.root")),
    attack("updateAccount(sibling)", UPDATE, id=Ref("a2")),
    attack("updateAccount(parent)", UPDATE, id=Ref("a.root")),
    attack("moveAccount own child under sibling", MOVE, id=Ref("a1a"), to=Ref("a2")),
    attack("moveAccount own account under sibling", MOVE, id=Ref("a1"), to=Ref("a2")),
    attack("moveAccount own account under parent", MOVE, id=Ref("a1a"), to=Ref("a.root")),
    attack("moveAccount sibling under own", MOVE, id=Ref("a2"), to=Ref("a1")),
    attack("deleteAccount(sibling)", DELETE, id=Ref("a2")),
    attack("inviteMember to sibling", INVITE, id=Ref("a2"), email="new@x.example",
           role="VIEWER"),
    attack("inviteMember(self to parent)", INVITE, id=Ref("a.root"), email=S_EMAIL,
           role="OWNER"),
    attack("acceptInvitation(sibling's)", ACCEPT, id=Ref("a2.invitation")),
    attack("revokeInvitation(sibling's)", REVOKE, id=Ref("a2.invitation")),
    attack("updateMember(parent's owner)", UPDATE_MEMBER, account=Ref("a.root"),
           user=Ref("a.user"), role="VIEWER"),
    attack("removeMember(parent's owner)", REMOVE_MEMBER, account=Ref("a.root"),
           user=Ref("a.user")),
]  # fmt: skip

#: What each attacker may not see: the Refs its forged twin replaces.
HIDDEN_FROM = {
    "b": frozenset(
        {"a.root", "a1", "a1a", "a2", "a.user", "s.user", "a1.invitation", "a2.invitation"}
    ),
    "s": frozenset({"a.root", "a2", "a.user", "a2.invitation"}),
}


async def verdict(attacker: Tenant, hidden: frozenset[str], case: Attack, world: World) -> str:
    """How the attack was answered, compared with its twin aimed at ids that do not exist."""
    real = await attacker.call(case.query, **world.resolve(case.variables, frozenset()))
    forged = await attacker.call(case.query, **world.resolve(case.variables, hidden))
    if not any(isinstance(v, Ref) and v.name in hidden for v in case.variables.values()):
        return "names nothing hidden from the attacker"
    if error_codes(real) != ["NOT_FOUND"]:
        return f"answered {real}"
    if without_location(real) != without_location(forged):
        return f"answered {real}, a missing id {forged}"
    return LIKE_MISSING


@pytest.mark.parametrize(
    ("attacker", "cases"),
    [
        pytest.param("b", CROSS_TENANT, id="another-tenant"),
        pytest.param("s", SIBLING, id="sibling"),
    ],
)
async def test_hidden_ids_answer_like_missing_ones_and_change_nothing(
    world: World, attacker: str, cases: list[Attack], aws: AwsClients, settings: Settings
) -> None:
    caller = world.b if attacker == "b" else world.s
    before = await snapshot(aws, settings)
    verdicts: dict[str, str] = {}
    for case in cases:
        found = await verdict(caller, HIDDEN_FROM[attacker], case, world)
        after = await snapshot(aws, settings)
        if after != before:
            found += " and changed the stored data"
            before = after
        verdicts[case.name] = found

    assert len(verdicts) == len(cases)
    assert {name: found for name, found in verdicts.items() if found != LIKE_MISSING} == {}


async def test_a_tenants_own_objects_lead_nowhere_near_another_tenant(world: World) -> None:
    b, b1 = world.b, world.ids["b1"]
    invitation = await invite(b, b1, "friend@tenant-b.example", "VIEWER")

    body = await b.call(OWN_VIEW, root=b.root, sub=b1)

    assert "errors" not in body, body
    data = body["data"]
    assert data["viewer"] == {
        "currentAccount": {"id": b.root},
        "memberships": {
            "nodes": [
                {
                    "inherited": False,
                    "role": "OWNER",
                    "account": {"id": b.root},
                    "user": {"id": b.user_id},
                }
            ]
        },
        "pendingInvitations": [],
    }
    b_member = {"role": "OWNER", "user": {"id": b.user_id, "email": B_EMAIL}}
    assert data["root"] == {
        "id": b.root,
        "parent": None,
        "ancestors": [],
        "children": {"nodes": [{"id": b1}]},
        "descendants": {"nodes": [{"id": b1}]},
        "members": {"nodes": [{**b_member, "inherited": False, "account": {"id": b.root}}]},
        "invitations": {"nodes": []},
    }
    assert data["sub"] == {
        "id": b1,
        "parent": {"id": b.root},
        "ancestors": [{"id": b.root}],
        "children": {"nodes": []},
        "descendants": {"nodes": []},
        "members": {"nodes": [{**b_member, "inherited": True, "account": {"id": b.root}}]},
        "invitations": {
            "nodes": [{"id": invitation, "email": "friend@tenant-b.example", "account": {"id": b1}}]
        },
    }
    text = json.dumps(body)
    leaks = [name for name in HIDDEN_FROM["b"] if world.ids[name] in text]
    assert leaks == []
    assert A_EMAIL not in text
    assert OUTSIDER not in text


async def test_a_sub_account_member_sees_down_but_not_up_or_sideways(world: World) -> None:
    s, ids_ = world.s, world.ids

    body = await s.call(SIBLING_VIEW, a1=ids_["a1"], a1a=ids_["a1a"])

    assert "errors" not in body, body
    data = body["data"]
    assert {m["account"]["id"] for m in data["viewer"]["memberships"]["nodes"]} == {
        s.root,
        ids_["a1"],
    }
    assert {k: v for k, v in data["a1"].items() if k != "members"} == {
        "id": ids_["a1"],
        "parent": None,
        "ancestors": [],
        "children": {"nodes": [{"id": ids_["a1a"]}]},
        "descendants": {"nodes": [{"id": ids_["a1a"]}]},
    }
    assert data["a1a"] == {
        "id": ids_["a1a"],
        "parent": {"id": ids_["a1"]},
        "ancestors": [{"id": ids_["a1"]}],
        "children": {"nodes": []},
        "descendants": {"nodes": []},
    }
    # Who holds access from above is no secret; where it comes from is.
    assert data["a1"]["members"]["nodes"] == [
        {"inherited": False, "user": {"email": S_EMAIL}},
        {"inherited": True, "user": {"email": A_EMAIL}},
    ]
    text = json.dumps(body)
    assert [name for name in ("a.root", "a2", "a2.invitation") if ids_[name] in text] == []


async def test_members_inherited_from_above_are_shown_on_the_account_listed(
    world: World,
) -> None:
    """S sees that the root's owner has access to A1, never the root itself."""
    a1 = world.ids["a1"]

    body = await world.s.call(MEMBERS_WITH_ACCOUNT, id=a1)

    assert body == {
        "data": {
            "account": {
                "members": {
                    "nodes": [
                        {"inherited": False, "user": {"email": S_EMAIL}, "account": {"id": a1}},
                        {"inherited": True, "user": {"email": A_EMAIL}, "account": {"id": a1}},
                    ]
                }
            }
        }
    }


async def test_an_invitee_sees_the_inviting_account_and_nothing_around_it(
    world: World,
) -> None:
    a, b, a2 = world.a, world.b, world.ids["a2"]
    await invite(a, a2, B_EMAIL, "MANAGER")

    body = await b.call(PENDING)
    direct = await b.call(ACCOUNT, id=a2)

    assert body == {
        "data": {
            "viewer": {
                "pendingInvitations": [
                    {
                        "role": "MANAGER",
                        "invitedBy": {"email": A_EMAIL},
                        "account": {
                            "id": a2,
                            "name": "A2",
                            "viewerRole": None,
                            "viewerPermissions": [],
                            "parent": None,
                            "ancestors": [],
                        },
                    }
                ]
            }
        }
    }
    assert error_codes(direct) == ["NOT_FOUND"]
    for field in (
        "children { nodes { id } }",
        "descendants { nodes { id } }",
        "members { nodes { role } }",
        "invitations { nodes { id } }",
    ):
        below = await b.call(PENDING_ACCOUNT_FIELD % field)
        assert error_codes(below) == ["NOT_FOUND"], (field, below)
        assert below["data"] is None
