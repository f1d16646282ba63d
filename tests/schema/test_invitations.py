"""Invitations over HTTP: the email, who sees them, accepting, revoking, expiry, errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from listbackup import ids
from listbackup.aws import AwsClients
from listbackup.config import Settings
from listbackup.devstack import live_server
from listbackup.server import create_app
from listbackup.services import rate_limits
from listbackup.services.rate_limits import INVITATIONS_PER_ACCOUNT, INVITATIONS_PER_INVITER, Limit
from listbackup.store.dynamo import paginate
from listbackup.store.rate_limits import RateLimitStore
from tests.aws_state import sent_emails
from tests.helpers import Tenant, error_codes, tenant

INVITE = """
mutation($account: ID!, $email: String!, $role: Role!) {
  inviteMember(accountId: $account, email: $email, role: $role) {
    id email role status createdAt expiresAt account { id name } invitedBy { id }
  }
}
"""
ACCEPT = """
mutation($id: ID!) {
  acceptInvitation(id: $id) { role permissions inherited status user { id } }
}
"""
ACCEPT_WITH_ACCOUNT = "mutation($id: ID!) { acceptInvitation(id: $id) { role account { id } } }"
REVOKE = "mutation($id: ID!) { revokeInvitation(id: $id) { id status } }"
PENDING = """
{
  viewer {
    pendingInvitations {
      id email role status account { id name } invitedBy { id email name }
    }
  }
}
"""
INVITATIONS = """
query($id: ID!) {
  account(id: $id) {
    invitations { nodes { id email role status } pageInfo { hasNextPage } }
  }
}
"""
NODE = "query($id: ID!) { node(id: $id) { id ... on Invitation { email role status } } }"
MEMBERSHIPS = "{ viewer { memberships { nodes { role inherited account { id } } } } }"
VIEWER_ROLE = "query($id: ID!) { account(id: $id) { id viewerRole } }"
ACCOUNT_NAME = "query($id: ID!) { account(id: $id) { name } }"

WEEK = timedelta(days=7)


def reason(body: dict[str, Any]) -> str | None:
    value: str | None = body["errors"][0]["extensions"].get("reason")
    return value


async def invite(inviter: Tenant, account: str, email: str, role: str = "VIEWER") -> dict[str, Any]:
    body = await inviter.call(INVITE, account=account, email=email, role=role)
    assert "errors" not in body, body
    invitation: dict[str, Any] = body["data"]["inviteMember"]
    return invitation


async def join(inviter: Tenant, member: Tenant, account: str, role: str) -> None:
    invitation = await invite(inviter, account, member.email, role)
    accepted = await member.call(ACCEPT, id=invitation["id"])
    assert "errors" not in accepted, accepted


async def invitation_statuses(caller: Tenant, account: str) -> dict[str, str]:
    body = await caller.call(INVITATIONS, id=account)
    assert "errors" not in body, body
    nodes = body["data"]["account"]["invitations"]["nodes"]
    return {n["email"]: n["status"] for n in nodes}


# ---------------------------------------------------------------- sending


async def test_inviting_emails_the_account_role_and_app_link_but_no_token(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    ada = await tenant(client, "ada@example.com")
    bakery = await ada.create("Harbour Bakery", ada.root)
    sent_before = len(await sent_emails())

    invitation = await invite(ada, bakery, "bob@example.com", "MANAGER")

    new = (await sent_emails())[sent_before:]
    assert len(new) == 1
    message = new[0]
    key = ids.decode_as(ids.INVITATION, invitation["id"])
    assert key
    assert message.source == f"ListBackup <{settings.email_from}>"
    assert message.to == ["bob@example.com"]
    assert message.subject == "You have been invited to an account on ListBackup"
    assert "Account: “Harbour Bakery”" in message.body
    assert "Invited by: “Ada Lovelace”" in message.body
    assert "as a manager" in message.body
    assert settings.app_url in message.body
    for secret in (key, invitation["id"], ada.token):
        assert secret not in message.body
        assert secret not in message.subject


UPDATE_NAME = "mutation($name: String!) { updateProfile(input: {name: $name}) { name } }"
RENAME = (
    "mutation($id: ID!, $name: String!) { updateAccount(id: $id, input: {name: $name}) { id } }"
)
#: Names that try to speak for us: an instruction, a link, quotes that would close ours.
#: (A bidi override that reverses what follows is refused as input: test_accounts.py;
#: the email quotes it away too: tests/services/test_emails.py.)
HOSTILE_INVITER = 'Reset at https://evil.example/r "Your ListBackup account is locked" now'
HOSTILE_ACCOUNT = "Action required: verify your card at www.evil.example today or lose your data"


async def test_names_typed_by_users_cannot_pass_for_our_words_in_the_email(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    ada = await tenant(client, "ada@example.com")
    for query, variables in ((UPDATE_NAME, {"name": HOSTILE_INVITER}),
                             (RENAME, {"id": ada.root, "name": HOSTILE_ACCOUNT})):  # fmt: skip
        changed = await ada.call(query, **variables)
        assert "errors" not in changed, changed
    sent_before = len(await sent_emails())

    await invite(ada, ada.root, "bob@example.com", "VIEWER")

    [message] = (await sent_emails())[sent_before:]
    assert message.source == f"ListBackup <{settings.email_from}>"
    assert message.subject == "You have been invited to an account on ListBackup"
    lines = message.body.splitlines()
    inviter = next(line for line in lines if line.startswith("Invited by: "))
    account = next(line for line in lines if line.startswith("Account: "))
    for line, typed in ((inviter, HOSTILE_INVITER), (account, HOSTILE_ACCOUNT)):
        shown = line.split(": ", 1)[1]
        assert shown.startswith("“")
        assert shown.endswith("”")
        assert "“" not in shown[1:-1]
        assert "”" not in shown[1:-1]
        assert len(shown) < len(typed)
    assert "\u202e" not in message.body
    assert "evil.example" not in message.body
    assert "evil[.]example" in inviter
    assert "https://" not in inviter
    assert [line for line in lines if "://" in line] == [settings.app_url]


async def test_a_new_invitation_is_pending_for_seven_days(client: httpx.AsyncClient) -> None:
    ada = await tenant(client, "ada@example.com")

    invitation = await invite(ada, ada.root, "  Bob@Example.COM ", "MANAGER")

    created = datetime.fromisoformat(invitation["createdAt"])
    expires = datetime.fromisoformat(invitation["expiresAt"])
    assert invitation["status"] == "PENDING"
    assert invitation["email"] == "bob@example.com"
    assert invitation["role"] == "MANAGER"
    assert invitation["account"]["id"] == ada.root
    assert invitation["invitedBy"] == {"id": ada.user_id}
    assert expires - created == WEEK
    assert abs(datetime.now(UTC) - created) < timedelta(minutes=1)


# ---------------------------------------------------------------- who sees it


async def test_pending_invitations_show_to_the_invitee_only(client: httpx.AsyncClient) -> None:
    ada = await tenant(client, "ada@example.com")
    account_name = (await ada.call(ACCOUNT_NAME, id=ada.root))["data"]["account"]["name"]
    invitation = await invite(ada, ada.root, "bob@example.com", "VIEWER")
    bob = await tenant(client, "bob@example.com")
    carol = await tenant(client, "carol@example.com")

    for_bob = (await bob.call(PENDING))["data"]["viewer"]["pendingInvitations"]
    for_carol = (await carol.call(PENDING))["data"]["viewer"]["pendingInvitations"]
    for_ada = (await ada.call(PENDING))["data"]["viewer"]["pendingInvitations"]

    assert for_bob == [
        {
            "id": invitation["id"],
            "email": "bob@example.com",
            "role": "VIEWER",
            "status": "PENDING",
            "account": {"id": ada.root, "name": account_name},
            "invitedBy": {"id": ada.user_id, "email": ada.email, "name": "Ada Lovelace"},
        }
    ]
    assert for_carol == []
    assert for_ada == []


async def test_account_invitations_list_for_members_who_may_invite(
    client: httpx.AsyncClient,
) -> None:
    ada = await tenant(client, "ada@example.com")
    bob = await tenant(client, "bob@example.com")
    dave = await tenant(client, "dave@example.com")
    await join(ada, bob, ada.root, "MANAGER")
    await join(ada, dave, ada.root, "VIEWER")

    await invite(bob, ada.root, "carol@example.com", "VIEWER")
    as_dave = await dave.call(INVITATIONS, id=ada.root)

    expected = {
        "bob@example.com": "ACCEPTED",
        "dave@example.com": "ACCEPTED",
        "carol@example.com": "PENDING",
    }
    assert await invitation_statuses(ada, ada.root) == expected
    assert await invitation_statuses(bob, ada.root) == expected
    assert error_codes(as_dave) == ["FORBIDDEN"]


@pytest.mark.parametrize(
    ("viewer", "visible"),
    [
        pytest.param("invitee", True),
        pytest.param("owner", True),
        pytest.param("manager", True),
        ("viewer", False),
        ("outsider", False),
    ],
)
async def test_node_resolves_an_invitation_for_the_invitee_and_inviters_only(
    client: httpx.AsyncClient, viewer: str, visible: bool
) -> None:
    ada = await tenant(client, "ada@example.com")
    invitation = await invite(ada, ada.root, "bob@example.com", "VIEWER")
    if viewer == "owner":
        caller = ada
    elif viewer == "invitee":
        caller = await tenant(client, "bob@example.com")
    else:
        caller = await tenant(client, f"{viewer}@example.com")
        if viewer != "outsider":
            await join(ada, caller, ada.root, viewer.upper())

    body = await caller.call(NODE, id=invitation["id"])

    if visible:
        assert body == {
            "data": {
                "node": {
                    "id": invitation["id"],
                    "email": "bob@example.com",
                    "role": "VIEWER",
                    "status": "PENDING",
                }
            }
        }
    else:
        assert body["data"] == {"node": None}
        assert error_codes(body) == ["NOT_FOUND"]


# ---------------------------------------------------------------- accepting


async def test_accepting_creates_the_membership_with_the_invited_role(
    client: httpx.AsyncClient,
) -> None:
    ada = await tenant(client, "ada@example.com")
    invitation = await invite(ada, ada.root, "bob@example.com", "MANAGER")
    bob = await tenant(client, "bob@example.com")

    accepted = await bob.call(ACCEPT, id=invitation["id"])

    assert "errors" not in accepted, accepted
    membership = accepted["data"]["acceptInvitation"]
    assert membership["role"] == "MANAGER"
    assert membership["inherited"] is False
    assert membership["status"] == "ACTIVE"
    assert membership["user"] == {"id": bob.user_id}
    assert "INVITE_USERS" in membership["permissions"]
    assert "DELETE_ACCOUNT" not in membership["permissions"]
    nodes = (await bob.call(MEMBERSHIPS))["data"]["viewer"]["memberships"]["nodes"]
    assert {"role": "MANAGER", "inherited": False, "account": {"id": ada.root}} in nodes
    seen = (await bob.call(VIEWER_ROLE, id=ada.root))["data"]["account"]
    assert seen == {"id": ada.root, "viewerRole": "MANAGER"}
    assert await invitation_statuses(ada, ada.root) == {"bob@example.com": "ACCEPTED"}
    assert (await bob.call(PENDING))["data"]["viewer"]["pendingInvitations"] == []


async def test_accepting_answers_with_the_joined_account(client: httpx.AsyncClient) -> None:
    ada = await tenant(client, "ada@example.com")
    invitation = await invite(ada, ada.root, "bob@example.com", "VIEWER")
    bob = await tenant(client, "bob@example.com")

    accepted = await bob.call(ACCEPT_WITH_ACCOUNT, id=invitation["id"])

    assert accepted == {
        "data": {"acceptInvitation": {"role": "VIEWER", "account": {"id": ada.root}}}
    }


async def test_an_invitation_is_accepted_once(client: httpx.AsyncClient) -> None:
    ada = await tenant(client, "ada@example.com")
    invitation = await invite(ada, ada.root, "bob@example.com", "VIEWER")
    bob = await tenant(client, "bob@example.com")
    first = await bob.call(ACCEPT, id=invitation["id"])

    again = await bob.call(ACCEPT, id=invitation["id"])

    assert "errors" not in first, first
    assert error_codes(again) == ["CONFLICT"]
    assert reason(again) == "INVITATION_USED"


async def test_only_the_invitee_can_accept(client: httpx.AsyncClient) -> None:
    ada = await tenant(client, "ada@example.com")
    invitation = await invite(ada, ada.root, "bob@example.com", "OWNER")
    carol = await tenant(client, "carol@example.com")

    by_carol = await carol.call(ACCEPT, id=invitation["id"])
    by_ada = await ada.call(ACCEPT, id=invitation["id"])

    assert error_codes(by_carol) == ["NOT_FOUND"]
    assert error_codes(by_ada) == ["NOT_FOUND"]
    assert (await carol.call(VIEWER_ROLE, id=ada.root))["data"] == {"account": None}
    assert await invitation_statuses(ada, ada.root) == {"bob@example.com": "PENDING"}


@pytest.mark.parametrize("bad_id", ["", "garbage", ids.encode(ids.ACCOUNT, "nope")])
async def test_accepting_an_unknown_id_is_not_found(client: httpx.AsyncClient, bad_id: str) -> None:
    bob = await tenant(client, "bob@example.com")

    body = await bob.call(ACCEPT, id=bad_id)

    assert error_codes(body) == ["NOT_FOUND"]


async def test_a_revoked_invitation_cannot_be_accepted(client: httpx.AsyncClient) -> None:
    ada = await tenant(client, "ada@example.com")
    invitation = await invite(ada, ada.root, "bob@example.com", "VIEWER")
    bob = await tenant(client, "bob@example.com")

    revoked = await ada.call(REVOKE, id=invitation["id"])
    accepted = await bob.call(ACCEPT, id=invitation["id"])

    assert revoked == {"data": {"revokeInvitation": {"id": invitation["id"], "status": "REVOKED"}}}
    assert error_codes(accepted) == ["CONFLICT"]
    assert reason(accepted) == "INVITATION_REVOKED"
    assert (await bob.call(PENDING))["data"]["viewer"]["pendingInvitations"] == []
    assert (await bob.call(VIEWER_ROLE, id=ada.root))["data"] == {"account": None}
    assert await invitation_statuses(ada, ada.root) == {"bob@example.com": "REVOKED"}


UPDATE_MEMBER = """
mutation($account: ID!, $user: ID!, $role: Role!) {
  updateMember(accountId: $account, userId: $user, role: $role) { role }
}
"""
REMOVE_MEMBER = """
mutation($account: ID!, $user: ID!) { removeMember(accountId: $account, userId: $user) }
"""


@pytest.mark.parametrize(
    ("inviter_role", "invited_role", "then", "accepted"),
    [
        pytest.param("MANAGER", "VIEWER", "removed", False, id="inviter-removed"),
        pytest.param("MANAGER", "MANAGER", "VIEWER", False, id="inviter-made-viewer"),
        pytest.param("OWNER", "OWNER", "MANAGER", False, id="owner-inviter-made-manager"),
        pytest.param("OWNER", "MANAGER", "MANAGER", True, id="still-may-invite-managers"),
    ],
)
async def test_an_invitation_from_someone_who_lost_the_right_to_send_it_cannot_be_accepted(
    client: httpx.AsyncClient, inviter_role: str, invited_role: str, then: str, accepted: bool
) -> None:
    ada = await tenant(client, "ada@example.com")
    bob = await tenant(client, "bob@example.com")
    await join(ada, bob, ada.root, inviter_role)
    invitation = await invite(bob, ada.root, "carol@example.com", invited_role)
    carol = await tenant(client, "carol@example.com")
    if then == "removed":
        changed = await ada.call(REMOVE_MEMBER, account=ada.root, user=bob.user_id)
    else:
        changed = await ada.call(UPDATE_MEMBER, account=ada.root, user=bob.user_id, role=then)
    assert "errors" not in changed, changed

    body = await carol.call(ACCEPT, id=invitation["id"])

    seen = await carol.call(VIEWER_ROLE, id=ada.root)
    if accepted:
        assert body["data"]["acceptInvitation"]["role"] == invited_role
        assert seen["data"] == {"account": {"id": ada.root, "viewerRole": invited_role}}
    else:
        assert body["data"] is None
        assert error_codes(body) == ["CONFLICT"]
        assert reason(body) == "INVITER_NOT_ALLOWED"
        assert seen["data"] == {"account": None}
        assert (await invitation_statuses(ada, ada.root))["carol@example.com"] == "PENDING"


# ---------------------------------------------------------------- the account goes

DELETE_ACCOUNT = "mutation($id: ID!) { deleteAccount(id: $id) }"


async def test_deleting_an_account_revokes_its_invitations_and_the_invitee_reads_on(
    client: httpx.AsyncClient, aws: AwsClients, settings: Settings
) -> None:
    ada = await tenant(client, "ada@example.com")
    branch = await ada.create("Branch", ada.root)
    doomed = await invite(ada, branch, "bob@example.com", "VIEWER")
    kept = await invite(ada, ada.root, "bob@example.com", "VIEWER")
    bob = await tenant(client, "bob@example.com")

    deleted = await ada.call(DELETE_ACCOUNT, id=branch)
    pending = await bob.call(PENDING)
    by_node = await bob.call(NODE, id=doomed["id"])
    accepted = await bob.call(ACCEPT, id=doomed["id"])

    assert deleted == {"data": {"deleteAccount": branch}}
    assert "errors" not in pending, pending
    assert [i["id"] for i in pending["data"]["viewer"]["pendingInvitations"]] == [kept["id"]]
    assert by_node["data"] == {"node": None}
    assert error_codes(by_node) == ["NOT_FOUND"]
    assert error_codes(accepted) == ["NOT_FOUND"]
    stored = await aws.dynamodb.get_item(
        TableName=settings.names.table("invitations"),
        Key={"id": {"S": ids.decode_as(ids.INVITATION, doomed["id"]) or ""}},
    )
    assert stored["Item"]["status"] == {"S": "REVOKED"}


async def test_an_invitation_outliving_its_account_does_not_break_the_invitees_reads(
    client: httpx.AsyncClient, aws: AwsClients, settings: Settings
) -> None:
    """As deleteAccount left them before it revoked invitations: still PENDING."""
    ada = await tenant(client, "ada@example.com")
    branch = await ada.create("Branch", ada.root)
    orphan = await invite(ada, branch, "bob@example.com", "VIEWER")
    kept = await invite(ada, ada.root, "bob@example.com", "VIEWER")
    bob = await tenant(client, "bob@example.com")
    branch_key = ids.decode_as(ids.ACCOUNT, branch)
    assert branch_key
    await aws.dynamodb.delete_item(
        TableName=settings.names.table("accounts"), Key={"id": {"S": branch_key}}
    )

    pending = await bob.call(PENDING)
    by_node = await bob.call(NODE, id=orphan["id"])

    assert "errors" not in pending, pending
    assert [i["id"] for i in pending["data"]["viewer"]["pendingInvitations"]] == [kept["id"]]
    assert error_codes(by_node) == ["NOT_FOUND"]


# ---------------------------------------------------------------- expiry


@dataclass
class Clock:
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@dataclass
class ClockedApp:
    http: httpx.AsyncClient
    clock: Clock

    def as_(self, user: Tenant) -> Tenant:
        """The same signed-in user, calling the clocked app."""
        return Tenant(self.http, user.token, user.root, user.user_id, user.email)


@pytest.fixture
async def clocked(settings: Settings, client: httpx.AsyncClient) -> AsyncIterator[ClockedApp]:
    clock = Clock()
    async with (
        live_server(create_app(settings, clock=clock)) as url,
        httpx.AsyncClient(base_url=url, timeout=10) as http,
    ):
        yield ClockedApp(http, clock)


async def test_an_invitation_expires_after_seven_days(
    client: httpx.AsyncClient, clocked: ClockedApp
) -> None:
    ada = clocked.as_(await tenant(client, "ada@example.com"))
    bob = clocked.as_(await tenant(client, "bob@example.com"))
    invitation = await invite(ada, ada.root, bob.email, "VIEWER")

    clocked.clock.advance(WEEK - timedelta(seconds=1))
    pending_at_last_second = (await bob.call(PENDING))["data"]["viewer"]["pendingInvitations"]
    status_at_last_second = await invitation_statuses(ada, ada.root)
    clocked.clock.advance(timedelta(seconds=2))
    pending_after = (await bob.call(PENDING))["data"]["viewer"]["pendingInvitations"]
    accepted = await bob.call(ACCEPT, id=invitation["id"])

    assert [i["id"] for i in pending_at_last_second] == [invitation["id"]]
    assert status_at_last_second == {bob.email: "PENDING"}
    assert pending_after == []
    assert await invitation_statuses(ada, ada.root) == {bob.email: "EXPIRED"}
    assert error_codes(accepted) == ["CONFLICT"]
    assert reason(accepted) == "INVITATION_EXPIRED"
    assert (await bob.call(VIEWER_ROLE, id=ada.root))["data"] == {"account": None}


async def test_an_expired_invitation_no_longer_blocks_a_new_one(
    client: httpx.AsyncClient, clocked: ClockedApp
) -> None:
    ada = clocked.as_(await tenant(client, "ada@example.com"))
    await invite(ada, ada.root, "bob@example.com", "VIEWER")
    clocked.clock.advance(WEEK + timedelta(seconds=1))

    again = await ada.call(INVITE, account=ada.root, email="bob@example.com", role="VIEWER")

    assert "errors" not in again, again
    assert again["data"]["inviteMember"]["status"] == "PENDING"


# ---------------------------------------------------------------- limits


async def use_up_all_but_one(
    aws: AwsClients, settings: Settings, limit: Limit, identifier: str, now: datetime
) -> None:
    """Leave one invitation in the limit's current window: count one the way the app
    does, then raise the counter to one below the limit."""
    table = settings.names.table("rate-limits")
    await rate_limits.hit(RateLimitStore(aws.dynamodb, table), limit, identifier, now)
    [counter] = [
        item
        async for item in paginate(aws.dynamodb, "scan", TableName=table)
        if item["key"].startswith(f"{limit.name}#")
    ]
    await aws.dynamodb.update_item(
        TableName=table,
        Key={"key": {"S": counter["key"]}},
        UpdateExpression="SET hits = :n",
        ExpressionAttributeValues={":n": {"N": str(limit.limit - 1)}},
    )


@pytest.mark.parametrize("per", ["account", "inviter"])
async def test_invitations_are_limited_per_account_and_per_inviter_each_day(
    client: httpx.AsyncClient, clocked: ClockedApp, aws: AwsClients, settings: Settings, per: str
) -> None:
    ada = clocked.as_(await tenant(client, "ada@example.com"))
    other = await ada.create("Other", ada.root)
    if per == "account":
        limit, key = INVITATIONS_PER_ACCOUNT, ids.decode_as(ids.ACCOUNT, ada.root)
    else:
        limit, key = INVITATIONS_PER_INVITER, ids.decode_as(ids.USER, ada.user_id)
    assert key
    await use_up_all_but_one(aws, settings, limit, key, clocked.clock.now)
    # Over the account's limit only that account is refused; over the inviter's, any.
    refused_on = ada.root if per == "account" else other

    last = await ada.call(INVITE, account=ada.root, email="last@example.com", role="VIEWER")
    sent_before = len(await sent_emails())
    over = await ada.call(INVITE, account=refused_on, email="over@example.com", role="VIEWER")
    sent_after = len(await sent_emails())
    elsewhere = await ada.call(INVITE, account=other, email="else@example.com", role="VIEWER")
    clocked.clock.advance(timedelta(days=1))
    next_day = await ada.call(INVITE, account=refused_on, email="over@example.com", role="VIEWER")

    assert "errors" not in last, last
    assert over["data"] is None
    assert error_codes(over) == ["RATE_LIMITED"]
    assert reason(over) == "INVITATION_LIMIT"
    assert 0 < over["errors"][0]["extensions"]["retryAfter"] <= 86_400
    assert sent_after == sent_before
    assert ("errors" in elsewhere) is (per == "inviter")
    assert "errors" not in next_day, next_day


# ---------------------------------------------------------------- refusals


async def test_inviting_an_existing_member_conflicts(client: httpx.AsyncClient) -> None:
    ada = await tenant(client, "ada@example.com")
    bob = await tenant(client, "bob@example.com")
    await join(ada, bob, ada.root, "VIEWER")

    bob_again = await ada.call(INVITE, account=ada.root, email="BOB@example.com", role="MANAGER")
    herself = await ada.call(INVITE, account=ada.root, email=ada.email, role="VIEWER")

    for body in (bob_again, herself):
        assert body["data"] is None
        assert error_codes(body) == ["CONFLICT"]
        assert reason(body) == "ALREADY_MEMBER"


async def test_inviting_twice_while_pending_conflicts(client: httpx.AsyncClient) -> None:
    ada = await tenant(client, "ada@example.com")
    branch = await ada.create("Branch", ada.root)
    first = await invite(ada, ada.root, "bob@example.com", "VIEWER")

    twice = await ada.call(INVITE, account=ada.root, email="bob@example.com", role="MANAGER")
    elsewhere = await ada.call(INVITE, account=branch, email="bob@example.com", role="VIEWER")
    await ada.call(REVOKE, id=first["id"])
    after_revoking = await ada.call(
        INVITE, account=ada.root, email="bob@example.com", role="MANAGER"
    )

    assert error_codes(twice) == ["CONFLICT"]
    assert reason(twice) == "ALREADY_INVITED"
    assert "errors" not in elsewhere, elsewhere
    assert "errors" not in after_revoking, after_revoking


@pytest.mark.parametrize(
    "email", ["", "not-an-email", "two@@example.com", "no-dot@localhost", "a b@example.com"]
)
async def test_a_bad_email_is_bad_user_input(client: httpx.AsyncClient, email: str) -> None:
    ada = await tenant(client, "ada@example.com")

    body = await ada.call(INVITE, account=ada.root, email=email, role="VIEWER")

    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == "email"
    assert await invitation_statuses(ada, ada.root) == {}


async def test_a_manager_cannot_invite_an_owner(client: httpx.AsyncClient) -> None:
    ada = await tenant(client, "ada@example.com")
    bob = await tenant(client, "bob@example.com")
    await join(ada, bob, ada.root, "MANAGER")

    owner = await bob.call(INVITE, account=ada.root, email="carol@example.com", role="OWNER")
    manager = await bob.call(INVITE, account=ada.root, email="dave@example.com", role="MANAGER")

    assert error_codes(owner) == ["FORBIDDEN"]
    assert reason(owner) == "OWNER_REQUIRED"
    assert "errors" not in manager, manager
    assert "carol@example.com" not in await invitation_statuses(ada, ada.root)


async def test_an_ses_failure_leaves_no_invitation_behind(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    ada = await tenant(client, "ada@example.com")
    unverified = settings.model_copy(update={"email_from": "unverified@example.org"})
    sent_before = len(await sent_emails())

    async with (
        live_server(create_app(unverified)) as url,
        httpx.AsyncClient(base_url=url, timeout=10) as http,
    ):
        failing = Tenant(http, ada.token, ada.root, ada.user_id, ada.email)
        body = await failing.call(INVITE, account=ada.root, email="bob@example.com", role="VIEWER")

    assert body["data"] is None
    assert error_codes(body) == ["INTERNAL_SERVER_ERROR"]
    assert len(await sent_emails()) == sent_before
    assert await invitation_statuses(ada, ada.root) == {}
    retried = await ada.call(INVITE, account=ada.root, email="bob@example.com", role="VIEWER")
    assert "errors" not in retried, retried
