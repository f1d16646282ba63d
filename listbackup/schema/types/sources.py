"""Backup sources: what to back up from a connection, when, and for how long."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from listbackup import ids
from listbackup.context import Context
from listbackup.models import sources as models
from listbackup.models.pages import DEFAULT_PAGE_SIZE
from listbackup.models.schedules import Schedule as ScheduleModel
from listbackup.resolvers import accounts as account_resolvers
from listbackup.resolvers import connections as connection_resolvers
from listbackup.resolvers import jobs as job_resolvers
from listbackup.resolvers import sources as resolvers
from listbackup.schema import node
from listbackup.schema.enums import Frequency, JobStatus, JobType, SourceStatus
from listbackup.schema.types.connections import PlatformConnection
from listbackup.schema.types.pages import Page, page_of, page_size
from listbackup.schema.types.platforms import Platform, PlatformDataType
from listbackup.services.sources import Changes, ScheduleChoice

if TYPE_CHECKING:
    from listbackup.schema.types.accounts import Account
    from listbackup.schema.types.jobs import Job

AccountType = Annotated["Account", strawberry.lazy("listbackup.schema.types.accounts")]
JobType_ = Annotated["Job", strawberry.lazy("listbackup.schema.types.jobs")]


@strawberry.type
class Schedule:
    frequency: Frequency | None
    cron: str = strawberry.field(description="The effective 5-field cron expression.")
    timezone: str

    @classmethod
    def from_model(cls, schedule: ScheduleModel) -> Schedule:
        return cls(frequency=schedule.frequency, cron=schedule.cron, timezone=schedule.timezone)


@strawberry.input(description="Either a frequency preset or a 5-field cron expression.")
class ScheduleInput:
    frequency: Frequency | None = None
    cron: str | None = None
    timezone: str | None = strawberry.field(
        default=None, description="An IANA time zone; the account's when omitted."
    )

    def to_choice(self) -> ScheduleChoice:
        return ScheduleChoice(frequency=self.frequency, cron=self.cron, timezone=self.timezone)


@strawberry.type
class Source(node.Node):
    id: strawberry.ID
    name: str
    retention_days: int
    last_run_at: datetime | None
    next_run_at: datetime | None = strawberry.field(
        description="When the schedule runs it next; null when paused or unscheduled."
    )
    created_at: datetime
    model: strawberry.Private[models.Source]

    @classmethod
    def from_model(cls, source: models.Source) -> Source:
        return cls(
            id=strawberry.ID(ids.encode(ids.SOURCE, source.id)),
            name=source.name,
            retention_days=source.retention_days,
            last_run_at=source.last_run_at,
            next_run_at=None if source.paused else source.next_run_at,
            created_at=source.created_at,
            model=source,
        )

    @strawberry.field
    def schedule(self) -> Schedule | None:
        return Schedule.from_model(self.model.schedule) if self.model.schedule else None

    @strawberry.field(description="ERROR while its connection needs reconnecting.")
    async def status(self, info: Info[Context, None]) -> SourceStatus:
        return (await resolvers.health(info.context, source=self.model)).status

    @strawberry.field(description="Why the source is in ERROR, when it is.")
    async def status_reason(self, info: Info[Context, None]) -> str | None:
        return (await resolvers.health(info.context, source=self.model)).reason

    @strawberry.field
    async def account(self, info: Info[Context, None]) -> AccountType:
        found = await account_resolvers.account(info.context, account_id=self.model.account_id)
        account: AccountType = node.wrap(found)
        return account

    @strawberry.field
    async def connection(self, info: Info[Context, None]) -> PlatformConnection:
        found = await connection_resolvers.connection(
            info.context, connection_id=self.model.connection_id
        )
        return PlatformConnection.from_model(found)

    @strawberry.field
    async def platform(self, info: Info[Context, None]) -> Platform:
        return Platform.from_model(await resolvers.platform_of(info.context, source=self.model))

    @strawberry.field(description="In the order a job reads them: dependencies first.")
    async def data_types(self, info: Info[Context, None]) -> list[PlatformDataType]:
        platform = await resolvers.platform_of(info.context, source=self.model)
        by_key = {d.key: d for d in platform.data_types}
        return [
            PlatformDataType.from_model(by_key[k]) for k in self.model.data_types if k in by_key
        ]

    @strawberry.field(description="The job running or queued now, else the last one.")
    async def last_job(self, info: Info[Context, None]) -> JobType_ | None:
        found = await job_resolvers.last_of(info.context, source=self.model)
        job: JobType_ | None = node.wrap(found) if found else None
        return job

    @strawberry.field(description="Newest first.")
    async def jobs(
        self,
        info: Info[Context, None],
        first: int | None = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        status: JobStatus | None = None,
    ) -> Page[JobType_]:
        page = await job_resolvers.for_source(
            info.context, source=self.model, first=page_size(first), after=after, status=status
        )
        return page_of(page, node.wrap)


node.register(models.Source, Source.from_model)


@strawberry.input
class CreateSourceInput:
    connection_id: strawberry.ID
    name: str
    data_types: list[str] | None = strawberry.field(
        default=None, description="Data type keys of the platform; all of them when omitted."
    )
    schedule: ScheduleInput | None = None
    retention_days: int | None = None


@strawberry.input(description="Only the fields given change; null schedule removes it.")
class UpdateSourceInput:
    name: str | None = strawberry.UNSET
    data_types: list[str] | None = strawberry.UNSET
    schedule: ScheduleInput | None = strawberry.UNSET
    retention_days: int | None = strawberry.UNSET

    def to_changes(self) -> Changes:
        def given(value: object) -> object:
            return None if value is strawberry.UNSET else value

        schedule = self.schedule if isinstance(self.schedule, ScheduleInput) else None
        return Changes(
            name=given(self.name),  # type: ignore[arg-type]
            data_types=given(self.data_types),  # type: ignore[arg-type]
            schedule=schedule.to_choice() if schedule else None,
            clear_schedule=self.schedule is None,
            retention_days=given(self.retention_days),  # type: ignore[arg-type]
        )


@strawberry.type
class SourceQuery:
    @strawberry.field(description="A source the caller can see.")
    async def source(self, info: Info[Context, None], id: strawberry.ID) -> Source | None:
        found = await resolvers.source(info.context, source_id=node.key(ids.SOURCE, id))
        return Source.from_model(found)


@strawberry.type
class SourceMutation:
    @strawberry.mutation(description="Needs MANAGE_INTEGRATIONS on the connection's account.")
    async def create_source(self, info: Info[Context, None], input: CreateSourceInput) -> Source:
        created = await resolvers.create(
            info.context,
            connection_id=node.key(ids.CONNECTION, input.connection_id),
            name=input.name,
            data_types=input.data_types,
            schedule=input.schedule.to_choice() if input.schedule else None,
            retention_days=input.retention_days,
        )
        return Source.from_model(created)

    @strawberry.mutation(description="Needs MANAGE_INTEGRATIONS.")
    async def update_source(
        self, info: Info[Context, None], id: strawberry.ID, input: UpdateSourceInput
    ) -> Source:
        updated = await resolvers.update(
            info.context, source_id=node.key(ids.SOURCE, id), changes=input.to_changes()
        )
        return Source.from_model(updated)

    @strawberry.mutation(description="No scheduled runs until resumed.")
    async def pause_source(self, info: Info[Context, None], id: strawberry.ID) -> Source:
        paused = await resolvers.pause(info.context, source_id=node.key(ids.SOURCE, id))
        return Source.from_model(paused)

    @strawberry.mutation(description="Scheduled again from now; missed runs are not made up.")
    async def resume_source(self, info: Info[Context, None], id: strawberry.ID) -> Source:
        resumed = await resolvers.resume(info.context, source_id=node.key(ids.SOURCE, id))
        return Source.from_model(resumed)

    @strawberry.mutation(
        description="Cancels its job and removes it; its backups stay until their "
        "retention runs out."
    )
    async def delete_source(self, info: Info[Context, None], id: strawberry.ID) -> strawberry.ID:
        deleted = await resolvers.delete(info.context, source_id=node.key(ids.SOURCE, id))
        return strawberry.ID(ids.encode(ids.SOURCE, deleted.id))

    @strawberry.mutation(
        description="Queues a job now; CONFLICT (JOB_ALREADY_ACTIVE) while one is queued "
        "or running. Needs MANAGE_INTEGRATIONS."
    )
    async def run_source(
        self, info: Info[Context, None], id: strawberry.ID, type: JobType | None = JobType.BACKUP
    ) -> JobType_:
        started = await resolvers.run(
            info.context, source_id=node.key(ids.SOURCE, id), job_type=type or JobType.BACKUP
        )
        job: JobType_ = node.wrap(started)
        return job
