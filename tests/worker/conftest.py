"""A worker in the test's event loop, fast (see helpers.FAST)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from listbackup.deps import AppDeps
from listbackup.worker import Worker
from tests.worker.helpers import worker_running


@pytest.fixture
async def worker(app_deps: AppDeps, aws: object) -> AsyncIterator[Worker]:
    async with worker_running(app_deps) as running:
        yield running
