"""Live job status: subscriptions to one job's events, or to an account's."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Callable, Hashable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

import strawberry
from strawberry.types import Info

from listbackup import ids
from listbackup.broker import JobEvent as BrokerEvent
from listbackup.context import Context
from listbackup.resolvers import live as resolvers
from listbackup.schema import node, shared_events
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
    def job_updates(
        self, info: Info[Context, None], job_id: strawberry.ID
    ) -> AsyncGenerator[JobEvent, None]:
        outlet = shared_events.direct()
        stream = resolvers.job_updates(
            info.context, job_id=node.key(ids.JOB, job_id), send_now=_sender(outlet)
        )
        return _events(info, stream, outlet)

    @strawberry.subscription(description="Every job event of one account (not its sub-accounts).")
    def account_job_updates(
        self, info: Info[Context, None], account_id: strawberry.ID
    ) -> AsyncGenerator[JobEvent, None]:
        outlet = shared_events.direct()
        stream = resolvers.account_job_updates(
            info.context, account_id=node.key(ids.ACCOUNT, account_id), send_now=_sender(outlet)
        )
        return _events(info, stream, outlet)


def _sender(outlet: shared_events.Outlet | None) -> Callable[[BrokerEvent], bool] | None:
    """Sends an event through the operation's outlet at once, if it can."""
    if outlet is None:
        return None

    def send_now(event: BrokerEvent) -> bool:
        return outlet.deliver_nowait(
            event.shared_results, partial(JobEvent.from_update, Update(event))
        )

    return send_now


async def _events(
    info: Info[Context, None], updates: AsyncIterator[Update], outlet: shared_events.Outlet | None
) -> AsyncGenerator[JobEvent, None]:
    """The events to yield: those the operation's outlet took are sent already
    (shared_events.py); each other one with dependencies renewed, so it reads afresh."""
    async for update in updates:
        if outlet is not None and await outlet.deliver(
            update.event.shared_results, partial(JobEvent.from_update, update)
        ):
            continue
        info.context.renew()
        yield JobEvent.from_update(update)
