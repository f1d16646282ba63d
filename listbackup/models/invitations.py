"""Invitations to join an account."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from listbackup.models.accounts import Role


class InvitationStatus(StrEnum):
    PENDING = "PENDING"
    ACCEPTED = "ACCEPTED"
    REVOKED = "REVOKED"
    EXPIRED = "EXPIRED"


@dataclass(frozen=True, slots=True)
class Invitation:
    id: str
    account_id: str
    email: str
    role: Role
    #: As stored; a PENDING invitation past ``expires_at`` reads as EXPIRED (see ``status_at``).
    stored_status: InvitationStatus
    expires_at: datetime
    created_at: datetime
    invited_by: str | None = None

    def status_at(self, now: datetime) -> InvitationStatus:
        if self.stored_status is InvitationStatus.PENDING and now >= self.expires_at:
            return InvitationStatus.EXPIRED
        return self.stored_status
