"""Invitations to join an account, as the people involved may see them."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime, timedelta

from listbackup.deps import Deps
from listbackup.errors import ConflictError, ForbiddenError, NotFoundError
from listbackup.models.accounts import (
    ROLE_PERMISSIONS,
    Access,
    Account,
    Membership,
    Permission,
    Role,
)
from listbackup.models.invitations import Invitation, InvitationStatus
from listbackup.models.pages import Page
from listbackup.models.users import Principal, User
from listbackup.services import access, emails, rate_limits, validation


def _is_invitee(principal: Principal, invitation: Invitation) -> bool:
    return invitation.email == principal.user.email


async def account(deps: Deps, *, principal: Principal, invitation: Invitation) -> Account:
    """The inviting account: visible to its members and to the person invited."""
    if _is_invitee(principal, invitation):
        found = await deps.loaders.account.load(invitation.account_id)
        if found is None:
            raise NotFoundError(access.NO_ACCOUNT)
        return found
    found, _ = await access.visible_account(
        deps, principal=principal, account_id=invitation.account_id
    )
    return found


async def inviter(deps: Deps, *, principal: Principal, invitation: Invitation) -> User | None:
    """Who sent the invitation, shown to its sender and to the person invited."""
    if invitation.invited_by is None:
        return None
    if invitation.invited_by == principal.user_id:
        return principal.user
    if _is_invitee(principal, invitation):
        return await deps.loaders.user.load(invitation.invited_by)
    return None


INVITATION_LIFETIME = timedelta(days=7)
NO_INVITATION = "No invitation with that id."


async def get(deps: Deps, *, principal: Principal, invitation_id: str) -> Invitation:
    """An invitation the caller may see: theirs, or their account's if they may invite."""
    invitation = await deps.loaders.invitation.load(invitation_id) if invitation_id else None
    if invitation is None:
        raise NotFoundError(NO_INVITATION)
    if _is_invitee(principal, invitation):
        # An invitation to an account that is gone leads nowhere: it is gone too.
        if await deps.loaders.account.load(invitation.account_id) is None:
            raise NotFoundError(NO_INVITATION)
        return invitation
    try:
        await access.require(
            deps,
            principal=principal,
            account_id=invitation.account_id,
            permission=Permission.INVITE_USERS,
        )
    except (NotFoundError, ForbiddenError):
        raise NotFoundError(NO_INVITATION) from None
    return invitation


async def invite(
    deps: Deps, *, principal: Principal, account_id: str, email: str, role: Role
) -> Invitation:
    now = deps.now()
    account = await access.require(
        deps, principal=principal, account_id=account_id, permission=Permission.INVITE_USERS
    )
    email = validation.email(email)
    granted = await access.access(deps, user_id=principal.user_id, account=account)
    if refusal := _refusal(granted, role):
        raise refusal
    existing_user = await deps.store.users.find_by_email(email)
    if existing_user and await deps.loaders.membership.load((account.id, existing_user)):
        raise ConflictError("They are already a member of this account.", reason="ALREADY_MEMBER")
    pending = await deps.loaders.pending_invitations.load(email)
    if any(i.account_id == account.id for i in pending):
        raise ConflictError(
            "They already have a pending invitation to this account.", reason="ALREADY_INVITED"
        )
    await _count_invitation(deps, inviter=principal.user_id, account=account.id)
    invitation = Invitation(
        id=str(uuid.uuid4()),
        account_id=account.id,
        email=email,
        role=role,
        stored_status=InvitationStatus.PENDING,
        expires_at=now + INVITATION_LIFETIME,
        created_at=now,
        invited_by=principal.user_id,
    )
    message = emails.invitation(
        inviter_name=principal.user.name,
        account_name=account.name,
        role=role,
        expires_at=invitation.expires_at,
        app_url=deps.settings.app_url,
    )
    await deps.store.invitations.put_new(invitation)
    try:
        await deps.mailer.send(to=email, subject=message.subject, body=message.body)
    except BaseException:
        # No email, no invitation: the inviter sees the failure and can try again.
        await deps.store.invitations.delete(invitation.id)
        raise
    return invitation


async def _count_invitation(deps: Deps, inviter: str, account: str) -> None:
    """Count one invitation against both daily limits; RATE_LIMITED over either.

    Counted once everything else has been checked, so only invitations that would be
    sent use up the allowance; the counters add atomically across server processes.
    """
    now = deps.now()
    await rate_limits.hit(deps.store.rate_limits, rate_limits.INVITATIONS_PER_INVITER, inviter, now)
    await rate_limits.hit(deps.store.rate_limits, rate_limits.INVITATIONS_PER_ACCOUNT, account, now)


