"""One module per table: item <-> model mapping, batching, ClientError -> domain errors."""

from __future__ import annotations

from dataclasses import dataclass

from listbackup.aws import AwsClients
from listbackup.resources import Names
from listbackup.store.platforms import PlatformStore


@dataclass(frozen=True, slots=True)
class Store:
    """Every table's store, built once per process from the AWS clients."""

    platforms: PlatformStore

    @classmethod
    def create(cls, clients: AwsClients, names: Names) -> Store:
        return cls(platforms=PlatformStore(clients.dynamodb, names.table("platforms")))
