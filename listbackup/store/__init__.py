"""One module per table: item <-> model mapping, batching, ClientError -> domain errors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from listbackup.aws import AwsClients
from listbackup.resources import Names
from listbackup.store.accounts import AccountStore
from listbackup.store.backup_files import BackupFileStore
from listbackup.store.connections import ConnectionStore
from listbackup.store.dynamo import transact_write, translate_errors
from listbackup.store.invitations import InvitationStore
from listbackup.store.job_logs import JobLogStore
from listbackup.store.jobs import JobStore
from listbackup.store.memberships import MembershipStore
from listbackup.store.moves import MoveStore
from listbackup.store.oauth_states import OAuthStateStore
from listbackup.store.platforms import PlatformStore
from listbackup.store.rate_limits import RateLimitStore
from listbackup.store.sources import SourceStore
from listbackup.store.users import UserStore
from listbackup.store.vault import Vault


@dataclass(frozen=True, slots=True)
class Store:
    """Every table's store, built once per process from the AWS clients."""

    clients: AwsClients
    names: Names
    platforms: PlatformStore
    users: UserStore
    accounts: AccountStore
    memberships: MembershipStore
    moves: MoveStore
    invitations: InvitationStore
    rate_limits: RateLimitStore
    connections: ConnectionStore
    oauth_states: OAuthStateStore
    vault: Vault
    sources: SourceStore
    jobs: JobStore
    job_logs: JobLogStore
    backup_files: BackupFileStore

    @classmethod
    def create(cls, clients: AwsClients, names: Names) -> Store:
        ddb = clients.dynamodb
        return cls(
            clients=clients,
            names=names,
            platforms=PlatformStore(ddb, names.table("platforms")),
            users=UserStore(ddb, names.table("users")),
            accounts=AccountStore(ddb, names.table("accounts")),
            memberships=MembershipStore(ddb, names.table("memberships")),
            moves=MoveStore(ddb, names.table("account-moves")),
            invitations=InvitationStore(ddb, names.table("invitations")),
            rate_limits=RateLimitStore(ddb, names.table("rate-limits")),
            connections=ConnectionStore(ddb, names.table("connections")),
            oauth_states=OAuthStateStore(ddb, names.table("oauth-states")),
            vault=Vault(
                ddb, clients.kms, table=names.table("credentials"), key_alias=names.kms_alias()
            ),
            sources=SourceStore(ddb, names.table("sources")),
            jobs=JobStore(ddb, names.table("jobs")),
            job_logs=JobLogStore(ddb, names.table("job-logs")),
            backup_files=BackupFileStore(ddb, names.table("backup-files")),
        )

    async def owns_any(self, table: str, account_id: str) -> bool:
        """Whether any item of a table with an account-index (connections, sources...)
        belongs to the account."""
        with translate_errors("Query"):
            response = await self.clients.dynamodb.query(
                TableName=self.names.table(table),
                IndexName="account-index",
                KeyConditionExpression="accountId = :a",
                ExpressionAttributeValues={":a": {"S": account_id}},
                Select="COUNT",
                Limit=1,
            )
        return int(response.get("Count", 0)) > 0

    async def used_by_sources(self, connection_id: str) -> bool:
        with translate_errors("Query"):
            response = await self.clients.dynamodb.query(
                TableName=self.names.table("sources"),
                IndexName="connection-index",
                KeyConditionExpression="connectionId = :c",
                ExpressionAttributeValues={":c": {"S": connection_id}},
                Select="COUNT",
                Limit=1,
            )
        return int(response.get("Count", 0)) > 0

    async def transact(self, items: Sequence[Mapping[str, Any]]) -> None:
        """Write items of several tables atomically (each from a table store's ``put_new``)."""
        await transact_write(self.clients.dynamodb, items)
