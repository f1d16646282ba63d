"""Live job status: the streams behind ``jobUpdates`` and ``accountJobUpdates``.

A stream is authorized when it starts (an invisible job or account answers exactly like
a missing one) and again every few seconds while it runs, with fresh loaders and the
viewer's token verified again: when the viewer loses access (a membership removed, the
token expired or revoked) the stream ends with that error. Events come from the
process's broker; each one is read with fresh loaders, so ``job`` is its state now.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from listbackup.broker import JobEvent, Subscription
from listbackup.deps import AppDeps, Deps
from listbackup.models.jobs import Job
from listbackup.models.users import Principal
from listbackup.services import access, jobs

#: Verifies the viewer again with the given operation's loaders (UNAUTHENTICATED else).
Authenticate = Callable[[Deps], Awaitable[Principal]]


@dataclass(frozen=True, slots=True)
class Update:
    """One event for a subscriber, with the dependencies to read what it names."""

    event: JobEvent
    deps: Deps


def event_of(job: Job) -> JobEvent:
    """A job's current state, as the event a late subscriber starts from."""
    return JobEvent(
        job_id=job.id,
        source_id=job.source_id,
        account_id=job.account_id,
        status=job.status,
        progress=job.progress,
        message=job.error,
        at=job.finished_at or job.started_at or job.created_at,
        seq=job.seq,
    )


async def job_updates(
    app: AppDeps, *, authenticate: Authenticate, job_id: str, recheck_seconds: float
) -> AsyncIterator[Update]:
    """The job's current state, then every event until it ends."""
    deps = app.for_operation()
    job = await jobs.get(deps, principal=await authenticate(deps), job_id=job_id)
    # Subscribed before the state is read again, so no event falls between the two.
    subscription = app.broker.subscribe(job_id=job.id)
    try:
        job = await deps.store.jobs.get(job.id) or job
        yield Update(event_of(job), deps)
        if job.status.finished:
            return
        last = job.seq

        async def still_visible(fresh: Deps) -> None:
            await jobs.get(fresh, principal=await authenticate(fresh), job_id=job_id)

        async for update in _stream(app, subscription, still_visible, recheck_seconds):
            if update.event.seq <= last:
                continue
            last = update.event.seq
            yield update
            if update.event.final:
                return
    finally:
        subscription.close()


async def account_job_updates(
    app: AppDeps, *, authenticate: Authenticate, account_id: str, recheck_seconds: float
) -> AsyncIterator[Update]:
    """Every job event of one account (not its sub-accounts), until the client stops."""
    deps = app.for_operation()
    principal = await authenticate(deps)
    account, _ = await access.visible_account(deps, principal=principal, account_id=account_id)
    subscription = app.broker.subscribe(account_id=account.id)

    async def still_visible(fresh: Deps) -> None:
        await access.visible_account(
            fresh, principal=await authenticate(fresh), account_id=account.id
        )

    try:
        async for update in _stream(app, subscription, still_visible, recheck_seconds):
            yield update
    finally:
        subscription.close()


async def _stream(
    app: AppDeps,
    subscription: Subscription,
    still_visible: Callable[[Deps], Awaitable[None]],
    recheck_seconds: float,
) -> AsyncIterator[Update]:
    checked = time.monotonic()
    while True:
        event = await subscription.next(recheck_seconds)
        fresh = app.for_operation()
        if event is None or time.monotonic() - checked >= recheck_seconds:
            await still_visible(fresh)  # raises when access is gone: the stream ends
            checked = time.monotonic()
        if event is not None:
            yield Update(event, fresh)
