"""The broker hands events to subscribers that take them directly, in order; what they
do not take waits to be read, coalesced per job."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from listbackup.broker import Broker, JobEvent
from listbackup.models.jobs import JobStatus, Progress


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
    # What was read is held until the reader asks again: nothing overtakes it either.
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
