"""The in-process broker of job events: one feed in (this process's live queue), any
number of subscribers out.

Events carry a per-job sequence number: the broker drops duplicates and anything older
than what it already passed on, so a terminal status is never overtaken. Each subscriber
keeps only the latest event of each job it has not read yet, so a slow subscriber costs
at most one event per job and never blocks the broker or the others: progress it missed
is coalesced into the latest state.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict, defaultdict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from listbackup.errors import RateLimitedError
from listbackup.models.jobs import JobStatus, Progress

#: Jobs whose last sequence number the broker remembers (the oldest are forgotten).
SEEN_JOBS = 100_000

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class JobEvent:
    job_id: str
    source_id: str
    account_id: str
    status: JobStatus
    progress: Progress
    message: str | None
    at: datetime
    seq: int
    #: What is worked out from the event once for all its subscribers (its GraphQL
    #: results, schema/shared_events.py); not part of the event's value.
    shared_results: dict[Hashable, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def final(self) -> bool:
        return self.status.finished


class Subscription:
    """What one subscriber has yet to read: the latest event of each job."""

    def __init__(self, broker: Broker, *, job_id: str | None, account_id: str | None) -> None:
        self._broker = broker
        self.job_id = job_id
        self.account_id = account_id
        self._pending: OrderedDict[str, JobEvent] = OrderedDict()
        self._wake = asyncio.Event()
        self.closed = False

    def offer(self, event: JobEvent) -> None:
        held = self._pending.get(event.job_id)
        if held is not None and held.seq >= event.seq:
            return
        self._pending[event.job_id] = event
        self._pending.move_to_end(event.job_id)
        self._wake.set()

    async def next(self, within: float) -> JobEvent | None:
        """The oldest unread event; None when nothing came within ``within`` seconds."""
        if not self._pending:
            self._wake.clear()
            # A timer, not asyncio.wait_for: that makes a task per wait, for every subscriber.
            timer = asyncio.get_running_loop().call_later(within, self._wake.set)
            try:
                await self._wake.wait()
            finally:
                timer.cancel()
            if not self._pending:
                return None
        _, event = self._pending.popitem(last=False)
        return event

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._broker._remove(self)


class Shared:
    """Identical checks run once: whoever asks for a key while its check runs awaits that
    run (and gets its answer or its error) instead of starting another. Nothing is kept
    once a check ends, so every caller's answer is from a check that ended after it asked.
    """

    def __init__(self) -> None:
        self._running: dict[Hashable, asyncio.Future[Any]] = {}

    async def run(self, key: Hashable, check: Callable[[], Awaitable[T]]) -> T:
        future = self._running.get(key)
        if future is None or future.done():
            future = asyncio.ensure_future(check())
            self._running[key] = future
            future.add_done_callback(self._forget(key))
        # One caller going away (its subscription closed) does not cancel the others' check.
        result: T = await asyncio.shield(future)
        return result

    def _forget(self, key: Hashable) -> Callable[[asyncio.Future[Any]], None]:
        def forget(future: asyncio.Future[Any]) -> None:
            if self._running.get(key) is future:
                del self._running[key]

        return forget

    def __len__(self) -> int:
        return len(self._running)


class Broker:
    def __init__(self, *, max_subscriptions: int) -> None:
        self.max_subscriptions = max_subscriptions
        #: Subscriptions' access checks, shared by those of the same viewer and target.
        self.checks = Shared()
        self._by_job: defaultdict[str, set[Subscription]] = defaultdict(set)
        self._by_account: defaultdict[str, set[Subscription]] = defaultdict(set)
        self._last_seq: OrderedDict[str, int] = OrderedDict()
        self.count = 0

    def subscribe(
        self, *, job_id: str | None = None, account_id: str | None = None
    ) -> Subscription:
        if self.count >= self.max_subscriptions:
            raise RateLimitedError(
                "This server holds all the subscriptions it can; try again shortly.",
                retry_after=5,
                reason="SUBSCRIPTION_LIMIT",
            )
        subscription = Subscription(self, job_id=job_id, account_id=account_id)
        if job_id is not None:
            self._by_job[job_id].add(subscription)
        if account_id is not None:
            self._by_account[account_id].add(subscription)
        self.count += 1
        return subscription

    def publish(self, event: JobEvent) -> bool:
        """Hand an event to its subscribers; False when it was a duplicate or stale."""
        last = self._last_seq.get(event.job_id)
        if last is not None and event.seq <= last:
            return False
        self._last_seq[event.job_id] = event.seq
        self._last_seq.move_to_end(event.job_id)
        if len(self._last_seq) > SEEN_JOBS:
            self._last_seq.popitem(last=False)
        watching = (
            *self._by_job.get(event.job_id, ()),
            *self._by_account.get(event.account_id, ()),
        )
        for subscription in watching:
            subscription.offer(event)
        return True

    def _remove(self, subscription: Subscription) -> None:
        keyed = ((self._by_job, subscription.job_id), (self._by_account, subscription.account_id))
        for index, key in keyed:
            if key is None:
                continue
            members = index.get(key)
            if members is not None:
                members.discard(subscription)
                if not members:
                    del index[key]
        self.count -= 1
