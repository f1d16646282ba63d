"""Backup jobs: one run of a source, its progress, its log and its files."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class JobType(StrEnum):
    BACKUP = "BACKUP"
    SYNC = "SYNC"


class JobStatus(StrEnum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"

    @property
    def finished(self) -> bool:
        return self in (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED)


ACTIVE_STATUSES = (JobStatus.QUEUED, JobStatus.RUNNING)


class JobTrigger(StrEnum):
    MANUAL = "MANUAL"
    SCHEDULE = "SCHEDULE"
    RETRY = "RETRY"


class LogLevel(StrEnum):
    DEBUG = "DEBUG"
    INFO = "INFO"
    WARNING = "WARNING"
    ERROR = "ERROR"


@dataclass(frozen=True, slots=True)
class Progress:
    steps_completed: int = 0
    steps_total: int = 0
    current_step: str | None = None
    records_processed: int = 0
    bytes_written: int = 0

    @property
    def percent(self) -> float:
        if self.steps_total == 0:
            return 0.0
        return round(100.0 * self.steps_completed / self.steps_total, 1)


@dataclass(frozen=True, slots=True)
class Job:
    id: str
    source_id: str
    account_id: str
    connection_id: str
    platform: str
    type: JobType
    trigger: JobTrigger
    status: JobStatus
    #: Data type keys in the order they are read (dependencies first).
    data_types: tuple[str, ...]
    #: The source's retention when the job was made: its files live this long.
    retention_days: int
    created_at: datetime
    attempt: int = 1
    progress: Progress = field(default_factory=Progress)
    #: Data types whose file is complete (a retry resumes after them).
    completed: tuple[str, ...] = ()
    error: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    cancel_requested: bool = False
    #: The per-job sequence number of its last published event.
    seq: int = 0
    #: Where each data type's read starts (SYNC), and where it ended (after completion).
    cursors_from: dict[str, str] = field(default_factory=dict)
    cursors_to: dict[str, str] = field(default_factory=dict)
    #: Set once the retention sweep has deleted the job's files.
    files_expired_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class JobLog:
    job_id: str
    seq: int
    at: datetime
    level: LogLevel
    message: str


@dataclass(frozen=True, slots=True)
class BackupFile:
    job_id: str
    key: str
    data_type: str
    record_count: int
    size_bytes: int
    sha256: str
    created_at: datetime
