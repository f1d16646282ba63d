"""Invitations to join an account, as the people involved may see them."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from listbackup import ids
from listbackup.context import Context
from listbackup.models.invitations import Invitation as InvitationModel
from listbackup.resolvers import invitations as invitation_resolvers
from listbackup.schema import node
from listbackup.schema.enums import InvitationStatus, Role
from listbackup.schema.types.members import Membership

if TYPE_CHECKING:
    from listbackup.schema.types.accounts import Account
    from listbackup.schema.types.users import User

AccountType = Annotated["Account", strawberry.lazy("listbackup.schema.types.accounts")]
UserType = Annotated["User", strawberry.lazy("listbackup.schema.types.users")]


@strawberry.type
class Invitation(node.Node):
    id: strawberry.ID
    email: str
    role: Role
    expires_at: datetime
    created_at: datetime
    model: strawberry.Private[InvitationModel]

    @classmethod
    def from_model(cls, invitation: InvitationModel) -> Invitation:
        return cls(
            id=strawberry.ID(ids.encode(ids.INVITATION, invitation.id)),
            email=invitation.email,
            role=invitation.role,
            expires_at=invitation.expires_at,
            created_at=invitation.created_at,
            model=invitation,
        )

    @strawberry.field(description="EXPIRED once a pending invitation passes expiresAt.")
    def status(self, info: Info[Context, None]) -> InvitationStatus:
        return self.model.status_at(info.context.now())

    @strawberry.field
    async def account(self, info: Info[Context, None]) -> AccountType:
        found = await invitation_resolvers.account_of(info.context, invitation=self.model)
        account: AccountType = node.wrap(found)
        return account

    @strawberry.field
    async def invited_by(self, info: Info[Context, None]) -> UserType | None:
        found = await invitation_resolvers.inviter_of(info.context, invitation=self.model)
        inviter: UserType | None = node.wrap(found) if found else None
        return inviter


node.register(InvitationModel, Invitation.from_model)


@strawberry.type
class InvitationMutation:
    @strawberry.mutation(description="Emails an invitation valid for 7 days; needs INVITE_USERS.")
    async def invite_member(
        self, info: Info[Context, None], account_id: strawberry.ID, email: str, role: Role
    ) -> Invitation:
        invitation = await invitation_resolvers.invite(
            info.context, account_id=node.key(ids.ACCOUNT, account_id), email=email, role=role
        )
        return Invitation.from_model(invitation)

    @strawberry.mutation(description="Only by the person invited, while it is pending.")
    async def accept_invitation(self, info: Info[Context, None], id: strawberry.ID) -> Membership:
        membership = await invitation_resolvers.accept(
            info.context, invitation_id=node.key(ids.INVITATION, id)
        )
        return Membership.from_model(membership)

    @strawberry.mutation(description="Needs INVITE_USERS.")
    async def revoke_invitation(self, info: Info[Context, None], id: strawberry.ID) -> Invitation:
        invitation = await invitation_resolvers.revoke(
            info.context, invitation_id=node.key(ids.INVITATION, id)
        )
        return Invitation.from_model(invitation)
