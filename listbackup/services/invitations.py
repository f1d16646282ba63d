"""Invitations to join an account, as the people involved may see them."""

from __future__ import annotations

from listbackup.errors import NotFoundError
from listbackup.loaders import Loaders
from listbackup.models.accounts import Account
from listbackup.models.invitations import Invitation
from listbackup.models.users import Principal, User
from listbackup.services import access


def _is_invitee(principal: Principal, invitation: Invitation) -> bool:
    return invitation.email == principal.user.email


async def account(*, loaders: Loaders, principal: Principal, invitation: Invitation) -> Account:
    """The inviting account: visible to its members and to the person invited."""
    if _is_invitee(principal, invitation):
        found = await loaders.account.load(invitation.account_id)
        if found is None:
            raise NotFoundError(access.NO_ACCOUNT)
        return found
    found, _ = await access.visible_account(
        loaders=loaders, principal=principal, account_id=invitation.account_id
    )
    return found


async def inviter(*, loaders: Loaders, principal: Principal, invitation: Invitation) -> User | None:
    """Who sent the invitation, shown to its sender and to the person invited."""
    if invitation.invited_by is None:
        return None
    if invitation.invited_by == principal.user_id:
        return principal.user
    if _is_invitee(principal, invitation):
        return await loaders.user.load(invitation.invited_by)
    return None
