"""The broker hands events to subscribers that take them directly, in order; what they
do not take waits to be read, coalesced per job."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from listbackup.broker import Broker, JobEvent
from listbackup.errors import NotFoundError
from listbackup.models.jobs import JobStatus, Progress
from listbackup.services import live


def event(job: str, seq: int, status: JobStatus = JobStatus.RUNNING) -> JobEvent:
    return JobEvent(
        job_id=job,
        source_id="s1",
        account_id="a1",
        status=status,
        progress=Progress(steps_completed=seq),
        message=None,
        at=datetime(2026, 1, 2, tzinfo=UTC),
        seq=seq,
    )


class Taker:
    """Takes events while it has room."""

    def __init__(self) -> None:
        self.room = True
        self.taken: list[tuple[str, int]] = []

    def __call__(self, happened: JobEvent) -> bool:
        if self.room:
            self.taken.append((happened.job_id, happened.seq))
        return self.room


async def test_a_subscriber_with_no_room_reads_the_rest_in_order_then_takes_again() -> None:
    broker = Broker(max_subscriptions=10)
    subscription = broker.subscribe(account_id="a1")
    taker = Taker()
    subscription.direct = taker

    broker.publish(event("j1", 1))
    taker.room = False
    broker.publish(event("j1", 2))
    taker.room = True
    # Behind an unread event nothing is taken directly, so nothing overtakes it.
    broker.publish(event("j2", 1))
    broker.publish(event("j1", 3))  # coalesced with j1's unread 2

    assert taker.taken == [("j1", 1)]
    read = [await subscription.next(0) for _ in range(3)]
    assert [(e.job_id, e.seq) for e in read if e] == [("j2", 1), ("j1", 3)]
    assert read[2] is None
    # Nothing left to read and nothing held: events are taken directly again.
    broker.publish(event("j2", 2))
    assert taker.taken == [("j1", 1), ("j2", 2)]


async def test_an_event_read_is_held_until_the_next_read() -> None:
    broker = Broker(max_subscriptions=10)
    subscription = broker.subscribe(account_id="a1")
    taker = Taker()
    subscription.direct = taker
    taker.room = False
    broker.publish(event("j1", 1))
    taker.room = True

    held = await subscription.next(0)
    broker.publish(event("j1", 2))  # the reader has not finished with 1

    assert held is not None
    assert held.seq == 1
    assert taker.taken == []
    assert (await subscription.next(0)) == event("j1", 2)


async def test_a_job_subscription_never_goes_back_below_what_it_was_given() -> None:
    broker = Broker(max_subscriptions=10)
    subscription = broker.subscribe(job_id="j1")
    subscription.floor = 5  # its current state, read when it started
    taker = Taker()
    subscription.direct = taker
    # Events the broker had not seen yet, but older than the state given.
    for seq in (4, 5, 6):
        broker.publish(event("j1", seq))
    taker.room = False
    broker.publish(event("j1", 7))

    assert taker.taken == [("j1", 6)]
    assert (await subscription.next(0)) == event("j1", 7)
    assert subscription.floor == 7


async def test_a_subscriber_that_fails_to_take_an_event_reads_it_and_the_rest(
    caplog: pytest.LogCaptureFixture,
) -> None:
    broker = Broker(max_subscriptions=10)
    subscription = broker.subscribe(account_id="a1")

    def broken(happened: JobEvent) -> bool:
        raise RuntimeError("socket gone strange")

    subscription.direct = broken
    other = broker.subscribe(account_id="a1")
    with caplog.at_level(logging.ERROR, logger="listbackup.broker"):
        broker.publish(event("j1", 1))
        broker.publish(event("j1", 2))

    assert subscription.direct is None
    assert (await subscription.next(0)) == event("j1", 2)
    assert (await other.next(0)) == event("j1", 2)
    assert "could not take an event" in caplog.text
    subscription.close()
    other.close()
    assert broker.count == 0


async def test_nothing_is_taken_directly_while_access_is_checked_again_and_fails() -> None:
    broker = Broker(max_subscriptions=10)
    app = SimpleNamespace(broker=broker)
    subscription = broker.subscribe(account_id="a1")
    taker = Taker()
    subscription.direct = taker
    checking, failed = asyncio.Event(), asyncio.Event()

    async def still_visible() -> None:
        checking.set()
        await failed.wait()
        raise NotFoundError("no longer visible")

    async def consume() -> None:
        async for _ in live._stream(app, subscription, "key", still_visible, 0.05):  # type: ignore[arg-type]
            pass

    stream = asyncio.create_task(consume())
    await checking.wait()
    broker.publish(event("j1", 1))  # while the check runs
    failed.set()
    await asyncio.sleep(0)  # the check has failed; its callers wake a turn later
    broker.publish(event("j1", 2))  # the poll loop may run first
    with pytest.raises(NotFoundError):
        await stream
    subscription.close()

    assert taker.taken == []


async def test_a_subscriber_failing_as_every_other_is_logged_once_per_event(
    caplog: pytest.LogCaptureFixture,
) -> None:
    broker = Broker(max_subscriptions=100)
    subscriptions = [broker.subscribe(account_id="a1") for _ in range(50)]

    def broken(happened: JobEvent) -> bool:
        raise RuntimeError("the same bug for everyone")

    for subscription in subscriptions:
        subscription.direct = broken
    with caplog.at_level(logging.ERROR, logger="listbackup.broker"):
        broker.publish(event("j1", 1))

    assert caplog.text.count("could not take an event") == 1
    assert all(s.direct is None for s in subscriptions)
