"""Sources: what to back up from one connection, when, and for how long."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from listbackup.models.schedules import Schedule


class SourceStatus(StrEnum):
    ACTIVE = "ACTIVE"
    PAUSED = "PAUSED"
    ERROR = "ERROR"


@dataclass(frozen=True, slots=True)
class Source:
    id: str
    account_id: str
    connection_id: str
    platform: str
    name: str
    #: Data type keys, dependencies first (the order a job reads them in).
    data_types: tuple[str, ...]
    retention_days: int
    created_at: datetime
    created_by: str | None = None
    #: ACTIVE or PAUSED as the user set it; ERROR when a job found the credentials
    #: refused (until it is reconnected and runs again).
    stored_status: SourceStatus = SourceStatus.ACTIVE
    status_reason: str | None = None
    schedule: Schedule | None = None
    next_run_at: datetime | None = None
    last_run_at: datetime | None = None
    last_job_id: str | None = None
    #: The job queued or running for this source, if any: one at a time.
    active_job_id: str | None = None
    #: Per data type, where the last successful SYNC or BACKUP left off.
    cursors: dict[str, str] = field(default_factory=dict)

    @property
    def paused(self) -> bool:
        return self.stored_status is SourceStatus.PAUSED
