"""Deleting an account with more memberships and pending invitations than one transaction
holds: every membership goes and every pending invitation is revoked."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from listbackup.aws import AwsClients
from listbackup.deps import Deps
from listbackup.models.accounts import Account, Membership, Role
from listbackup.models.invitations import Invitation, InvitationStatus
from listbackup.models.users import Principal, User
from listbackup.services import accounts
from listbackup.store.accounts import to_item_data
from listbackup.store.dynamo import batch_write, paginate
from listbackup.store.invitations import to_item_data as invitation_item
from listbackup.store.memberships import to_item_data as membership_item

NOW = datetime(2026, 6, 1, tzinfo=UTC)
MEMBERS = 60
INVITED = 80


async def test_a_crowded_account_is_deleted_with_all_its_members_and_invitations(
    aws: AwsClients, deps: Deps
) -> None:
    store = deps.store
    owner = User(id="owner", email="owner@example.com", name="Owner", created_at=NOW)
    members = [f"member-{n:02}" for n in range(MEMBERS)]
    root = Account(
        id="root", name="Root", path=("root",), created_at=NOW, child_count=1, owner_count=1,
        member_ids=frozenset({"owner"}),
    )  # fmt: skip
    crowded = Account(
        id="crowded", name="Crowded", path=("root", "crowded"), created_at=NOW,
        member_ids=frozenset(members),
    )  # fmt: skip
    await batch_write(
        aws.dynamodb, store.accounts.table, puts=[to_item_data(root), to_item_data(crowded)]
    )
    await store.transact(
        [
            store.users.put_new(owner),
            store.memberships.put_new(Membership("root", "owner", Role.OWNER, NOW)),
        ]
    )
    await batch_write(
        aws.dynamodb,
        store.memberships.table,
        puts=[membership_item(Membership("crowded", m, Role.VIEWER, NOW)) for m in members],
    )
    invitations = [
        Invitation(
            id=f"invitation-{n:02}",
            account_id="crowded",
            email=f"invitee-{n:02}@example.com",
            role=Role.VIEWER,
            stored_status=InvitationStatus.PENDING,
            expires_at=NOW + timedelta(days=7),
            created_at=NOW,
            invited_by="owner",
        )
        for n in range(INVITED)
    ]
    await batch_write(
        aws.dynamodb, store.invitations.table, puts=[invitation_item(i) for i in invitations]
    )

    await accounts.delete(
        replace(deps, clock=lambda: NOW),
        principal=Principal(user=owner, access_token="unused"),
        account_id="crowded",
    )

    left = [i async for i in paginate(aws.dynamodb, "scan", TableName=store.memberships.table)]
    statuses = {
        i["id"]: i["status"]
        async for i in paginate(aws.dynamodb, "scan", TableName=store.invitations.table)
    }
    [gone, parent] = await store.accounts.get_many(["crowded", "root"])
    assert gone is None
    assert parent is not None
    assert parent.child_count == 0
    assert [(m["accountId"], m["userId"]) for m in left] == [("root", "owner")]
    assert statuses == {i.id: "REVOKED" for i in invitations}
