"""The signed-in user: profile, current account, memberships, invitations."""

from __future__ import annotations

from typing import Any

from listbackup.deps import Deps
from listbackup.errors import NotFoundError
from listbackup.models.accounts import Account, Membership
from listbackup.models.invitations import Invitation
from listbackup.models.pages import Page
from listbackup.models.users import Principal, ProfileChanges, User
from listbackup.services import access, validation
from listbackup.store.memberships import USER_INDEX_KEYS as MEMBERSHIP_CURSOR_KEYS
from listbackup.store.pages import page_request


async def update_profile(deps: Deps, *, principal: Principal, changes: ProfileChanges) -> User:
    now = deps.now()
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
    user = await deps.store.users.update(principal.user_id, changes=updates, now=now)
    deps.loaders.user.clear(user.id).prime(user.id, user)
    return user


async def get(deps: Deps, *, principal: Principal, user_id: str) -> User:
    """A user the caller may see: for now, only themselves."""
    if user_id != principal.user_id:
        raise NotFoundError("No user with that id.")
    return principal.user


async def current_account(deps: Deps, *, principal: Principal, user: User) -> Account | None:
    """The account the user works in; when it is gone (or out of reach), their root
    account, else the first account they belong to. Only for themselves."""
    if user.id != principal.user_id:
        return None
    for account_id in (user.current_account_id, user.root_account_id):
        if account_id and (account := await _visible(deps, principal, account_id)):
            return account
    first = await deps.loaders.memberships_by_user.load((user.id, 1, None))
    for membership in first.items:
        return await _visible(deps, principal, membership.account_id)
    return None


async def _visible(deps: Deps, principal: Principal, account_id: str) -> Account | None:
    account = await deps.loaders.account.load(account_id)
    if account is None:
        return None
    granted = await access.access(deps, user_id=principal.user_id, account=account)
    return account if granted.visible else None


async def memberships(
    deps: Deps, *, principal: Principal, user: User, first: int, after: str | None
) -> Page[Membership]:
    """A user's own memberships; other people's are not theirs to list."""
    page_request(first, after, MEMBERSHIP_CURSOR_KEYS)  # bad first/after: BAD_USER_INPUT
    if user.id != principal.user_id:
        return Page(items=(), end_cursor=None)
    return await deps.loaders.memberships_by_user.load((user.id, first, after))


async def pending_invitations(deps: Deps, *, principal: Principal, user: User) -> list[Invitation]:
    if user.id != principal.user_id:
        return []
    found = await deps.loaders.pending_invitations.load(user.email)
    # One can outlive its account (deleted before deletion revoked invitations, or just
    # now): it cannot be accepted, so it is left out rather than failing the whole read.
    accounts = await deps.loaders.account.load_many([i.account_id for i in found])
    return [i for i, a in zip(found, accounts, strict=True) if a is not None]
