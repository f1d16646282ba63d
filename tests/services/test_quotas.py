"""A platform's per-app quota (Keap's) is one token bucket in DynamoDB: whatever the number
of workers and jobs drawing from it, no second sends more than it allows."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from listbackup.deps import Deps
from listbackup.integrations.base import AppQuota
from listbackup.integrations.keap import INTEGRATION as KEAP
from listbackup.services import quotas
from listbackup.services.quotas import AppThrottle

NOW = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
QUOTA = AppQuota(per_second=20, burst=5)


def throttle(deps: Deps, now: datetime, platform: str = "keap") -> AppThrottle:
    return AppThrottle(deps.store.rate_limits, platform=platform, quota=QUOTA, clock=lambda: now)


async def test_thirty_concurrent_requests_of_three_workers_keep_to_the_bucket(deps: Deps) -> None:
    workers = [throttle(deps, NOW) for _ in range(3)]

    waits = sorted(await asyncio.gather(*(workers[n % 3].reserve() for n in range(30))))

    # The burst goes at once; then one every 50 ms, each request a slot of its own.
    assert waits[:5] == [0.0] * 5
    assert waits[5:] == [round(0.05 * k, 2) for k in range(1, 26)]
    busiest = max(sum(1 for w in waits if start <= w < start + 1) for start in waits)
    assert busiest <= QUOTA.per_second + QUOTA.burst


async def test_a_quiet_spell_refills_the_burst_and_no_more(deps: Deps) -> None:
    for _ in range(10):
        await throttle(deps, NOW).reserve()

    later = throttle(deps, NOW + timedelta(seconds=10))
    waits = [await later.reserve() for _ in range(7)]

    assert waits == [0.0] * 5 + [0.05, 0.1]


async def test_each_platform_has_its_own_bucket(deps: Deps) -> None:
    for _ in range(10):
        await throttle(deps, NOW, "keap").reserve()

    assert await throttle(deps, NOW, "other").reserve() == 0.0


async def test_the_throttle_waits_its_slot(deps: Deps) -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    wait = AppThrottle(
        deps.store.rate_limits,
        platform="keap",
        quota=AppQuota(per_second=4),
        clock=lambda: NOW,
        sleep=sleep,
    )
    for _ in range(3):
        await wait()

    assert slept == [0.25, 0.5]


def test_only_platforms_with_a_per_app_quota_are_throttled(deps: Deps) -> None:
    assert KEAP.app_quota == AppQuota(per_second=20, burst=5)
    assert isinstance(quotas.for_platform(deps, KEAP), AppThrottle)
    demo = deps.platforms.integration("demo")
    assert quotas.for_platform(replace(deps), demo) is None
