"""Domain enums, registered as GraphQL enums under their contract names."""

import strawberry

from listbackup.models import accounts, connections, invitations, platforms

# strawberry.enum marks the model's enum class itself, so models flow into the schema as-is.
AuthType = platforms.AuthType
Frequency = platforms.Frequency
Role = accounts.Role
Permission = accounts.Permission
AccountStatus = accounts.AccountStatus
MembershipStatus = accounts.MembershipStatus
InvitationStatus = invitations.InvitationStatus
ConnectionStatus = connections.ConnectionStatus

for _enum in (
    AuthType,
    Frequency,
    Role,
    Permission,
    AccountStatus,
    MembershipStatus,
    InvitationStatus,
    ConnectionStatus,
):
    strawberry.enum(_enum, name=_enum.__name__)
