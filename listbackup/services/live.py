"""Live job status: the streams behind ``jobUpdates`` and ``accountJobUpdates``.

A stream is authorized when it starts (an invisible job or account answers exactly like
a missing one) and again every few seconds while it runs, with fresh loaders and the
viewer's token verified again: when the viewer loses access (a membership removed, the
token expired or revoked) the stream ends with that error. Events come from the
process's broker; a caller that can send an event at once (``send_now``) is handed each
as it comes, and the stream yields only those it did not take.
"""

from __future__ import annotations

import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from dataclasses import dataclass

from listbackup.broker import Direct, JobEvent, Subscription
from listbackup.deps import AppDeps, Deps
from listbackup.models.jobs import Job
from listbackup.models.users import Principal
from listbackup.services import access, jobs

#: Verifies the viewer again with the given operation's loaders (UNAUTHENTICATED else).
Authenticate = Callable[[Deps], Awaitable[Principal]]


@dataclass(frozen=True, slots=True)
class Update:
    """One event for a subscriber. The schema reads what it names (``job``) with
    dependencies it renews for each event, so each is read as it is now."""

    event: JobEvent


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
    app: AppDeps,
    *,
    authenticate: Authenticate,
    viewer: str | None,
    job_id: str,
    recheck_seconds: float,
    send_now: Direct | None = None,
) -> AsyncIterator[Update]:
    """The job's current state, then every event until it ends (the event that ends it
    is always yielded, never sent through ``send_now``).

    ``viewer`` is the caller's credentials: checks of the same viewer's access to the same
    job that are due at the same moment are made once (``listbackup.broker.Shared``)."""
    deps = app.for_operation()
    job = await jobs.get(deps, principal=await authenticate(deps), job_id=job_id)
    # Subscribed before the state is read again, so no event falls between the two.
    subscription = app.broker.subscribe(job_id=job.id)
    try:
        job = await deps.store.jobs.get(job.id) or job
        yield Update(event_of(job))
        if job.status.finished:
            return
        subscription.floor = max(subscription.floor, job.seq)
        del deps, job  # a subscription holds no loaders (and nothing they read) while it waits
        if send_now is not None:
            subscription.direct = _unless_final(send_now)

        async def still_visible() -> None:
            fresh = app.for_operation()
            await jobs.get(fresh, principal=await authenticate(fresh), job_id=job_id)

        key = (viewer, "job", job_id)
        async for update in _stream(app, subscription, key, still_visible, recheck_seconds):
            yield update
            if update.event.final:
                return
    finally:
        subscription.close()


async def account_job_updates(
    app: AppDeps,
    *,
    authenticate: Authenticate,
    viewer: str | None,
    account_id: str,
    recheck_seconds: float,
    send_now: Direct | None = None,
) -> AsyncIterator[Update]:
    """Every job event of one account (not its sub-accounts), until the client stops.

    Subscriptions of the same viewer to the same account that start together (a client
    opening many at once) share the check that lets them start, and later ones."""

    async def visible() -> str:
        fresh = app.for_operation()
        principal = await authenticate(fresh)
        account, _ = await access.visible_account(fresh, principal=principal, account_id=account_id)
        return account.id

    key = (viewer, "account", account_id)
    found: str = await app.broker.checks.run(key, visible)
    subscription = app.broker.subscribe(account_id=found)
    subscription.direct = send_now
    try:
        async for update in _stream(app, subscription, key, visible, recheck_seconds):
            yield update
    finally:
        subscription.close()


async def _stream(
    app: AppDeps,
    subscription: Subscription,
    key: Hashable,
    still_visible: Callable[[], Awaitable[object]],
    recheck_seconds: float,
) -> AsyncIterator[Update]:
    """The subscription's events; its access checked again at every multiple of
    ``recheck_seconds`` on the process's clock, so that every subscription of one viewer
    to one target is due at the same moment, and one check answers them all."""
    due = _next_tick(time.monotonic(), recheck_seconds)
    while True:
        event = await subscription.next(max(0.0, due - time.monotonic()))
        now = time.monotonic()
        if now >= due:
            # Nothing goes out directly until the check passed and the next read.
            subscription.hold()
            await app.broker.checks.run(key, still_visible)  # raises when access is gone
            due = _next_tick(now, recheck_seconds)
        if event is not None:
            yield Update(event)


def _unless_final(send_now: Direct) -> Direct:
    def send(event: JobEvent) -> bool:
        return not event.final and send_now(event)

    return send


def _next_tick(now: float, period: float) -> float:
    return (math.floor(now / period) + 1) * period
