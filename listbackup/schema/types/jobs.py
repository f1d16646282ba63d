"""Backup jobs: their progress, log and files."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from listbackup import ids
from listbackup.context import Context
from listbackup.models import jobs as models
from listbackup.resolvers import accounts as account_resolvers
from listbackup.resolvers import jobs as resolvers
from listbackup.schema import node
from listbackup.schema.enums import JobStatus, JobTrigger, JobType, LogLevel
from listbackup.schema.types.pages import Page, page_of, page_size

if TYPE_CHECKING:
    from listbackup.schema.types.accounts import Account
    from listbackup.schema.types.sources import Source

AccountType = Annotated["Account", strawberry.lazy("listbackup.schema.types.accounts")]
SourceType = Annotated["Source", strawberry.lazy("listbackup.schema.types.sources")]
DEFAULT_LOG_PAGE = 100


@strawberry.type
class JobProgress:
    percent: float
    current_step: str | None = strawberry.field(description="The data type being read.")
    steps_completed: int
    steps_total: int
    records_processed: int
    bytes_written: int

    @classmethod
    def from_model(cls, progress: models.Progress) -> JobProgress:
        return cls(
            percent=progress.percent,
            current_step=progress.current_step,
            steps_completed=progress.steps_completed,
            steps_total=progress.steps_total,
            records_processed=progress.records_processed,
            bytes_written=progress.bytes_written,
        )


@strawberry.type
class JobLog:
    timestamp: datetime
    level: LogLevel
    message: str

    @classmethod
    def from_model(cls, line: models.JobLog) -> JobLog:
        return cls(timestamp=line.at, level=line.level, message=line.message)


@strawberry.type
class BackupFile:
    key: str
    data_type: str = strawberry.field(description="The data type, or 'manifest'.")
    record_count: int
    size_bytes: int
    sha256: str = strawberry.field(description="Of the bytes stored (gzip-compressed NDJSON).")
    model: strawberry.Private[models.BackupFile]

    @classmethod
    def from_model(cls, file: models.BackupFile) -> BackupFile:
        return cls(
            key=file.key,
            data_type=file.data_type,
            record_count=file.record_count,
            size_bytes=file.size_bytes,
            sha256=file.sha256,
            model=file,
        )

    @strawberry.field(description="A short-lived pre-signed download link (15 minutes).")
    async def download_url(self, info: Info[Context, None]) -> str:
        return await resolvers.download_url(info.context, file=self.model)


@strawberry.type
class Job(node.Node):
    id: strawberry.ID
    type: JobType
    status: JobStatus
    trigger: JobTrigger
    attempt: int
    progress: JobProgress
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    cancel_requested: bool = strawberry.field(
        description="True once cancelJob asked a running job to stop."
    )
    model: strawberry.Private[models.Job]

    @classmethod
    def from_model(cls, job: models.Job) -> Job:
        return cls(
            id=strawberry.ID(ids.encode(ids.JOB, job.id)),
            type=job.type,
            status=job.status,
            trigger=job.trigger,
            attempt=job.attempt,
            progress=JobProgress.from_model(job.progress),
            error=job.error,
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
            cancel_requested=job.cancel_requested,
            model=job,
        )

    @strawberry.field(
        description="Null once the source is deleted: its backups stay until "
        "their retention runs out."
    )
    async def source(self, info: Info[Context, None]) -> SourceType | None:
        found = await resolvers.source_of(info.context, job=self.model)
        source: SourceType | None = node.wrap(found) if found else None
        return source

    @strawberry.field
    async def account(self, info: Info[Context, None]) -> AccountType:
        found = await account_resolvers.account(info.context, account_id=self.model.account_id)
        account: AccountType = node.wrap(found)
        return account

    @strawberry.field(description="Oldest line first.")
    async def logs(
        self,
        info: Info[Context, None],
        first: int | None = DEFAULT_LOG_PAGE,
        after: str | None = None,
    ) -> Page[JobLog]:
        page = await resolvers.logs(
            info.context, job=self.model, first=page_size(first), after=after
        )
        return page_of(page, JobLog.from_model)

    @strawberry.field(description="Complete files only; needs VIEW_ALL_DATA.")
    async def files(self, info: Info[Context, None]) -> list[BackupFile]:
        found = await resolvers.files(info.context, job=self.model)
        return [BackupFile.from_model(f) for f in found]


node.register(models.Job, Job.from_model)


@strawberry.type
class JobQuery:
    @strawberry.field(description="A job the caller can see.")
    async def job(self, info: Info[Context, None], id: strawberry.ID) -> Job | None:
        found = await resolvers.job(info.context, job_id=node.key(ids.JOB, id))
        return Job.from_model(found)


@strawberry.type
class JobMutation:
    @strawberry.mutation(
        description="A queued job is cancelled at once, a running one within seconds; "
        "CONFLICT once it ended. Needs MANAGE_INTEGRATIONS."
    )
    async def cancel_job(self, info: Info[Context, None], id: strawberry.ID) -> Job:
        return Job.from_model(await resolvers.cancel(info.context, job_id=node.key(ids.JOB, id)))