async def accept(deps: Deps, *, principal: Principal, invitation_id: str) -> Membership:
    now = deps.now()
    invitation = await deps.loaders.invitation.load(invitation_id) if invitation_id else None
    if invitation is None or not _is_invitee(principal, invitation):
        raise NotFoundError(NO_INVITATION)
    account = await deps.loaders.account.load(invitation.account_id)
    if account is None:
        raise NotFoundError(NO_INVITATION)
    _check_pending(invitation, now)
    if await deps.loaders.membership.load((account.id, principal.user_id)):
        raise ConflictError("You are already a member of this account.", reason="ALREADY_MEMBER")
    await _check_inviter(deps, invitation, account)
    membership = Membership(
        account_id=account.id, user_id=principal.user_id, role=invitation.role, joined_at=now
    )
    await deps.store.transact(
        [
            deps.store.invitations.answer(invitation, InvitationStatus.ACCEPTED, now),
            deps.store.memberships.put_new(membership),
            deps.store.accounts.members_changed(
                account,
                joined=principal.user_id,
                owner_delta=int(invitation.role is Role.OWNER),
            ),
        ]
    )
    key = (account.id, principal.user_id)
    deps.loaders.membership.clear(key).prime(key, membership)
    return membership


async def revoke(deps: Deps, *, principal: Principal, invitation_id: str) -> Invitation:
    now = deps.now()
    invitation = await get(deps, principal=principal, invitation_id=invitation_id)
    try:
        await access.require(
            deps,
            principal=principal,
            account_id=invitation.account_id,
            permission=Permission.INVITE_USERS,
        )
    except NotFoundError:
        # The invitee sees the invitation but may not withdraw it (they can ignore it).
        raise ForbiddenError(
            "Only the account's members who may invite can revoke.",
            reason="MISSING_PERMISSION",
        ) from None
    _check_pending(invitation, now)
    await deps.store.transact(
        [deps.store.invitations.answer(invitation, InvitationStatus.REVOKED, now)]
    )
    return replace(invitation, stored_status=InvitationStatus.REVOKED)


def _refusal(granted: Access, role: Role) -> ForbiddenError | None:
    """Why someone holding ``granted`` may not invite to ``role``, if they may not."""
    if Permission.INVITE_USERS not in granted.permissions:
        return ForbiddenError(
            "You need the INVITE_USERS permission on this account.", reason="MISSING_PERMISSION"
        )
    if role is Role.OWNER and granted.role is not Role.OWNER:
        return ForbiddenError("Only an owner can invite an owner.", reason="OWNER_REQUIRED")
    if not ROLE_PERMISSIONS[role] <= granted.permissions:
        return ForbiddenError(
            "You cannot invite someone with more permissions than you hold.",
            reason="PERMISSION_ESCALATION",
        )
    return None


async def _check_inviter(deps: Deps, invitation: Invitation, account: Account) -> None:
    """An invitation is only as good as its sender's rights today: one sent by someone
    since removed or demoted would otherwise grant what they no longer may."""
    granted = (
        await access.access(deps, user_id=invitation.invited_by, account=account)
        if invitation.invited_by
        else access.NO_ACCESS
    )
    if _refusal(granted, invitation.role):
        raise ConflictError(
            "Whoever invited you can no longer grant this access; ask for a new invitation.",
            reason="INVITER_NOT_ALLOWED",
        )


def _check_pending(invitation: Invitation, now: datetime) -> None:
    status = invitation.status_at(now)
    if status is InvitationStatus.PENDING:
        return
    reasons = {
        InvitationStatus.EXPIRED: ("This invitation has expired.", "INVITATION_EXPIRED"),
        InvitationStatus.REVOKED: ("This invitation was revoked.", "INVITATION_REVOKED"),
        InvitationStatus.ACCEPTED: ("This invitation was already accepted.", "INVITATION_USED"),
    }
    message, reason = reasons[status]
    raise ConflictError(message, reason=reason)


async def list_for_account(
    deps: Deps, *, principal: Principal, account: Account, first: int, after: str | None
) -> Page[Invitation]:
    await access.require(
        deps, principal=principal, account_id=account.id, permission=Permission.INVITE_USERS
    )
    return await deps.loaders.invitations_by_account.load((account.id, first, after))
