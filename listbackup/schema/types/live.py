"""Live job status: subscriptions to one job's events, or to an account's."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

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


@dataclass(frozen=True, slots=True)
class _Fields:
    job_id: strawberry.ID
    source_id: strawberry.ID
    account_id: strawberry.ID
    progress: JobProgress


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
    #: This event's results, shared by the subscribers who asked the same (shared_events.py).
    shared_results: strawberry.Private[dict[Hashable, Any]]

    @classmethod
    def from_update(cls, update: Update) -> JobEvent:
        event = update.event
        # The public ids and progress, worked out once per event for all its subscribers.
        shared = event.shared_results
        fields: _Fields | None = shared.get(_Fields)
        if fields is None:
            fields = shared[_Fields] = _Fields(
                job_id=strawberry.ID(ids.encode(ids.JOB, event.job_id)),
                source_id=strawberry.ID(ids.encode(ids.SOURCE, event.source_id)),
                account_id=strawberry.ID(ids.encode(ids.ACCOUNT, event.account_id)),
                progress=JobProgress.from_model(event.progress),
            )
        return cls(
            job_id=fields.job_id,
            source_id=fields.source_id,
            account_id=fields.account_id,
            status=event.status,
            progress=fields.progress,
            message=event.message,
            at=event.at,
            update=update,
            shared_results=shared,
        )

    @strawberry.field(description="The job as it is now.")
    async def job(self, info: Info[Context, None]) -> Job:
        deps = info.context.deps  # renewed for each event: the job as it is now
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
            info.context.renew()
            yield JobEvent.from_update(update)

    @strawberry.subscription(description="Every job event of one account (not its sub-accounts).")
    async def account_job_updates(
        self, info: Info[Context, None], account_id: strawberry.ID
    ) -> AsyncGenerator[JobEvent, None]:
        stream = resolvers.account_job_updates(
            info.context, account_id=node.key(ids.ACCOUNT, account_id)
        )
        async for update in stream:
            info.context.renew()
            yield JobEvent.from_update(update)
