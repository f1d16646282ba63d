"""The scheduler queues every due run exactly once, however many schedulers tick at once,
and catches up with one run per source after downtime."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from listbackup.deps import Deps
from listbackup.models.jobs import JobStatus, JobTrigger
from listbackup.models.platforms import Frequency
from listbackup.models.schedules import Schedule
from listbackup.models.sources import Source, SourceStatus
from listbackup.services import scheduler, schedules
from listbackup.store.dynamo import paginate

NOW = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
N_DUE = 150
HOURLY = Schedule(frequency=None, cron="0 * * * *", timezone="UTC")


def at(deps: Deps, now: datetime) -> Deps:
    return replace(deps, clock=lambda: now)


async def due_sources(deps: Deps, count: int, *, due_at: datetime, **extra: object) -> list[Source]:
    made = []
    for n in range(count):
        source = Source(
            id=str(uuid.uuid4()),
            account_id="account-1",
            connection_id="connection-1",
            platform="demo",
            name=f"Source {n}",
            data_types=("contacts",),
            retention_days=30,
            created_at=NOW - timedelta(days=30),
            schedule=HOURLY,
            next_run_at=due_at,
            **extra,  # type: ignore[arg-type]
        )
        made.append(source)
    store = deps.store
    for start in range(0, count, 25):
        await store.transact([store.sources.put_new(s) for s in made[start : start + 25]])
    return made


async def jobs_of(deps: Deps) -> list[dict[str, object]]:
    return [
        item
        async for item in paginate(deps.clients.dynamodb, "scan", TableName=deps.store.jobs.table)
    ]


async def test_two_schedulers_queue_each_of_150_due_runs_once(deps: Deps) -> None:
    made = await due_sources(deps, N_DUE, due_at=NOW - timedelta(minutes=1))

    counts = await asyncio.gather(scheduler.tick(at(deps, NOW)), scheduler.tick(at(deps, NOW)))
    again = await scheduler.tick(at(deps, NOW))

    jobs = await jobs_of(deps)
    assert sum(counts) == N_DUE
    assert again == 0
    assert sorted(str(j["sourceId"]) for j in jobs) == sorted(s.id for s in made)
    assert {j["trigger"] for j in jobs} == {JobTrigger.SCHEDULE.value}
    assert {j["status"] for j in jobs} == {JobStatus.QUEUED.value}
    depth = await deps.queues.depth()
    assert sum(depth.values()) == N_DUE
    fresh = await deps.store.sources.get(made[0].id)
    assert fresh is not None
    assert fresh.next_run_at == datetime(2026, 7, 1, 13, 0, tzinfo=UTC)
    assert fresh.active_job_id is not None


async def test_a_day_of_downtime_catches_up_with_one_run_per_source(deps: Deps) -> None:
    made = await due_sources(deps, 5, due_at=NOW - timedelta(hours=24))

    first = await scheduler.tick(at(deps, NOW))
    second = await scheduler.tick(at(deps, NOW + timedelta(minutes=5)))

    assert first == 5
    assert second == 0
    assert len(await jobs_of(deps)) == 5
    for source in made:
        fresh = await deps.store.sources.get(source.id)
        assert fresh is not None
        assert fresh.next_run_at == NOW + timedelta(hours=1)


async def test_a_run_due_while_a_job_is_active_is_skipped_not_stacked(deps: Deps) -> None:
    [busy] = await due_sources(
        deps, 1, due_at=NOW - timedelta(minutes=1), active_job_id="still-running"
    )

    queued = await scheduler.tick(at(deps, NOW))

    fresh = await deps.store.sources.get(busy.id)
    assert queued == 0
    assert await jobs_of(deps) == []
    assert fresh is not None
    assert fresh.next_run_at == NOW + timedelta(hours=1)
    assert fresh.active_job_id == "still-running"


async def test_paused_and_unscheduled_sources_are_never_due(deps: Deps) -> None:
    await due_sources(deps, 2, due_at=NOW - timedelta(minutes=1), stored_status=SourceStatus.PAUSED)
    unscheduled = await due_sources(deps, 2, due_at=NOW - timedelta(minutes=1))
    store = deps.store
    for source in unscheduled:
        await store.sources.update(source.id, {"schedule": None, "dueShard": None})

    assert await scheduler.tick(at(deps, NOW)) == 0
    assert await jobs_of(deps) == []


async def test_presets_spread_a_thousand_daily_sources_over_the_day() -> None:
    minutes = {
        schedules.resolve(
            frequency=Frequency.DAILY,
            cron=None,
            timezone="UTC",
            source_id=str(uuid.uuid4()),
            default_timezone="UTC",
            min_interval_minutes=60,
        ).cron
        for _ in range(1000)
    }

    assert len(minutes) > 500
