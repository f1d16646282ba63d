"""Live job status: subscriptions to one job's events, or to an account's."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime

import strawberry
from strawberry.types import Info

from listbackup import ids
from listbackup.context import Context
from listbackup.resolvers import live as resolvers
from listbackup.schema import node
from listbackup.schema.enums import JobStatus
from listbackup.schema.types.jobs import Job, JobProgress
from listbackup.services import jobs
from listbackup.services.live import Update


@strawberry.type
class JobEvent:
    job_id: strawberry.ID
    source_id: strawberry.ID
    account_id: strawberry.ID
    status: JobStatus
    progress: JobProgress
    message: str | None
    at: datetime
    update: strawberry.Private[Update]

    @classmethod
    def from_update(cls, update: Update) -> JobEvent:
        event = update.event
        return cls(
            job_id=strawberry.ID(ids.encode(ids.JOB, event.job_id)),
            source_id=strawberry.ID(ids.encode(ids.SOURCE, event.source_id)),
            account_id=strawberry.ID(ids.encode(ids.ACCOUNT, event.account_id)),
            status=event.status,
            progress=JobProgress.from_model(event.progress),
            message=event.message,
            at=event.at,
            update=update,
        )

    @strawberry.field(description="The job as it is now.")
    async def job(self, info: Info[Context, None]) -> Job:
        deps = self.update.deps
        found = await jobs.get(
            deps, principal=await info.context.authenticate(deps), job_id=self.update.event.job_id
        )
        return Job.from_model(found)


@strawberry.type
class LiveSubscription:
    @strawberry.subscription(
        description="The job's current state, then every event of it until it ends."
    )
    async def job_updates(
        self, info: Info[Context, None], job_id: strawberry.ID
    ) -> AsyncGenerator[JobEvent, None]:
        async for update in resolvers.job_updates(info.context, job_id=node.key(ids.JOB, job_id)):
            info.context.renew(update.deps)
            yield JobEvent.from_update(update)

    @strawberry.subscription(description="Every job event of one account (not its sub-accounts).")
    async def account_job_updates(
        self, info: Info[Context, None], account_id: strawberry.ID
    ) -> AsyncGenerator[JobEvent, None]:
        stream = resolvers.account_job_updates(
            info.context, account_id=node.key(ids.ACCOUNT, account_id)
        )
        async for update in stream:
            info.context.renew(update.deps)
            yield JobEvent.from_update(update)
