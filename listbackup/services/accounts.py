"""The account tree: create, change, move and delete accounts; read up and down the tree.

Every read and write checks the caller's access first (services/access.py); an account
the caller cannot see answers exactly like one that does not exist.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from listbackup.deps import Deps
from listbackup.errors import BadUserInputError, ConflictError, ForbiddenError
from listbackup.models.accounts import Account, AccountSettings, Permission
from listbackup.models.invitations import InvitationStatus
from listbackup.models.pages import Page
from listbackup.models.users import Principal, User
from listbackup.services import access, validation
from listbackup.store import Store
from listbackup.store.accounts import settings_map
from listbackup.store.moves import Move

log = logging.getLogger(__name__)

#: TransactWriteItems takes 100 items; a move also touches the journal and two parents.
MOVE_BATCH = 96
MAX_RETENTION_DAYS = 3650
MAX_SUB_ACCOUNTS_LIMIT = 10_000
MAX_SOURCES_LIMIT = 1_000


@dataclass(frozen=True, slots=True)
class SettingsChanges:
    allow_sub_accounts: bool | None = None
    max_sub_accounts: int | None = None
    #: True when max_sub_accounts was given as null: remove the limit.
    clear_max_sub_accounts: bool = False
    default_retention_days: int | None = None
    timezone: str | None = None
    #: Plan limits: need MANAGE_BILLING.
    max_sources: int | None = None
    min_schedule_minutes: int | None = None

    @property
    def plan_limits(self) -> bool:
        return self.max_sources is not None or self.min_schedule_minutes is not None


async def create(
    deps: Deps, *, principal: Principal, name: str, parent_id: str, company: str | None
) -> Account:
    now = deps.now()
    name = validation.text(name, "name")
    company = validation.text(company, "company") if company else None
    parent = await access.require(
        deps, principal=principal, account_id=parent_id, permission=Permission.CREATE_SUB_ACCOUNTS
    )
    _check_room(parent)
    account_id = str(uuid.uuid4())
    account = Account(
        id=account_id,
        name=name,
        company=company,
        path=(*parent.path, account_id),
        created_at=now,
        created_by=principal.user_id,
        settings=AccountSettings(
            default_retention_days=parent.settings.default_retention_days,
            timezone=parent.settings.timezone,
        ),
    )
    try:
        await deps.store.transact(
            [
                deps.store.accounts.put_new(account),
                deps.store.accounts.add_child(
                    parent, max_children=parent.settings.max_sub_accounts
                ),
            ]
        )
    except ConflictError:
        # The parent filled up (or moved) between our read and our write.
        fresh = await deps.store.accounts.get_many([parent.id])
        if fresh[0] is not None:
            _check_room(fresh[0])
        raise
    return account


def _check_room(parent: Account) -> None:
    if not parent.settings.allow_sub_accounts:
        raise ConflictError(
            "This account does not allow sub-accounts.", reason="SUB_ACCOUNTS_NOT_ALLOWED"
        )
    limit = parent.settings.max_sub_accounts
    if limit is not None and parent.child_count >= limit:
        raise ConflictError(
            f"This account already has its maximum of {limit} sub-accounts.",
            reason="MAX_SUB_ACCOUNTS_REACHED",
        )


async def update(
    deps: Deps,
    *,
    principal: Principal,
    account_id: str,
    name: str | None,
    company: str | None,
    clear_company: bool,
    settings: SettingsChanges | None,
) -> Account:
    account = await access.require(
        deps, principal=principal, account_id=account_id, permission=Permission.MODIFY_SETTINGS
    )
    changes: dict[str, Any] = {}
    if name is not None:
        changes["name"] = validation.text(name, "name")
    if company is not None:
        changes["company"] = validation.text(company, "company")
    elif clear_company:
        changes["company"] = None
    if settings is not None:
        if settings.plan_limits:
            granted = await access.access(deps, user_id=principal.user_id, account=account)
            access.demand(granted, Permission.MANAGE_BILLING)
        changes["settings"] = settings_map(_apply(account.settings, settings))
    if not changes:
        return account
    updated = await deps.store.accounts.update(account.id, changes)
    deps.loaders.account.clear(updated.id).prime(updated.id, updated)
    return updated


def _apply(current: AccountSettings, changes: SettingsChanges) -> AccountSettings:
    result = current
    if changes.allow_sub_accounts is not None:
        result = replace(result, allow_sub_accounts=changes.allow_sub_accounts)
    if changes.clear_max_sub_accounts:
        result = replace(result, max_sub_accounts=None)
    elif changes.max_sub_accounts is not None:
        if not 0 <= changes.max_sub_accounts <= MAX_SUB_ACCOUNTS_LIMIT:
            raise BadUserInputError(
                f"maxSubAccounts must be between 0 and {MAX_SUB_ACCOUNTS_LIMIT}.",
                field="settings.maxSubAccounts",
            )
        result = replace(result, max_sub_accounts=changes.max_sub_accounts)
    if changes.default_retention_days is not None:
        if not 1 <= changes.default_retention_days <= MAX_RETENTION_DAYS:
            raise BadUserInputError(
                f"defaultRetentionDays must be between 1 and {MAX_RETENTION_DAYS}.",
                field="settings.defaultRetentionDays",
            )
        result = replace(result, default_retention_days=changes.default_retention_days)
    if changes.timezone is not None:
        result = replace(
            result, timezone=validation.timezone(changes.timezone, "settings.timezone")
        )
    if changes.max_sources is not None:
        result = replace(
            result,
            max_sources=_within(changes.max_sources, 0, MAX_SOURCES_LIMIT, "maxSources"),
        )
    if changes.min_schedule_minutes is not None:
        result = replace(
            result,
            min_schedule_minutes=_within(
                changes.min_schedule_minutes, 1, 24 * 60, "minScheduleMinutes"
            ),
        )
    return result


def _within(value: int, low: int, high: int, name: str) -> int:
    if not low <= value <= high:
        raise BadUserInputError(
            f"{name} must be between {low} and {high}.", field=f"settings.{name}"
        )
    return value


async def move(deps: Deps, *, principal: Principal, account_id: str, new_parent_id: str) -> Account:
    """Re-parent an account and its subtree within its own root's tree.

    A move changes who inherits access to the subtree, so it needs owner-level rights
    (DELETE_ACCOUNT) on the account, never leaves the tree (a manager of a shared
    account would otherwise carry it off into a tree they own) and never raises the
    caller's own access to what moves.
    """
    now = deps.now()
    account, granted = await access.visible_account(
        deps, principal=principal, account_id=account_id
    )
    # Both must be visible before any other answer, so a hidden id reads as missing.
    new_parent, granted_there = await access.visible_account(
        deps, principal=principal, account_id=new_parent_id
    )
    if account.parent_id is None:
        raise ForbiddenError("A root account cannot be moved.", reason="ROOT_ACCOUNT")
    if new_parent.root_id != account.root_id:
        raise ForbiddenError(
            "An account can only move within its own root account's tree.",
            reason="CROSS_TREE_MOVE",
        )
    access.demand(granted, Permission.DELETE_ACCOUNT)
    access.demand(granted_there, Permission.CREATE_SUB_ACCOUNTS)
    if account.id in new_parent.path:
        raise _circular()
    if account.parent_id == new_parent.id:
        return account
    new_path = (*new_parent.path, account.id)
    after = await access.access(
        deps, user_id=principal.user_id, account=replace(account, path=new_path)
    )
    if access.exceeds(after, granted):
        raise ForbiddenError(
            "This move would give you more access to the account than you hold now.",
            reason="PERMISSION_ESCALATION",
        )
    _check_room(new_parent)
    subtree = await deps.store.accounts.subtree(account.root_id, account.path)
    if any(a.id == new_parent.id for a in subtree):
        # The new parent moved under this account since we read it (a crossing move).
        raise _circular()
    descendants = [a for a in subtree if a.id != account.id]
    counters = [
        deps.store.accounts.add_child(
            new_parent, max_children=new_parent.settings.max_sub_accounts
        ),
        deps.store.accounts.remove_child(account.parent_id),
    ]
    head = [deps.store.accounts.moved(account, new_path), *counters]
    if len(descendants) + len(head) <= MOVE_BATCH:
        await deps.store.transact(head + _rehome(deps.store, descendants, account.path, new_path))
    else:
        # Too big for one transaction: journal first, so a crash mid-way can be resumed.
        journal = Move(account.id, account.path, new_path, now)
        await deps.store.transact([deps.store.moves.put_new(journal), *head])
        await _finish_move(deps.store, journal)
    moved = replace(account, path=new_path)
    deps.loaders.account.clear(moved.id).prime(moved.id, moved)
    return moved


def _circular() -> ConflictError:
    return ConflictError(
        "An account cannot move below itself or its own descendants.",
        reason="CIRCULAR_HIERARCHY",
    )


def _rehome(
    store: Store, accounts: Sequence[Account], old_prefix: Sequence[str], new_prefix: Sequence[str]
) -> list[dict[str, Any]]:
    depth = len(old_prefix)
    return [store.accounts.moved(a, (*new_prefix, *a.path[depth:])) for a in accounts]


async def _finish_move(store: Store, journal: Move) -> None:
    """Re-home whatever is still under the old path, in batches; then close the journal.

    Idempotent: an account already re-homed no longer matches the old path.
    """
    old_root = journal.old_path[0]
    while True:
        remaining = [
            a
            for a in await store.accounts.subtree(old_root, journal.old_path)
            if a.id != journal.account_id
        ]
        if not remaining:
            break
        for start in range(0, len(remaining), MOVE_BATCH):
            batch = remaining[start : start + MOVE_BATCH]
            await store.transact(_rehome(store, batch, journal.old_path, journal.new_path))
    await store.moves.finish(journal.account_id)


async def resume_moves(deps: Deps) -> int:
    """Finish every move a crash left half-done; return how many there were."""
    pending = await deps.store.moves.pending()
    for journal in pending:
        log.warning("resuming the move of account %s", journal.account_id)
        await _finish_move(deps.store, journal)
    return len(pending)


async def delete(deps: Deps, *, principal: Principal, account_id: str) -> Account:
    now = deps.now()
    account = await access.require(
        deps, principal=principal, account_id=account_id, permission=Permission.DELETE_ACCOUNT
    )
    if account.child_count:
        raise ConflictError(
            "Delete or move this account's sub-accounts first.", reason="HAS_SUB_ACCOUNTS"
        )
    for table, reason, what in (
        ("connections", "HAS_CONNECTIONS", "connections"),
        ("sources", "HAS_SOURCES", "backup sources"),
    ):
        if await deps.store.owns_any(table, account.id):
            raise ConflictError(f"Delete this account's {what} first.", reason=reason)
    members = await deps.store.memberships.all_for_account(account.id)
    pending = await deps.store.invitations.pending_for_account(account.id, now)
    items = [deps.store.accounts.delete_childless(account)]
    if account.parent_id:
        items.append(deps.store.accounts.remove_child(account.parent_id))
    # Memberships go with the account, and its pending invitations are revoked with it, so
    # no invitee is left holding one to an account that is gone. What one transaction
    # cannot hold goes just before it, in transactions of its own.
    with_it = [
        *(deps.store.memberships.remove(m) for m in members),
        *(deps.store.invitations.answer(i, InvitationStatus.REVOKED, now) for i in pending),
    ]
    fits = MOVE_BATCH - len(items)
    for start in range(fits, len(with_it), MOVE_BATCH):
        await deps.store.transact(with_it[start : start + MOVE_BATCH])
    await deps.store.transact(items + with_it[:fits])
    deps.loaders.account.clear(account.id)
    return account


async def get(deps: Deps, *, principal: Principal, account_id: str) -> Account:
    account, _ = await access.visible_account(deps, principal=principal, account_id=account_id)
    return account


async def ancestors(deps: Deps, *, principal: Principal, account: Account) -> list[Account]:
    """The breadcrumb, root first: the ancestors the caller can see (from their highest
    membership down)."""
    first_visible = await access.highest_visible_level(
        deps, user_id=principal.user_id, account=account
    )
    if first_visible is None:
        return []
    ids = list(account.path[first_visible:-1])
    found = await deps.loaders.account.load_many(ids)
    return [a for a in found if a is not None]


async def parent(deps: Deps, *, principal: Principal, account: Account) -> Account | None:
    trail = await ancestors(deps, principal=principal, account=account)
    return trail[-1] if trail and trail[-1].id == account.parent_id else None


async def children(
    deps: Deps, *, principal: Principal, account: Account, first: int, after: str | None
) -> Page[Account]:
    await access.visible_account(deps, principal=principal, account_id=account.id)
    return await deps.loaders.children.load((account.id, first, after))


async def descendants(
    deps: Deps, *, principal: Principal, account: Account, first: int, after: str | None
) -> Page[Account]:
    await access.visible_account(deps, principal=principal, account_id=account.id)
    return await deps.loaders.descendants.load((account.id, first, after))


async def switch(deps: Deps, *, principal: Principal, account_id: str) -> User:
    account, _ = await access.visible_account(deps, principal=principal, account_id=account_id)
    user = await deps.store.users.update(
        principal.user_id, changes={"currentAccountId": account.id}
    )
    deps.loaders.user.clear(user.id).prime(user.id, user)
    return user
