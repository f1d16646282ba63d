"""The worker process: job queues, the scheduler, the dead-letter queues, retention.

Shaped like the server: :func:`run_worker` opens the same dependency bundle the API
opens (no GraphQL), then runs until told to stop. Each job message is claimed with a
conditional write and held with a lease the worker renews about once a second, together
with the message's visibility, so a worker that dies gives its jobs up within a lease
and the next one resumes them. On SIGTERM the worker drains: it stops receiving, lets
its jobs finish the data type they are on (for a grace period), then gives the rest back.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from listbackup.adapters.queues import MAX_RECEIVES, PRIORITY, Delivery
from listbackup.config import Settings
from listbackup.deps import AppDeps, Deps
from listbackup.models.jobs import Job
from listbackup.resources import SPEC
from listbackup.services import jobs, retention, scheduler
from listbackup.services.backups import Ending, Outcome, Run

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Timing:
    """How often the worker does what; ``listbackup dev`` and tests go faster."""

    lease_seconds: int = 60
    heartbeat_seconds: float = 1.0
    #: Long-poll wait on the job queues when idle.
    poll_seconds: int = 20
    #: A running job told to stop is stopped hard after this long.
    cancel_seconds: float = 2.0
    #: On SIGTERM, how long jobs may take to finish their current data type.
    grace_seconds: float = 30.0
    scheduler_seconds: float = 10.0
    dead_letter_seconds: float = 30.0
    retention_seconds: float = 3600.0
    #: Backoff before attempt n+1 of a job that failed for a passing reason: this,
    #: doubled for each earlier attempt (at most 15 minutes).
    retry_base_seconds: int = 30

    @classmethod
    def from_settings(cls, settings: Settings) -> Timing:
        return cls(
            lease_seconds=settings.worker_lease_seconds,
            heartbeat_seconds=settings.worker_heartbeat_seconds,
            poll_seconds=settings.worker_poll_seconds,
            grace_seconds=settings.worker_grace_seconds,
            scheduler_seconds=settings.scheduler_interval_seconds,
            dead_letter_seconds=max(settings.scheduler_interval_seconds, 5.0),
            retry_base_seconds=settings.worker_retry_base_seconds,
        )


@dataclass
class _Running:
    run: Run
    delivery: Delivery
    task: asyncio.Task[Outcome]


class Worker:
    def __init__(self, app: AppDeps, *, concurrency: int = 4, timing: Timing | None = None) -> None:
        self.app = app
        self.concurrency = concurrency
        self.timing = timing or Timing()
        self.name = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self._running: dict[str, _Running] = {}
        self._slots = asyncio.Semaphore(concurrency)
        self._stopping = asyncio.Event()
        #: Every job's handler task, held so none is garbage-collected while it runs.
        self._tasks: set[asyncio.Task[None]] = set()

    # -- the process ----------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Serve until ``stop`` is set, then drain."""
        poll = asyncio.create_task(self._poll(), name="poll")
        loops = [
            asyncio.create_task(self._every(self.timing.scheduler_seconds, self._schedule)),
            asyncio.create_task(self._every(self.timing.dead_letter_seconds, self._dead_letters)),
            asyncio.create_task(self._every(self.timing.retention_seconds, self._sweep)),
        ]
        log.info("worker %s serving %d job slots", self.name, self.concurrency)
        await stop.wait()
        self._stopping.set()
        for loop in loops:
            loop.cancel()
        await asyncio.gather(*loops, return_exceptions=True)
        await asyncio.gather(self._stop_polling(poll), self.drain())
        log.info("worker %s stopped", self.name)

    async def _stop_polling(self, poll: asyncio.Task[None]) -> None:
        """Let a receive under way end (a long poll at most) and give back what it got.
        Cancelled instead, SQS would still hand it messages, to no one: each hidden for
        the visibility timeout, an attempt spent."""
        await asyncio.wait([poll], timeout=self.timing.poll_seconds + self.timing.grace_seconds)
        poll.cancel()
        await asyncio.gather(poll, return_exceptions=True)

    async def drain(self) -> None:
        """Let running jobs finish their current data type, then give the rest back."""
        for running in self._running.values():
            running.run.control.drain = True
        tasks = [r.task for r in self._running.values()]
        if tasks:
            await asyncio.wait(tasks, timeout=self.timing.grace_seconds)
        for running in list(self._running.values()):
            running.task.cancel()
        # Each job's handler settles it (message deleted, or job requeued and message
        # released): wait for that too, or the process would end before it is done.
        await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _every(self, seconds: float, step: Callable[[], Awaitable[object]]) -> None:
        while not self._stopping.is_set():
            try:
                await step()
            except Exception:
                log.exception("worker %s: %s failed", self.name, getattr(step, "__name__", step))
            await asyncio.sleep(seconds)

    async def _schedule(self) -> None:
        queued = await scheduler.tick(self.app.for_operation())
        if queued:
            log.info("scheduler queued %d jobs", queued)

    async def _sweep(self) -> None:
        await retention.sweep(self.app.for_operation())

    # -- receiving --------------------------------------------------------------------------

    async def _poll(self) -> None:
        queues = self.app.queues
        while not self._stopping.is_set():
            await self._slots.acquire()
            if self._stopping.is_set():  # waited for a slot while the worker drained
                self._slots.release()
                return
            free = self.concurrency - len(self._running)
            try:
                deliveries = await self._receive(free)
            except Exception:
                self._slots.release()
                log.exception("worker %s: receiving failed", self.name)
                await asyncio.sleep(1)
                continue
            self._slots.release()
            if self._stopping.is_set():
                for extra in deliveries:
                    await queues.hold(extra, 0)
                return
            for delivery in deliveries:
                await self._slots.acquire()
                task = asyncio.create_task(self._handle(delivery))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def _receive(self, free: int) -> list[Delivery]:
        """Higher-priority queues first; when all are empty, a long poll of each."""
        queues = self.app.queues
        for job_type in PRIORITY:
            found = await queues.receive(job_type, most=free, wait_seconds=0)
            if found:
                return found
        waits = await asyncio.gather(
            *(queues.receive(t, most=1, wait_seconds=self.timing.poll_seconds) for t in PRIORITY)
        )
        found = [d for batch in waits for d in batch]
        for extra in found[free:]:
            await queues.hold(extra, 0)  # more than we have room for: someone else's
        return found[:free]

    # -- one job ------------------------------------------------------------------------------

    async def _handle(self, delivery: Delivery) -> None:
        try:
            await self._serve(delivery)
        except Exception:
            log.exception("worker %s: job %s failed unexpectedly", self.name, delivery.job_id)
        finally:
            self._running.pop(delivery.job_id, None)
            self._slots.release()

    async def _serve(self, delivery: Delivery) -> None:
        deps, queues = self.app.for_operation(), self.app.queues
        if self._stopping.is_set():  # received as the worker began to drain
            await queues.hold(delivery, 0)
            return
        job = await deps.store.jobs.get(delivery.job_id)
        if job is None or job.status.finished:
            await queues.done(delivery)  # cancelled while queued, or a stale duplicate
            return
        now = deps.now()
        claimed = await deps.store.jobs.claim(
            job.id,
            owner=self.name,
            now=now,
            lease_until=now + self._lease,
            attempt=delivery.receive_count,
        )
        if claimed is None:
            # Held by a live worker (a duplicate delivery): look again after its lease.
            await queues.hold(delivery, self.timing.lease_seconds)
            return
        await queues.hold(delivery, self.timing.lease_seconds)
        final = delivery.receive_count >= MAX_RECEIVES[delivery.job_type]
        run = Run(
            deps,
            claimed,
            owner=self.name,
            final_attempt=final,
            retry_base_seconds=self.timing.retry_base_seconds,
        )
        task = asyncio.create_task(run.execute())
        self._running[job.id] = _Running(run, delivery, task)
        started = time.monotonic()
        outcome = await self._hold(run, delivery, task)
        await self._settle(run, delivery, outcome)
        _metrics(outcome, self.app.settings.stage, time.monotonic() - started)

    @property
    def _lease(self) -> timedelta:
        return timedelta(seconds=self.timing.lease_seconds)

    async def _hold(self, run: Run, delivery: Delivery, task: asyncio.Task[Outcome]) -> Outcome:
        """Renew the lease and the message's visibility while the job runs; stop it when
        it is cancelled or its lease is lost."""
        asked_at: float | None = None
        while True:
            done, _ = await asyncio.wait({task}, timeout=self.timing.heartbeat_seconds)
            if done:
                break
            held = await run.heartbeat(run.deps.now() + self._lease)
            if held is not None:
                await self.app.queues.hold(delivery, self.timing.lease_seconds)
                if held.cancel_requested and not run.control.cancel:
                    run.control.cancel = True
                    asked_at = time.monotonic()
            stuck = (
                asked_at is not None and time.monotonic() - asked_at > self.timing.cancel_seconds
            )
            if run.control.lost or stuck:
                task.cancel()  # a page that takes long (a slow platform) is not waited for
                break
        try:
            return await task
        except asyncio.CancelledError:
            if self._stopping.is_set() and not run.control.cancel:
                return Outcome(Ending.RELEASED, run.job)
            return await run.stopped()

    async def _settle(self, run: Run, delivery: Delivery, outcome: Outcome) -> None:
        queues = self.app.queues
        if outcome.ending in (Ending.COMPLETED, Ending.FAILED, Ending.CANCELLED):
            await queues.done(delivery)
        elif outcome.ending is Ending.RETRY:
            await queues.hold(delivery, outcome.retry_in)
        elif outcome.ending is Ending.RELEASED:
            released = await run.deps.store.jobs.requeue(run.job.id, owner=self.name)
            if released is not None:
                await jobs.publish(
                    run.deps, released, "Job Queued", "Released by a stopping worker."
                )
            await queues.hold(delivery, 0)
        # LOST: another worker holds the job and its message now; leave both alone.

    # -- the dead-letter queues -------------------------------------------------------------

    async def _dead_letters(self) -> None:
        """A message that exhausted its receives: its job is FAILED, never left RUNNING."""
        deps, queues = self.app.for_operation(), self.app.queues
        for job_type in PRIORITY:
            for delivery in await queues.receive(job_type, most=10, wait_seconds=0, dead=True):
                job = await deps.store.jobs.get(delivery.job_id)
                if job is not None and not job.status.finished:
                    await _give_up(deps, job)
                await queues.done(delivery)


