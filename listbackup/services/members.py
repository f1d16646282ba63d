"""Who belongs to an account, with which role and permissions.

A membership on an account also applies to every account below it, so an account's
members are its own plus those of its ancestors (``inherited``), nearest first.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, replace

from listbackup.deps import Deps
from listbackup.errors import BadUserInputError, ConflictError, ForbiddenError, NotFoundError
from listbackup.models.accounts import (
    ROLE_PERMISSIONS,
    Access,
    Account,
    Membership,
    Permission,
    Role,
)
from listbackup.models.pages import Page
from listbackup.models.users import Principal, User
from listbackup.services import access
from listbackup.store.pages import check_first

NO_MEMBER = "No such member of this account."


@dataclass(frozen=True, slots=True)
class Member:
    membership: Membership
    #: True when the membership is on an ancestor of the account listed.
    inherited: bool
    #: The account whose members were listed.
    listed_on: str | None = None


async def list_members(
    deps: Deps, *, principal: Principal, account: Account, first: int, after: str | None
) -> Page[Member]:
    """Direct members (by user id), then those of each ancestor, nearest first; everyone
    once, under their closest membership. One BatchGetItem for the page's memberships."""
    await access.visible_account(deps, principal=principal, account_id=account.id)
    offset = _offset(after, first)
    if first == 0:  # an empty page, as every list answers it: nothing to read
        return Page(items=(), end_cursor=None)
    path = await deps.loaders.account.load_many(list(account.path))
    entries: list[tuple[str, str, bool]] = []
    seen: set[str] = set()
    for distance, holder in enumerate(reversed(path)):
        if holder is None:
            continue
        for user_id in sorted(holder.member_ids - seen):
            seen.add(user_id)
            entries.append((holder.id, user_id, distance > 0))
    window = entries[offset : offset + first]
    found = await deps.loaders.membership.load_many([(a, u) for a, u, _ in window])
    items = [
        Member(m, inherited=inherited, listed_on=account.id)
        for m, (_, _, inherited) in zip(found, window, strict=True)
        if m is not None
    ]
    more = offset + first < len(entries)
    return Page(items, _encode(offset + first) if more else None)


def _encode(offset: int) -> str:
    return base64.urlsafe_b64encode(f"members:{offset}".encode()).decode("ascii").rstrip("=")


def _offset(after: str | None, first: int) -> int:
    check_first(first)
    if after is None:
        return 0
    try:
        kind, _, number = (
            base64.urlsafe_b64decode(after.encode("ascii") + b"===").decode().partition(":")
        )
        offset = int(number)
    except (binascii.Error, UnicodeError, ValueError):
        kind, offset = "", -1
    if kind != "members" or offset < 0:
        raise BadUserInputError("after is not a cursor from this list.", field="after")
    return offset


async def update(
    deps: Deps,
    *,
    principal: Principal,
    account_id: str,
    user_id: str,
    role: Role,
    permissions: frozenset[Permission] | None,
) -> Member:
    account = await access.require(
        deps, principal=principal, account_id=account_id, permission=Permission.INVITE_USERS
    )
    granted = await access.access(deps, user_id=principal.user_id, account=account)
    target = await _direct_member(deps, account, user_id)
    _check_grant(granted, role=role, old_role=target.role, permissions=permissions)
    new = replace(target, role=role, permissions_override=permissions)
    delta = (role is Role.OWNER) - (target.role is Role.OWNER)
    items = [deps.store.memberships.replace(target, new)]
    if delta:
        _keep_an_owner(account, delta)
        items.append(
            deps.store.accounts.members_changed(
                account, owner_delta=delta, keep_an_owner=delta < 0 and account.level == 0
            )
        )
    await deps.store.transact(items)
    deps.loaders.membership.clear((account.id, user_id)).prime((account.id, user_id), new)
    return Member(new, inherited=False)


async def remove(deps: Deps, *, principal: Principal, account_id: str, user_id: str) -> None:
    leaving = user_id == principal.user_id
    if leaving:
        account, granted = await access.visible_account(
            deps, principal=principal, account_id=account_id
        )
    else:
        account = await access.require(
            deps, principal=principal, account_id=account_id, permission=Permission.INVITE_USERS
        )
        granted = await access.access(deps, user_id=principal.user_id, account=account)
    target = await _direct_member(deps, account, user_id)
    if target.role is Role.OWNER and not leaving and granted.role is not Role.OWNER:
        raise ForbiddenError("Only an owner can remove an owner.", reason="OWNER_REQUIRED")
    owner = target.role is Role.OWNER
    if owner:
        _keep_an_owner(account, -1)
    await deps.store.transact(
        [
            deps.store.memberships.remove(target),
            deps.store.accounts.members_changed(
                account,
                left=user_id,
                owner_delta=-int(owner),
                keep_an_owner=owner and account.level == 0,
            ),
        ]
    )
    deps.loaders.membership.clear((account.id, user_id))


async def _direct_member(deps: Deps, account: Account, user_id: str) -> Membership:
    membership = await deps.loaders.membership.load((account.id, user_id)) if user_id else None
    if membership is None:
        raise NotFoundError(NO_MEMBER)
    return membership


def _check_grant(
    granted: Access,
    *,
    role: Role,
    old_role: Role,
    permissions: frozenset[Permission] | None,
) -> None:
    """Nobody hands out more than they hold; only owners make or unmake owners."""
    if Role.OWNER in (role, old_role) and granted.role is not Role.OWNER:
        raise ForbiddenError("Only an owner can grant or change an owner.", reason="OWNER_REQUIRED")
    wanted = permissions if permissions is not None else ROLE_PERMISSIONS[role]
    if not wanted <= granted.permissions:
        raise ForbiddenError(
            "You cannot grant permissions you do not hold.", reason="PERMISSION_ESCALATION"
        )


def _keep_an_owner(account: Account, delta: int) -> None:
    # Sub-accounts inherit their root's owners; a root must keep one of its own.
    if delta < 0 and account.level == 0 and account.owner_count <= 1:
        raise ConflictError("An account must keep at least one owner.", reason="LAST_OWNER")


async def account_of(
    deps: Deps, *, principal: Principal, membership: Membership, listed_on: str | None
) -> Account:
    """The account holding the membership; for an inherited one the caller cannot see
    (a member of the sub-account only), the account whose members were listed."""
    try:
        holder, _ = await access.visible_account(
            deps, principal=principal, account_id=membership.account_id
        )
    except NotFoundError:
        if listed_on is None:
            raise
        holder, _ = await access.visible_account(deps, principal=principal, account_id=listed_on)
    return holder


async def user_of(deps: Deps, *, membership: Membership) -> User:
    """The person behind a membership the caller was shown (seeing it shows them)."""
    user = await deps.loaders.user.load(membership.user_id)
    if user is None:
        raise NotFoundError("No user with that id.")
    return user
