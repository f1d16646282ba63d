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

OPEN_RETRY_SECONDS = 5.0


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
    """This process's live queue, polled into ``app.broker`` until the block exits.

    The API serves meanwhile whatever happens here: a queue that cannot be made yet (the
    bus missing, AWS briefly failing) is tried again every few seconds, and live
    subscriptions see no events until it is."""
    queue = LiveQueue(app.clients, app.settings.names, uuid.uuid4().hex[:12])
    opened = asyncio.Event()
    tasks = [
        asyncio.create_task(_poll(app, queue, opened), name="live-poll"),
        asyncio.create_task(_housekeeping(app, queue, opened), name="live-housekeeping"),
    ]
    try:
        yield queue
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if opened.is_set():
            await queue.close()


async def _open(queue: LiveQueue, opened: asyncio.Event) -> None:
    while not opened.is_set():
        try:
            await queue.open()
        except Exception:
            log.exception("live queue %s could not be made; trying again", queue.name)
            await asyncio.sleep(OPEN_RETRY_SECONDS)
        else:
            opened.set()


async def _poll(app: AppDeps, queue: LiveQueue, opened: asyncio.Event) -> None:
    """Receive, hand the events to the broker at once, and delete them meanwhile: the
    next long poll starts without waiting for the deletion's round trip."""
    await _open(queue, opened)
    wait = app.settings.live_poll_seconds
    deleting: set[asyncio.Task[None]] = set()
    try:
        while True:
            try:
                batch = await queue.receive(wait)
            except Exception:
                log.exception("live queue: receiving failed")
                await asyncio.sleep(1)
                continue
            for detail in batch.details:
                event = parse(detail)
                if event is not None:
                    app.broker.publish(event)
            if batch.receipts:
                task = asyncio.create_task(_delete(queue, batch.receipts))
                deleting.add(task)
                task.add_done_callback(deleting.discard)
    finally:
        for task in deleting:
            task.cancel()


async def _delete(queue: LiveQueue, receipts: list[str]) -> None:
    try:
        await queue.delete(receipts)
    except Exception:
        log.exception("live queue: deleting %d messages failed", len(receipts))


async def _housekeeping(app: AppDeps, queue: LiveQueue, opened: asyncio.Event) -> None:
    settings = app.settings
    await opened.wait()
    while True:
        await asyncio.sleep(settings.live_heartbeat_seconds)
        try:
            await queue.beat()
            await queue.reap(ttl_seconds=settings.live_ttl_seconds)
        except Exception:
            log.exception("live queue: heartbeat or janitor failed")