async def _give_up(deps: Deps, job: Job) -> None:
    message = (
        f"No worker could finish this job after {job.attempt} attempts; "
        "run it again, and contact support if it keeps failing."
    )
    now = deps.now()
    failed = await deps.store.jobs.abandon(
        job.id, error=message, now=now, keep_until=now + timedelta(days=job.retention_days)
    )
    if failed is not None:
        await deps.store.sources.job_ended(
            failed.source_id, failed.id, changes={"lastJobId": failed.id}
        )
        await jobs.publish(deps, failed, "Job Failed", message)


def _metrics(outcome: Outcome, stage: str, seconds: float) -> None:
    """CloudWatch embedded metric format: one JSON line per finished job on stdout."""
    names = {Ending.COMPLETED: "JobsCompleted", Ending.FAILED: "JobsFailed"}
    name = names.get(outcome.ending)
    if name is None or outcome.job is None:
        return
    values = {name: 1, "JobDurationSeconds": round(seconds, 3)}
    if outcome.ending is Ending.COMPLETED:
        values["RecordsBackedUp"] = outcome.job.progress.records_processed
    line = {
        "_aws": {
            "Timestamp": int(time.time() * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": SPEC.metrics_namespace,
                    "Dimensions": [["Stage"]],
                    "Metrics": [{"Name": n, "Unit": _unit(n)} for n in values],
                }
            ],
        },
        "Stage": stage,
        **values,
    }
    sys.stdout.write(json.dumps(line) + "\n")
    sys.stdout.flush()


def _unit(name: str) -> str:
    return "Seconds" if name.endswith("Seconds") else "Count"
