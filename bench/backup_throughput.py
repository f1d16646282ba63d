"""The backup worker's throughput, against the floor of the same records, in one run.

    .venv/bin/python bench/backup_throughput.py [--records 1000000,3000000] [--rounds 1]
                                                [--profile DIR]

Starts the local AWS (moto) and bootstraps it as ``listbackup dev`` does, then signs a
user up and, for each N, makes a demo connection of N/3 records per data type (contacts,
companies, deals) and a source of it, through the services the API calls
(``identity.sign_up``, ``connections.create_api_key``, ``sources.create``). Then, for
each N in turn (``--rounds`` times):

- the floor: a fresh child process runs ``bench/backup_floor.py``'s single file: the
  same N demo records generated, encoded, compressed and uploaded through one
  ``NdjsonWriter``, with no pipeline around it;
- the worker: a fresh ``listbackup worker --concurrency 1`` (the deployed timing, but a
  2 s idle poll), started and idle before ``sources.run`` queues the job, as
  ``runSource`` does; once the job has ended, its peak RSS (VmHWM) and the CPU time it
  used since the job was queued are read from /proc, and it is stopped.

The worker's records/s are over the job's own running time (startedAt to finishedAt);
the floor's over its wall time, the generation of the records included (the worker
generates them too: like with like); the floor's writer alone is shown beside it. The
job must be COMPLETED with N records, and every file is read back and checked (sha256,
lines) outside the timing. ``--profile DIR`` runs each worker under cProfile, in CPU
time.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import backup_floor
from backup_floor import DATA_TYPES, MB, read_back

from listbackup import cli, devstack
from listbackup.adapters.objects import DEFAULT_LEVEL, DEFAULT_PART_SIZE, MIB
from listbackup.config import load_settings
from listbackup.deps import Deps, open_deps
from listbackup.integrations.demo import MAX_RECORDS
from listbackup.models.jobs import Job, JobStatus, JobType
from listbackup.models.users import Principal, SignUpData
from listbackup.services import connections, identity, sources

#: Worker targets on this box (the issue's).
TARGET_RATE = 40_000
TARGET_RATIO = 0.6
TARGET_RSS_MIB = 200
#: ``listbackup dev``'s faster timing: the worker measured runs with the deployed one,
#: but for its idle long poll (2 s, not 20), so that it stops soon once measured.
DEV_TIMING = {
    k for k in devstack.DEV_DEFAULTS if "SECONDS" in k and k != "LISTBACKUP_WORKER_POLL_SECONDS"
}


@dataclass(frozen=True, slots=True)
class Figures:
    records: int
    rate: float
    cpu_rate: float
    seconds: float
    stored_bytes: int
    peak_rss_mib: float
    load: tuple[float, float, float]


def load_average() -> tuple[float, float, float]:
    return os.getloadavg()


def per_type(records: int) -> int:
    """Records per data type for about ``records`` in all (the demo's three types)."""
    count = max(1, round(records / len(DATA_TYPES)))
    if count > MAX_RECORDS:
        raise SystemExit(f"at most {MAX_RECORDS * len(DATA_TYPES):,} records")
    return count


# ---------------------------------------------------------------- the parent


async def signed_up() -> str:
    """A user and their account, as signing up makes them; the user's id."""
    async with open_deps(load_settings()) as app:
        done = await identity.sign_up(
            app.for_operation(),
            data=SignUpData(
                email=f"bench-{uuid.uuid4().hex[:8]}@example.com",
                password="Bench-throughput-1",  # noqa: S106 - a local, throwaway user
                name="Bench",
            ),
            client_ip="127.0.0.1",
        )
    return done.user_id


async def demo_source(user_id: str, records_per_type: int) -> str:
    """A demo connection of ``records_per_type`` records a data type and a source of it,
    as the API makes them; the source's id."""
    async with open_deps(load_settings()) as app:
        deps = app.for_operation()
        principal = await signed_in(deps, user_id)
        assert principal.user.root_account_id is not None
        connection = await connections.create_api_key(
            deps,
            principal=principal,
            account_id=principal.user.root_account_id,
            platform_slug="demo",
            name=f"Demo {records_per_type}",
            credentials={"apiKey": "bench", "recordsPerType": str(records_per_type)},
        )
        source = await sources.create(
            deps,
            principal=principal,
            connection_id=connection.id,
            name=f"Demo {records_per_type}",
            data_types=None,
            schedule=None,
            retention_days=None,
        )
    assert source.data_types == DATA_TYPES, source.data_types
    return source.id


async def signed_in(deps: Deps, user_id: str) -> Principal:
    user = await deps.loaders.user.load(user_id)
    assert user is not None
    return Principal(user=user, access_token="unused")  # noqa: S106 - no Cognito call here


async def backed_up(user_id: str, source_id: str) -> str:
    """Run the source (a manual BACKUP, as runSource does) and wait until its job ends;
    the job's id."""
    async with open_deps(load_settings()) as app:
        deps = app.for_operation()
        principal = await signed_in(deps, user_id)
        job = await sources.run(
            deps, principal=principal, source_id=source_id, job_type=JobType.BACKUP
        )
        while True:
            await asyncio.sleep(0.5)
            now = await app.store.jobs.get(job.id)
            if now is not None and now.status.finished:
                return job.id


async def checked_job(job_id: str, records: int) -> tuple[Job, int]:
    """The ended job, checked: COMPLETED, N records counted and in its files, every file
    as its sha256 says; and the bytes of its data files."""
    async with open_deps(load_settings()) as app:
        job = await app.store.jobs.get(job_id)
        assert job is not None
        assert job.status is JobStatus.COMPLETED, (job.status, job.error)
        assert job.progress.records_processed == records, job.progress
        files = [
            f for f in await app.store.backup_files.of_job(job_id) if f.data_type != "manifest"
        ]
        assert sorted(f.data_type for f in files) == sorted(DATA_TYPES), files
        assert sum(f.record_count for f in files) == records
        for file in files:
            _, lines, digest = await read_back(app.clients.s3, app.settings.bucket, file.key)
            assert (lines, digest) == (file.record_count, file.sha256), file
        return job, sum(f.size_bytes for f in files)


def child(options: list[str]) -> dict[str, Any]:
    """Run a child process; its last line of output, as JSON."""
    done = subprocess.run(  # noqa: S603 - our own interpreter and scripts
        [sys.executable, *options], env=os.environ, capture_output=True, text=True, check=False
    )
    if done.returncode:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"{options[0]} failed ({done.returncode})")
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return result


