"""Live job status for this API process: its live queue feeds the broker.

One poll loop per process reads the queue the bus fills (adapters/fanout.py) and hands
each event to the in-process broker; subscribers never poll AWS themselves. Beside it,
a heartbeat keeps the queue from being reaped, and a janitor reaps the queues of
processes that died.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from listbackup.adapters.fanout import LiveQueue
from listbackup.broker import JobEvent
from listbackup.deps import AppDeps
from listbackup.models.jobs import JobStatus, Progress

log = logging.getLogger(__name__)


def parse(detail: dict[str, Any]) -> JobEvent | None:
    """A job event from a bus event's detail; None when it is not one."""
    try:
        progress = detail.get("progress") or {}
        return JobEvent(
            job_id=str(detail["jobId"]),
            source_id=str(detail["sourceId"]),
            account_id=str(detail["accountId"]),
            status=JobStatus(detail["status"]),
            progress=Progress(
                steps_completed=int(progress.get("steps_completed", 0)),
                steps_total=int(progress.get("steps_total", 0)),
                current_step=progress.get("current_step"),
                records_processed=int(progress.get("records_processed", 0)),
                bytes_written=int(progress.get("bytes_written", 0)),
            ),
            message=detail.get("message"),
            at=datetime.fromisoformat(str(detail["at"])),
            seq=int(detail["seq"]),
        )
    except (KeyError, TypeError, ValueError):
        return None


@contextlib.asynccontextmanager
async def fanout(app: AppDeps) -> AsyncIterator[LiveQueue]:
    """This process's live queue, polled into ``app.broker`` until the block exits."""
    queue = LiveQueue(app.clients, app.settings.names, uuid.uuid4().hex[:12])
    await queue.open()
    tasks = [
        asyncio.create_task(_poll(app, queue), name="live-poll"),
        asyncio.create_task(_housekeeping(app, queue), name="live-housekeeping"),
    ]
    try:
        yield queue
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await queue.close()


async def _poll(app: AppDeps, queue: LiveQueue) -> None:
    wait = app.settings.live_poll_seconds
    while True:
        try:
            details = await queue.receive(wait)
        except Exception:
            log.exception("live queue: receiving failed")
            await asyncio.sleep(1)
            continue
        for detail in details:
            event = parse(detail)
            if event is not None:
                app.broker.publish(event)


async def _housekeeping(app: AppDeps, queue: LiveQueue) -> None:
    settings = app.settings
    while True:
        await asyncio.sleep(settings.live_heartbeat_seconds)
        try:
            await queue.beat()
            await queue.reap(ttl_seconds=settings.live_ttl_seconds)
        except Exception:
            log.exception("live queue: heartbeat or janitor failed")
