"""Identical access checks in flight at once are made once; none is kept once it ends."""

from __future__ import annotations

import asyncio

import pytest

from listbackup.broker import Shared
from listbackup.errors import NotFoundError


async def test_callers_of_a_running_check_share_it_and_its_error() -> None:
    shared = Shared()
    runs = 0
    gate = asyncio.Event()

    async def check() -> str:
        nonlocal runs
        runs += 1
        await gate.wait()
        raise NotFoundError("gone")

    callers = [asyncio.create_task(shared.run("key", check)) for _ in range(100)]
    await asyncio.sleep(0)
    gate.set()
    results = await asyncio.gather(*callers, return_exceptions=True)

    assert runs == 1
    assert all(isinstance(r, NotFoundError) for r in results)
    assert len(shared) == 0


async def test_a_finished_check_is_not_reused_and_keys_do_not_mix() -> None:
    shared = Shared()
    runs: list[str] = []

    async def check(name: str) -> str:
        runs.append(name)
        return name

    assert await shared.run("a", lambda: check("a")) == "a"
    assert await shared.run("a", lambda: check("a")) == "a"
    assert await shared.run("b", lambda: check("b")) == "b"
    assert runs == ["a", "a", "b"]


async def test_one_caller_going_away_does_not_cancel_the_others() -> None:
    shared = Shared()
    gate = asyncio.Event()

    async def check() -> int:
        await gate.wait()
        return 7

    leaving = asyncio.create_task(shared.run("k", check))
    staying = asyncio.create_task(shared.run("k", check))
    await asyncio.sleep(0)
    leaving.cancel()
    gate.set()

    assert await staying == 7
    with pytest.raises(asyncio.CancelledError):
        await leaving


async def test_callers_going_away_leave_nothing_behind_and_the_rest_get_the_answer() -> None:
    shared = Shared()
    gate = asyncio.Event()
    runs = 0

    async def check() -> int:
        nonlocal runs
        runs += 1
        await gate.wait()
        return 7

    callers = [asyncio.create_task(shared.run("k", check)) for _ in range(1_000)]
    await asyncio.sleep(0)
    for caller in callers[:-2]:  # a thousand subscriptions closing at once, but two
        caller.cancel()
    await asyncio.sleep(0)
    (running,) = shared._running.values()
    assert len(running.waiters) == 2
    gate.set()

    assert [await caller for caller in callers[-2:]] == [7, 7]
    assert runs == 1
    assert len(shared) == 0
    assert all(caller.cancelled() for caller in callers[:-2])


async def test_a_caller_after_a_check_ended_gets_a_check_of_its_own() -> None:
    shared = Shared()
    runs = 0

    async def check() -> int:
        nonlocal runs
        runs += 1
        return runs

    first = asyncio.create_task(shared.run("k", check))
    await asyncio.sleep(0)  # the check runs...
    await asyncio.sleep(0)  # ...and ends; its callbacks have not run yet
    late = await shared.run("k", check)

    assert (await first, late) == (1, 2)
