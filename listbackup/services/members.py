"""Who belongs to an account, with which role and permissions.

A membership on an account also applies to every account below it, so an account's
members are its own plus those of its ancestors (``inherited``), nearest first.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, replace

from listbackup.errors import BadUserInputError, ConflictError, ForbiddenError, NotFoundError
from listbackup.loaders import Loaders
from listbackup.models.accounts import (
    ROLE_PERMISSIONS,
    Access,
    Account,
    Membership,
    Permission,
    Role,
)
from listbackup.models.users import Principal, User
from listbackup.services import access
from listbackup.store import Store
from listbackup.store.memberships import TABLE_KEYS
from listbackup.store.pages import Page, page_request

NO_MEMBER = "No such member of this account."


@dataclass(frozen=True, slots=True)
class Member:
    membership: Membership
    #: True when the membership is on an ancestor of the account listed.
    inherited: bool


async def list_members(
    *, loaders: Loaders, principal: Principal, account: Account, first: int, after: str | None
) -> Page[Member]:
    await access.visible_account(loaders=loaders, principal=principal, account_id=account.id)
    distance, inner = _decode(after, len(account.path))
    page_request(first, inner, TABLE_KEYS)  # validate first/after before any read
    holder = account.path[-1 - distance]
    page = await loaders.memberships_by_account.load((holder, first, inner))
    items = list(page.items)
    if distance:
        # Someone with a membership closer to the account is listed there instead.
        closer = account.path[len(account.path) - distance :]
        shadows = await loaders.membership.load_many(
            [(aid, m.user_id) for m in items for aid in closer]
        )
        shadowed = {s.user_id for s in shadows if s is not None}
        items = [m for m in items if m.user_id not in shadowed]
    if page.end_cursor:
        cursor: str | None = _encode(distance, page.end_cursor)
    elif distance + 1 < len(account.path):
        cursor = _encode(distance + 1, None)
    else:
        cursor = None
    return Page([Member(m, inherited=distance > 0) for m in items], cursor)


def _encode(distance: int, inner: str | None) -> str:
    raw = json.dumps({"d": distance, "c": inner}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _decode(after: str | None, depth: int) -> tuple[int, str | None]:
    if after is None:
        return 0, None
    try:
        data = json.loads(base64.urlsafe_b64decode(after.encode("ascii") + b"==="))
        distance, inner = data["d"], data["c"]
    except (binascii.Error, UnicodeError, ValueError, KeyError, TypeError):
        distance, inner = None, None
    if (
        not isinstance(distance, int)
        or not 0 <= distance < depth
        or not (inner is None or isinstance(inner, str))
    ):
        raise BadUserInputError("after is not a cursor from this list.", field="after")
    return distance, inner


async def update(
    *,
    store: Store,
    loaders: Loaders,
    principal: Principal,
    account_id: str,
    user_id: str,
    role: Role,
    permissions: frozenset[Permission] | None,
) -> Member:
    account = await access.require(
        loaders=loaders,
        principal=principal,
        account_id=account_id,
        permission=Permission.INVITE_USERS,
    )
    granted = await access.access(loaders=loaders, user_id=principal.user_id, account=account)
    target = await _direct_member(loaders, account, user_id)
    _check_grant(granted, role=role, old_role=target.role, permissions=permissions)
    new = replace(target, role=role, permissions_override=permissions)
    delta = (role is Role.OWNER) - (target.role is Role.OWNER)
    items = [store.memberships.replace(target, new)]
    if delta:
        _keep_an_owner(account, delta)
        items.append(store.accounts.change_owners(account, delta, keep_one=account.level == 0))
    await store.transact(items)
    loaders.membership.clear((account.id, user_id)).prime((account.id, user_id), new)
    return Member(new, inherited=False)


async def remove(
    *, store: Store, loaders: Loaders, principal: Principal, account_id: str, user_id: str
) -> None:
    leaving = user_id == principal.user_id
    if leaving:
        account, granted = await access.visible_account(
            loaders=loaders, principal=principal, account_id=account_id
        )
    else:
        account = await access.require(
            loaders=loaders,
            principal=principal,
            account_id=account_id,
            permission=Permission.INVITE_USERS,
        )
        granted = await access.access(loaders=loaders, user_id=principal.user_id, account=account)
    target = await _direct_member(loaders, account, user_id)
    if target.role is Role.OWNER and not leaving and granted.role is not Role.OWNER:
        raise ForbiddenError("Only an owner can remove an owner.", reason="OWNER_REQUIRED")
    items = [store.memberships.remove(target)]
    if target.role is Role.OWNER:
        _keep_an_owner(account, -1)
        items.append(store.accounts.change_owners(account, -1, keep_one=account.level == 0))
    await store.transact(items)
    loaders.membership.clear((account.id, user_id))


async def _direct_member(loaders: Loaders, account: Account, user_id: str) -> Membership:
    membership = await loaders.membership.load((account.id, user_id)) if user_id else None
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


async def user_of(*, loaders: Loaders, membership: Membership) -> User:
    """The person behind a membership the caller was shown (seeing it shows them)."""
    user = await loaders.user.load(membership.user_id)
    if user is None:
        raise NotFoundError("No user with that id.")
    return user
