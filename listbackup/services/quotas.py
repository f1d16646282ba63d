"""Quotas a platform counts per OAuth app, across all our customers (Keap's): one token
bucket in DynamoDB that every worker's connections of the platform draw from, so parallel
jobs of many customers together stay under it.

The bucket is kept as a schedule (the generic cell rate algorithm, equivalent to a token
bucket): one item holds when the next request is due. Each request takes the next slot
with a single conditional update and waits for it, less the burst the bucket allows;
requests queue in the order they asked, and no request is refused.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from listbackup.integrations.base import AppQuota, Integration
from listbackup.store.rate_limits import RateLimitStore

if TYPE_CHECKING:
    from listbackup.deps import Clock, Deps

_MICROS = 1_000_000
#: An idle bucket's item expires after a day.
_TTL_SECONDS = 86_400


class AppThrottle:
    """Waits for this process's share of one platform's per-app quota."""

    def __init__(
        self,
        store: RateLimitStore,
        *,
        platform: str,
        quota: AppQuota,
        clock: Clock,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._store = store
        self._key = f"app-quota#{platform}"
        self._interval = max(1, round(_MICROS / quota.per_second))
        self._allowance = (max(quota.burst, 1) - 1) * self._interval
        self._clock = clock
        self._sleep = sleep

    async def reserve(self) -> float:
        """Take a slot; return the seconds to wait before sending (0: send now)."""
        now = self._clock()
        micros = int(now.timestamp() * _MICROS)
        due = await self._store.reserve_slot(
            self._key,
            now=micros,
            interval=self._interval,
            expires_at=int(now.timestamp()) + _TTL_SECONDS,
        )
        return max(0, due - self._allowance - micros) / _MICROS

    async def __call__(self) -> None:
        wait = await self.reserve()
        if wait > 0:
            await self._sleep(wait)


def for_platform(deps: Deps, integration: Integration) -> AppThrottle | None:
    """The throttle of a platform with a per-app quota; None for the others."""
    if integration.app_quota is None:
        return None
    return AppThrottle(
        deps.store.rate_limits,
        platform=integration.slug,
        quota=integration.app_quota,
        clock=deps.clock,
    )
