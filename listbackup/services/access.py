"""The one place that decides who may see and do what on an account.

A membership on an account applies to it and every account below it; the effective
permissions on an account are the union of the user's active memberships on it and on
its ancestors. An account the user cannot see answers exactly like a missing one.
"""

from __future__ import annotations

from typing import Protocol, TypeVar

from listbackup.deps import Deps
from listbackup.errors import ForbiddenError, NotFoundError
from listbackup.models.accounts import (
    Access,
    Account,
    Membership,
    MembershipStatus,
    Permission,
    Role,
)
from listbackup.models.users import Principal

_RANK = {Role.VIEWER: 1, Role.MANAGER: 2, Role.OWNER: 3}
NO_ACCESS = Access(role=None, permissions=frozenset(), inherited=False)
NO_ACCOUNT = "No account with that id."


class Owned(Protocol):
    """Anything that belongs to one account: a connection, a source, a job."""

    @property
    def account_id(self) -> str: ...


T = TypeVar("T", bound=Owned)


async def _active_on_path(deps: Deps, user_id: str, account: Account) -> list[Membership]:
    """The user's active memberships on the account and its ancestors, root first."""
    found = await deps.loaders.membership.load_many([(aid, user_id) for aid in account.path])
    return [m for m in found if m is not None and m.status is MembershipStatus.ACTIVE]


async def highest_visible_level(deps: Deps, *, user_id: str, account: Account) -> int | None:
    """The level of the highest account on the path the user holds a membership on."""
    active = await _active_on_path(deps, user_id, account)
    return account.path.index(active[0].account_id) if active else None


async def access(deps: Deps, *, user_id: str, account: Account) -> Access:
    active = await _active_on_path(deps, user_id, account)
    if not active:
        return NO_ACCESS
    strongest = max(active, key=lambda m: (_RANK[m.role], m.account_id == account.id))
    permissions: frozenset[Permission] = frozenset().union(*(m.permissions for m in active))
    return Access(
        role=strongest.role,
        permissions=permissions,
        inherited=strongest.account_id != account.id,
    )


async def visible_account(
    deps: Deps, *, principal: Principal, account_id: str
) -> tuple[Account, Access]:
    """The account and the caller's access to it; NOT_FOUND when missing or invisible."""
    account = await deps.loaders.account.load(account_id) if account_id else None
    if account is None:
        raise NotFoundError(NO_ACCOUNT)
    granted = await access(deps, user_id=principal.user_id, account=account)
    if not granted.visible:
        raise NotFoundError(NO_ACCOUNT)
    return account, granted


async def require(
    deps: Deps, *, principal: Principal, account_id: str, permission: Permission
) -> Account:
    """The account, if the caller holds ``permission`` on it; FORBIDDEN if only visible."""
    account, granted = await visible_account(deps, principal=principal, account_id=account_id)
    demand(granted, permission)
    return account


async def visible(deps: Deps, *, principal: Principal, item: T | None, missing: str) -> T:
    """The item, if it exists and the caller sees its account; else NOT_FOUND with
    ``missing``, the same answer either way."""
    found, _ = await _access_to(deps, principal, item, missing)
    return found


async def managed(
    deps: Deps, *, principal: Principal, item: T | None, missing: str, permission: Permission
) -> T:
    """As :func:`visible`, and FORBIDDEN unless the caller holds ``permission`` there."""
    found, granted = await _access_to(deps, principal, item, missing)
    demand(granted, permission)
    return found


async def _access_to(
    deps: Deps, principal: Principal, item: T | None, missing: str
) -> tuple[T, Access]:
    if item is None:
        raise NotFoundError(missing)
    try:
        _, granted = await visible_account(deps, principal=principal, account_id=item.account_id)
    except NotFoundError:
        raise NotFoundError(missing) from None
    return item, granted


def demand(granted: Access, permission: Permission) -> None:
    """FORBIDDEN unless ``granted`` (on an account the caller sees) includes ``permission``."""
    if permission not in granted.permissions:
        raise ForbiddenError(
            f"You need the {permission.value} permission on this account.",
            reason="MISSING_PERMISSION",
        )


def exceeds(after: Access, before: Access) -> bool:
    """Whether ``after`` gives more than ``before``: a stronger role or any new permission."""
    return _rank(after.role) > _rank(before.role) or not after.permissions <= before.permissions


def _rank(role: Role | None) -> int:
    return _RANK[role] if role else 0
