"""Domain enums, registered as GraphQL enums under their contract names."""

import strawberry

from listbackup.models import accounts, connections, invitations, jobs, platforms, sources

# strawberry.enum marks the model's enum class itself, so models flow into the schema as-is.
AuthType = platforms.AuthType
Frequency = platforms.Frequency
Role = accounts.Role
Permission = accounts.Permission
AccountStatus = accounts.AccountStatus
MembershipStatus = accounts.MembershipStatus
InvitationStatus = invitations.InvitationStatus
ConnectionStatus = connections.ConnectionStatus
SourceStatus = sources.SourceStatus
JobType = jobs.JobType
JobStatus = jobs.JobStatus
JobTrigger = jobs.JobTrigger
LogLevel = jobs.LogLevel

for _enum in (
    AuthType,
    Frequency,
    Role,
    Permission,
    AccountStatus,
    MembershipStatus,
    InvitationStatus,
    ConnectionStatus,
    SourceStatus,
    JobType,
    JobStatus,
    JobTrigger,
    LogLevel,
):
    strawberry.enum(_enum, name=_enum.__name__)


_ORDER = {permission: index for index, permission in enumerate(accounts.Permission)}


def sorted_permissions(permissions: frozenset[accounts.Permission]) -> list[accounts.Permission]:
    """Permissions in the contract's order."""
    return sorted(permissions, key=_ORDER.__getitem__)
