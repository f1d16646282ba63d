"""Connections: an authenticated link from an account to one external platform account."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from listbackup.models.platforms import AuthType


class ConnectionStatus(StrEnum):
    ACTIVE = "ACTIVE"
    EXPIRED = "EXPIRED"
    ERROR = "ERROR"
    REVOKED = "REVOKED"


@dataclass(frozen=True, slots=True)
class Connection:
    id: str
    account_id: str
    platform: str
    name: str
    auth_type: AuthType
    status: ConnectionStatus
    created_at: datetime
    created_by: str | None = None
    external_account: str | None = None
    #: When the OAuth access token expires (None for API keys and tokens that never do).
    expires_at: datetime | None = None
    last_tested_at: datetime | None = None
    last_error: str | None = None
