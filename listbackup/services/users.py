"""The signed-in user: profile, current account, memberships, invitations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from listbackup.errors import NotFoundError
from listbackup.loaders import Loaders
from listbackup.models.accounts import Account, Membership
from listbackup.models.invitations import Invitation
from listbackup.models.users import Principal, ProfileChanges, User
from listbackup.services import access, validation
from listbackup.store import Store
from listbackup.store.memberships import USER_INDEX_KEYS as MEMBERSHIP_CURSOR_KEYS
from listbackup.store.pages import Page, page_request


async def update_profile(
    *, store: Store, loaders: Loaders, principal: Principal, changes: ProfileChanges, now: datetime
) -> User:
    updates: dict[str, Any] = {}
    for name, value in changes.fields.items():
        if name == "name":
            updates["name"] = validation.text(value or "", "name")
        elif name == "phone":
            updates["phone"] = validation.phone(value) if value else None
        elif name == "timezone":
            updates["timezone"] = validation.timezone(value) if value else None
    if not updates:
        return principal.user
    user = await store.users.update(principal.user_id, changes=updates, now=now)
    loaders.user.clear(user.id).prime(user.id, user)
    return user


async def get(*, loaders: Loaders, principal: Principal, user_id: str) -> User:
    """A user the caller may see: for now, only themselves."""
    if user_id != principal.user_id:
        raise NotFoundError("No user with that id.")
    return principal.user


async def current_account(*, loaders: Loaders, principal: Principal, user: User) -> Account | None:
    """The account the user works in; when it is gone (or out of reach), their root
    account, else the first account they belong to. Only for themselves."""
    if user.id != principal.user_id:
        return None
    for account_id in (user.current_account_id, user.root_account_id):
        if account_id and (account := await _visible(loaders, principal, account_id)):
            return account
    first = await loaders.memberships_by_user.load((user.id, 1, None))
    for membership in first.items:
        return await _visible(loaders, principal, membership.account_id)
    return None


async def _visible(loaders: Loaders, principal: Principal, account_id: str) -> Account | None:
    account = await loaders.account.load(account_id)
    if account is None:
        return None
    granted = await access.access(loaders=loaders, user_id=principal.user_id, account=account)
    return account if granted.visible else None


async def memberships(
    *, loaders: Loaders, principal: Principal, user: User, first: int, after: str | None
) -> Page[Membership]:
    """A user's own memberships; other people's are not theirs to list."""
    page_request(first, after, MEMBERSHIP_CURSOR_KEYS)  # bad first/after: BAD_USER_INPUT
    if user.id != principal.user_id:
        return Page(items=(), end_cursor=None)
    return await loaders.memberships_by_user.load((user.id, first, after))


async def pending_invitations(
    *, loaders: Loaders, principal: Principal, user: User
) -> list[Invitation]:
    if user.id != principal.user_id:
        return []
    found = await loaders.pending_invitations.load(user.email)
    # One can outlive its account (deleted before deletion revoked invitations, or just
    # now): it cannot be accepted, so it is left out rather than failing the whole read.
    accounts = await loaders.account.load_many([i.account_id for i in found])
    return [i for i, a in zip(found, accounts, strict=True) if a is not None]
