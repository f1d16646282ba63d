"""Tenants: a tree of accounts (group -> subsidiary -> location) and who may do what."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class AccountStatus(StrEnum):
    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"


class MembershipStatus(StrEnum):
    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"


class Role(StrEnum):
    OWNER = "OWNER"
    MANAGER = "MANAGER"
    VIEWER = "VIEWER"


class Permission(StrEnum):
    CREATE_SUB_ACCOUNTS = "CREATE_SUB_ACCOUNTS"
    INVITE_USERS = "INVITE_USERS"
    MANAGE_INTEGRATIONS = "MANAGE_INTEGRATIONS"
    VIEW_ALL_DATA = "VIEW_ALL_DATA"
    MANAGE_BILLING = "MANAGE_BILLING"
    DELETE_ACCOUNT = "DELETE_ACCOUNT"
    MODIFY_SETTINGS = "MODIFY_SETTINGS"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.OWNER: frozenset(Permission),
    Role.MANAGER: frozenset(Permission) - {Permission.MANAGE_BILLING, Permission.DELETE_ACCOUNT},
    Role.VIEWER: frozenset({Permission.VIEW_ALL_DATA}),
}


#: What accounts show as their default retention while they have not set one.
DEFAULT_RETENTION_DAYS = 90


@dataclass(frozen=True, slots=True)
class AccountSettings:
    allow_sub_accounts: bool = True
    #: Most direct children this account may have; None for no limit.
    max_sub_accounts: int | None = None
    #: How long a new source keeps its backups; None until set, and then each new
    #: source keeps its data types' longest default.
    default_retention_days: int | None = None
    timezone: str = "UTC"
    #: Plan limits, changed by those who hold MANAGE_BILLING: most backup sources, and
    #: the shortest interval between two scheduled runs of one source.
    max_sources: int = 100
    min_schedule_minutes: int = 60

    @property
    def retention_days_shown(self) -> int:
        return self.default_retention_days or DEFAULT_RETENTION_DAYS


@dataclass(frozen=True, slots=True)
class Account:
    id: str
    name: str
    created_at: datetime
    #: Ids from the root down to this account, this one last.
    path: tuple[str, ...]
    company: str | None = None
    status: AccountStatus = AccountStatus.ACTIVE
    settings: AccountSettings = field(default_factory=AccountSettings)
    created_by: str | None = None
    #: Direct children; kept by the same transactions that add or remove them.
    child_count: int = 0
    #: Backup sources; kept by the same transactions that create or delete them.
    source_count: int = 0
    #: Direct OWNER memberships; a root account never drops to zero.
    owner_count: int = 0
    #: Users with a direct membership here, kept with the memberships themselves, so a
    #: page of members is one BatchGetItem rather than a Query per account.
    member_ids: frozenset[str] = frozenset()

    @property
    def level(self) -> int:
        return len(self.path) - 1

    @property
    def parent_id(self) -> str | None:
        return self.path[-2] if len(self.path) > 1 else None

    @property
    def root_id(self) -> str:
        return self.path[0]


@dataclass(frozen=True, slots=True)
class Membership:
    account_id: str
    user_id: str
    role: Role
    joined_at: datetime
    #: Explicit permissions; None means the role's defaults.
    permissions_override: frozenset[Permission] | None = None
    status: MembershipStatus = MembershipStatus.ACTIVE

    @property
    def permissions(self) -> frozenset[Permission]:
        if self.permissions_override is not None:
            return self.permissions_override
        return ROLE_PERMISSIONS[self.role]


@dataclass(frozen=True, slots=True)
class Access:
    """What one user may do on one account, memberships on its ancestors included."""

    role: Role | None
    permissions: frozenset[Permission]
    #: True when the role comes from a membership on an ancestor account.
    inherited: bool

    @property
    def visible(self) -> bool:
        return self.role is not None
