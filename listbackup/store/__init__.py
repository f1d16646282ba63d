"""One module per table: item <-> model mapping, batching, ClientError -> domain errors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from listbackup.aws import AwsClients
from listbackup.resources import Names
from listbackup.store.accounts import AccountStore
from listbackup.store.dynamo import transact_write
from listbackup.store.invitations import InvitationStore
from listbackup.store.memberships import MembershipStore
from listbackup.store.platforms import PlatformStore
from listbackup.store.rate_limits import RateLimitStore
from listbackup.store.users import UserStore


@dataclass(frozen=True, slots=True)
class Store:
    """Every table's store, built once per process from the AWS clients."""

    clients: AwsClients
    platforms: PlatformStore
    users: UserStore
    accounts: AccountStore
    memberships: MembershipStore
    invitations: InvitationStore
    rate_limits: RateLimitStore

    @classmethod
    def create(cls, clients: AwsClients, names: Names) -> Store:
        ddb = clients.dynamodb
        return cls(
            clients=clients,
            platforms=PlatformStore(ddb, names.table("platforms")),
            users=UserStore(ddb, names.table("users")),
            accounts=AccountStore(ddb, names.table("accounts")),
            memberships=MembershipStore(ddb, names.table("memberships")),
            invitations=InvitationStore(ddb, names.table("invitations")),
            rate_limits=RateLimitStore(ddb, names.table("rate-limits")),
        )

    async def transact(self, items: Sequence[Mapping[str, Any]]) -> None:
        """Write items of several tables atomically (each from a table store's ``put_new``)."""
        await transact_write(self.clients.dynamodb, items)
