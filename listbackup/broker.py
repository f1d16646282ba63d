"""The in-process broker of job events: one feed in (this process's live queue), any
number of subscribers out.

Events carry a per-job sequence number: the broker drops duplicates and anything older
than what it already passed on, so a terminal status is never overtaken. Each subscriber
keeps only the latest event of each job it has not read yet, so a slow subscriber costs
at most one event per job and never blocks the broker or the others: progress it missed
is coalesced into the latest state.

A subscriber may also take events directly (``Subscription.direct``): the broker hands
it each event as it comes, and only what it does not take (its socket is full, the
event ends the stream, nothing is sent that way) waits to be read. Waking ten thousand
waiting tasks for every event cost more than all the rest of delivering it.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict, defaultdict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from listbackup.errors import RateLimitedError
from listbackup.models.jobs import JobStatus, Progress

#: Jobs whose last sequence number the broker remembers (the oldest are forgotten).
SEEN_JOBS = 100_000

log = logging.getLogger(__name__)

#: In an event's shared results: the first subscriber that failed to take it directly.
_DIRECT_FAILED = "direct failed"

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


#: Sends an event now if it can and says whether it did; it must not block.
Direct = Callable[["JobEvent"], bool]


class Subscription:
    """What one subscriber has yet to read: the latest event of each job."""

    def __init__(self, broker: Broker, *, job_id: str | None, account_id: str | None) -> None:
        self._broker = broker
        self.job_id = job_id
        self.account_id = account_id
        #: Of a job's subscription: the last event it was given; older ones are dropped.
        self.floor = 0
        #: Takes events as they come, when nothing else is waiting to be read (see
        #: :meth:`offer`); None: every event waits to be read.
        self.direct: Direct | None = None
        self._pending: OrderedDict[str, JobEvent] = OrderedDict()
        #: The subscriber holds an event it read and has not finished with.
        self._holding = False
        self._wake = asyncio.Event()
        self.closed = False

    def offer(self, event: JobEvent) -> None:
        if self.job_id is not None and event.seq <= self.floor:
            return
        held = self._pending.get(event.job_id)
        if held is not None and held.seq >= event.seq:
            return
        # Taken now only when nothing is ahead of it, which keeps the order.
        direct = self.direct
        if (
            direct is not None
            and not self._pending
            and not self._holding
            and self._take(direct, event)
        ):
            return
        self._pending[event.job_id] = event
        self._pending.move_to_end(event.job_id)
        self._wake.set()

    def hold(self) -> None:
        """Take nothing directly until the next read (while the subscriber's access is
        checked again: should the check fail, nothing more has gone out)."""
        self._holding = True

    def _take(self, direct: Direct, event: JobEvent) -> bool:
        try:
            taken = direct(event)
        except Exception:
            # One subscriber's failure is its own: it reads its events from now on. The
            # same failure for every subscriber of an event is logged once.
            if event.shared_results.setdefault(_DIRECT_FAILED, self) is self:
                log.exception("a subscriber could not take an event directly")
            self.direct = None
            return False
        if taken and self.job_id is not None:
            self.floor = event.seq
        return taken

    async def next(self, within: float) -> JobEvent | None:
        """The oldest unread event; None when nothing came within ``within`` seconds.
        The event is held until the next call."""
        self._holding = False
        if not self._pending:
            self._wake.clear()
            # A timer, not asyncio.wait_for: that makes a task per wait, for every subscriber.
            timer = asyncio.get_running_loop().call_later(within, self._wake.set)
            try:
                await self._wake.wait()
            finally:
                timer.cancel()
        while self._pending:
            _, event = self._pending.popitem(last=False)
            if self.job_id is not None:
                if event.seq <= self.floor:  # given already: the floor rose meanwhile
                    continue
                self.floor = event.seq
            self._holding = True
            return event
        return None

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.direct = None
            self._broker._remove(self)


class Shared:
    """Identical checks run once: whoever asks for a key while its check runs awaits that
    run (and gets its answer or its error) instead of starting another. Nothing is kept
    once a check ends, so every caller's answer is from a check that ended after it asked.
    One caller going away (its subscription closed) does not cancel the others' check.
    """

    def __init__(self) -> None:
        self._running: dict[Hashable, _Run] = {}

    async def run(self, key: Hashable, check: Callable[[], Awaitable[T]]) -> T:
        running = self._running.get(key)
        if running is None or running.check.done():  # ended: its callbacks are yet to run
            running = self._running[key] = _Run(asyncio.ensure_future(check()))
            running.check.add_done_callback(self._end(key, running))
        # A future per caller, not asyncio.shield: a shielded caller that goes away
        # removes itself from the check's callbacks, a search through all of them
        # (ten thousand subscriptions closing at once: a hundred million steps).
        waiter: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        running.waiters.add(waiter)
        try:
            return await waiter
        finally:
            running.waiters.discard(waiter)

    def _end(self, key: Hashable, running: _Run) -> Callable[[asyncio.Future[Any]], None]:
        def end(check: asyncio.Future[Any]) -> None:
            if self._running.get(key) is running:
                del self._running[key]
            error = None if check.cancelled() else check.exception()
            for waiter in running.waiters:
                if waiter.done():
                    continue
                if check.cancelled():
                    waiter.cancel()
                elif error is not None:
                    waiter.set_exception(error)
                else:
                    waiter.set_result(check.result())

        return end

    def __len__(self) -> int:
        return len(self._running)


@dataclass(slots=True)
class _Run:
    check: asyncio.Future[Any]
    waiters: set[asyncio.Future[Any]] = field(default_factory=set)


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
