"""A worker in the test's event loop, fast: one-second leases and heartbeats, short polls."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from listbackup.deps import AppDeps
from listbackup.worker import Timing, Worker

FAST = Timing(
    lease_seconds=5,
    heartbeat_seconds=0.2,
    poll_seconds=1,
    cancel_seconds=1.0,
    grace_seconds=3.0,
    scheduler_seconds=0.5,
    dead_letter_seconds=0.5,
    retention_seconds=3600,
    retry_base_seconds=1,
)


@pytest.fixture
async def worker(app_deps: AppDeps, aws: object) -> AsyncIterator[Worker]:
    running = Worker(app_deps, concurrency=2, timing=FAST)
    stop = asyncio.Event()
    task = asyncio.create_task(running.run(stop))
    yield running
    stop.set()
    await asyncio.wait_for(task, 30)