def floor(records: int) -> tuple[Figures, float]:
    """The floor's figures, and its records/s inside the writer alone."""
    load = load_average()
    r = child(
        [
            backup_floor.__file__,
            "--child",
            str(records),
            "--level",
            str(DEFAULT_LEVEL),
            "--part-mib",
            str(DEFAULT_PART_SIZE // MIB),
        ]
    )
    return Figures(
        records=records,
        rate=records / r["seconds_wall"],
        cpu_rate=records / r["cpu_seconds_wall"],
        seconds=r["seconds_wall"],
        stored_bytes=r["stored_bytes"],
        peak_rss_mib=r["peak_rss_mib"],
        load=load,
    ), records / r["seconds_in_writer"]


def worker(user_id: str, records: int, profile: Path | None) -> Figures:
    """The worker's figures for one job of ``records``: ``listbackup worker`` as deployed
    (one job slot, the default timing), started and idle before the job is queued, so
    that the CPU time counted is the job's (and the idle worker's, next to nothing)."""
    source_id = asyncio.run(demo_source(user_id, records // len(DATA_TYPES)))
    if profile is None:
        command = ["-m", "listbackup", "worker", "--concurrency", "1"]
    else:
        command = [__file__, "--profile-worker", str(profile / f"worker-{records}.prof")]
    env = {k: v for k, v in os.environ.items() if k not in DEV_TIMING}
    with subprocess.Popen(  # noqa: S603 - our own interpreter and package
        [sys.executable, *command], env=env, stdout=subprocess.PIPE, text=True
    ) as process:
        try:
            assert process.stdout is not None
            ready = process.stdout.readline()
            assert "is running" in ready, ready
            time.sleep(1)  # past its first receives: idle, in a long poll
            load, cpu = load_average(), cpu_seconds(process.pid)
            job_id = asyncio.run(backed_up(user_id, source_id))
            cpu = cpu_seconds(process.pid) - cpu
            peak = proc_status_kib(process.pid, "VmHWM")
        finally:
            process.send_signal(signal.SIGTERM)  # it drains: a long poll at most
            process.communicate(timeout=60)
    job, stored = asyncio.run(checked_job(job_id, records))
    assert job.started_at is not None
    assert job.finished_at is not None
    seconds = (job.finished_at - job.started_at).total_seconds()
    return Figures(
        records=records,
        rate=records / seconds,
        cpu_rate=records / cpu,
        seconds=seconds,
        stored_bytes=stored,
        peak_rss_mib=peak / 1024,
        load=load,
    )


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process (every thread), from /proc."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_status_kib(pid: int, field: str) -> int:
    """VmHWM (peak) or VmRSS (now) of a process, in KiB."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    raise LookupError(field)


def report(results: list[tuple[Figures, Figures, float]]) -> None:
    print(
        f"\n{'records':>10} {'':>6} {'records/s':>10} {'per CPU s':>10} {'s':>6} "
        f"{'stored MB':>10} {'peak RSS MiB':>13} {'load 1/5/15':>15}"
    )
    for work, base, in_writer in results:
        for name, f in (("floor", base), ("worker", work)):
            print(
                f"{f.records:>10,} {name:>6} {f.rate:>10,.0f} {f.cpu_rate:>10,.0f} "
                f"{f.seconds:>6.1f} {f.stored_bytes / MB:>10.1f} {f.peak_rss_mib:>13.0f} "
                f"{'/'.join(f'{x:.1f}' for x in f.load):>15}"
            )
        print(
            f"{'':>10} {'ratio':>6} {work.rate / base.rate:>10.2f} "
            f"{work.cpu_rate / base.cpu_rate:>10.2f}   (floor's writer alone: "
            f"{in_writer:,.0f} records/s)"
        )
    medians = summary(results)
    print("\ntargets (per worker process, one job; medians of the rounds for each N):")
    rss = [w.peak_rss_mib for w, _, _ in results]
    checks = [
        (f"≥ {TARGET_RATE:,} records/s", all(m.rate >= TARGET_RATE for m in medians)),
        (f"≥ {TARGET_RATIO} of the floor", all(m.ratio >= TARGET_RATIO for m in medians)),
        (f"peak RSS ≤ {TARGET_RSS_MIB} MiB", max(rss) <= TARGET_RSS_MIB),
        ("peak RSS the same at every N (within 10%)", max(rss) <= 1.1 * min(rss)),
    ]
    for what, met in checks:
        print(f"  {what}: {'met' if met else 'NOT MET'}")
    print(f"load average now: {'/'.join(f'{x:.1f}' for x in load_average())}")


@dataclass(frozen=True, slots=True)
class Median:
    records: int
    rate: float
    ratio: float


def summary(results: list[tuple[Figures, Figures, float]]) -> list[Median]:
    """Per N, the medians of the rounds (printed when there are several)."""
    medians = []
    several = len(results) > len({w.records for w, _, _ in results})
    if several:
        print(
            f"\n{'medians':>10} {'rounds':>6} {'worker/s':>10} {'floor/s':>10} "
            f"{'ratio':>6} {'CPU ratio':>10} {'peak RSS MiB':>13}"
        )
    for records in sorted({w.records for w, _, _ in results}):
        of_n = [(w, b) for w, b, _ in results if w.records == records]
        median = Median(
            records,
            statistics.median(w.rate for w, _ in of_n),
            statistics.median(w.rate / b.rate for w, b in of_n),
        )
        medians.append(median)
        if several:
            print(
                f"{records:>10,} {len(of_n):>6} {median.rate:>10,.0f} "
                f"{statistics.median(b.rate for _, b in of_n):>10,.0f} {median.ratio:>6.2f} "
                f"{statistics.median(w.cpu_rate / b.cpu_rate for w, b in of_n):>10.2f} "
                f"{max(w.peak_rss_mib for w, _ in of_n):>13.0f}"
            )
    return medians


def run(sizes: list[int], rounds: int, profile: Path | None) -> None:
    with devstack.local_aws() as endpoint:
        devstack.apply_dev_environment(endpoint)
        os.environ["LISTBACKUP_LOG_LEVEL"] = "WARNING"
        asyncio.run(devstack.bootstrap_environment())
        user_id = asyncio.run(signed_up())
        print(f"local moto on {endpoint}; {os.cpu_count()} CPUs")
        results: list[tuple[Figures, Figures, float]] = []
        for _ in range(rounds):
            for records in sizes:
                base, in_writer = floor(records)
                work = worker(user_id, records, profile)
                print(
                    f"{records:,}: worker {work.rate:,.0f} records/s, floor {base.rate:,.0f}, "
                    f"load {load_average()[0]:.1f}",
                    flush=True,
                )
                results.append((work, base, in_writer))
        report(results)


def profiled_worker(path: str) -> None:
    """``listbackup worker --concurrency 1`` under cProfile, in CPU time (which the other
    work on the box disturbs less than wall time)."""
    with cProfile.Profile(time.process_time) as profiler:
        code = cli.main(["worker", "--concurrency", "1"])
    profiler.dump_stats(path)
    raise SystemExit(code)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", default="1000000,3000000", help="comma-separated counts")
    parser.add_argument("--rounds", type=int, default=1, help="each N this many times")
    parser.add_argument("--profile", help="a directory: cProfile each worker child into it")
    parser.add_argument("--profile-worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.profile_worker:
        profiled_worker(args.profile_worker)
    sizes = [per_type(int(n)) * len(DATA_TYPES) for n in args.records.split(",")]
    profile = Path(args.profile) if args.profile else None
    if profile is not None:
        profile.mkdir(parents=True, exist_ok=True)
    run(sizes, args.rounds, profile)


if __name__ == "__main__":
    main()
