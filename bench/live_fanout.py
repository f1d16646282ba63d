"""Live job status: from the bus to WebSocket subscribers, and many of them in one process.

    .venv/bin/python bench/live_fanout.py [--events 1000] [--subscribers 1000,5000,10000]
        [--burst 5] [--per-connection 100] [--logs DIR] [--profile FILE]

(``--events 0`` skips the latency part, ``--subscribers ''`` the subscribers part;
``--logs`` keeps the API processes' logs, ``--profile`` runs them under cProfile.)

Starts its own moto (a child process, as `listbackup dev` does) and bootstraps it, signs
one user up and in, and serves the API as `listbackup serve` does: a child process
(uvicorn, default settings but for the caps raised below), so that its RSS is its own.
Events are published the way the worker publishes them: ``EventPublisher.publish`` (one
PutEvents each) of a ``Job Progress`` event with a per-job sequence number, from this
process, whose ``at`` is the wall-clock time of the publish. Every subscription selects
scalar fields only (``jobId status message at``), not ``job``. The subscribers are bare
WebSocket clients in this process (graphql-transport-ws, no compression) that only count
the events' tags as the bytes arrive (see ``Counting``), so that receiving costs far
less than sending and what is timed is the API.

latency      one WebSocket, one ``accountJobUpdates`` subscription on the user's root
             account; ``--events`` events published one after another (a few ms apart,
             so what is measured is latency, not a queue); publish → received, p50, p99
             and max.
subscribers  for each N, a fresh API process: ``accountJobUpdates`` N times on the same
             account, ``--per-connection`` operations per WebSocket, all from this
             process (one token, signed in once); then a burst of ``--burst`` events
             (each its own job, published together) and, per event, the time until the
             last of the N subscribers had it. RSS per subscriber is the API process's
             VmRSS after subscribing (and one delivered event) less before, over N.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import itertools
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import httpx
from websockets.frames import Frame, Opcode

from listbackup import devstack, ids
from listbackup.adapters.events import EventPublisher
from listbackup.aws import open_clients
from listbackup.config import Settings, load_settings
from listbackup.resources import SPEC

# bench/nested_reads.py's sign-up and sign-in.
sys.path.insert(0, str(Path(__file__).parent))

PREFIX = "listbackup-livebench"
SUBSCRIBE = (
    "subscription($id: ID!) { accountJobUpdates(accountId: $id) { jobId status message at } }"
)
PROTOCOL = "graphql-transport-ws"
#: Every event's ``message`` starts so; what the bare client looks for.
TAG = b'"lb-'
_CARRY = 40
_READY_TIMEOUT = 60.0
_TICKS = os.sysconf("SC_CLK_TCK")


def status_kib(pid: int, field_name: str) -> int:
    """VmRSS (now) or VmHWM (peak) of a process, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field_name}:"):
            return int(line.split()[1])
    raise LookupError(field_name)


def cpu_seconds(pid: int) -> float:
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def load() -> str:
    return " ".join(f"{n:.2f}" for n in os.getloadavg())


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@contextlib.contextmanager
def api_process(port: int, log: IO[bytes], profile: str | None = None) -> Iterator[int]:
    """`listbackup serve` on the port, ready; yields its pid. With ``profile``, under
    cProfile, its stats written there when it stops."""
    serve = ["serve", "--host", "127.0.0.1", "--port", str(port)]
    argv = [sys.executable, "-m", "listbackup", *serve]
    if profile:
        # uvicorn raises SIGTERM again once it has shut down: exit through SystemExit, so
        # that cProfile writes its stats.
        script = (
            "import cProfile, signal, sys; from listbackup.cli import main; "
            "signal.signal(signal.SIGTERM, lambda *_: sys.exit(0)); "
            f"cProfile.run({f'main({serve!r})'!r}, {profile!r})"
        )
        argv = [sys.executable, "-c", script]
    process = subprocess.Popen(  # noqa: S603 - our own interpreter
        argv,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=log,
        env=os.environ,
    )
    from children import stop, wait_healthy  # noqa: PLC0415 - see sys.path above

    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(process, url, "the API", within=_READY_TIMEOUT, log=Path(log.name))
        yield process.pid
    finally:
        stop(process)


class Publisher:
    """Job events as the worker publishes them (services/jobs.py ``publish``)."""

    def __init__(self, events: EventPublisher, account_id: str) -> None:
        self._events = events
        self._account = account_id
        self._seq: dict[str, int] = {}
        #: Each event's publish time (wall clock, as in its ``at``), by its tag.
        self.sent: dict[bytes, float] = {}

    async def publish(self, job_id: str, tag: str) -> None:
        """One event, its ``message`` ``lb-{tag}``; its publish time is kept by that."""
        seq = self._seq[job_id] = self._seq.get(job_id, 0) + 1
        at = datetime.now(UTC)
        self.sent[f"lb-{tag}".encode()] = at.timestamp()
        await self._events.publish(
            SPEC.live.event_source,
            "Job Progress",
            {
                "jobId": job_id,
                "sourceId": "bench-source",
                "accountId": self._account,
                "type": "BACKUP",
                "status": "RUNNING",
                "attempt": 1,
                "progress": {"steps_completed": seq, "steps_total": 0, "percent": 0},
                "message": f"lb-{tag}",
                "seq": seq,
                # The publish time, inside the event too.
                "at": at,
            },
        )


class Counting(asyncio.Protocol):
    """A bare WebSocket client (no compression): it sends its frames, masked, and only
    counts, per arrival, how many frames each tag of interest appeared in. A Python
    WebSocket library parsing every frame would cost more than the server's own sending
    and make the client the bottleneck; the kernel hands this one many frames per read.
    A tag split between two reads is found in the second (the end of the first is kept).
    """

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.upgraded = asyncio.get_running_loop().create_future()
        self.acked = asyncio.Event()
        self.counts: dict[bytes, list[tuple[float, int]]] = {}
        self._head = b""
        self._tail = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def send(self, message: dict[str, Any]) -> None:
        assert self.transport is not None
        frame = Frame(Opcode.TEXT, json.dumps(message).encode())
        self.transport.write(frame.serialize(mask=True))

    def data_received(self, data: bytes) -> None:
        now = time.time()
        if not self.upgraded.done():
            self._head += data
            if b"\r\n\r\n" not in self._head:
                return
            response, _, data = self._head.partition(b"\r\n\r\n")
            if not response.startswith(b"HTTP/1.1 101"):
                self.upgraded.set_exception(RuntimeError(response.decode(errors="replace")))
                return
            self.upgraded.set_result(None)
        carried = len(self._tail)
        chunk = self._tail + data
        self._tail = chunk[-_CARRY:]
        if not self.acked.is_set() and b"connection_ack" in chunk:
            self.acked.set()
        start = 0
        while (found := chunk.find(TAG, start)) >= 0:
            end = chunk.find(b'"', found + len(TAG))
            if end < 0:
                break  # its end comes with the next read, which counts it
            if end >= carried:  # else the previous read counted it
                self._count(chunk[found + 1 : end], now)
            start = end

    def _count(self, tag: bytes, now: float) -> None:
        counts = self.counts.setdefault(tag, [])
        if counts and counts[-1][0] == now:
            counts[-1] = (now, counts[-1][1] + 1)
        else:
            counts.append((now, 1))


@contextlib.asynccontextmanager
async def subscribers(
    port: int, token: str, account: str, count: int, per_connection: int
) -> AsyncIterator[list[Counting]]:
    """``count`` subscriptions, ``per_connection`` to a socket, sent; yields the sockets."""
    loop = asyncio.get_running_loop()
    sockets: list[Counting] = []
    gate = asyncio.Semaphore(10)

    async def one(size: int) -> None:
        async with gate:
            _, client = await loop.create_connection(Counting, "127.0.0.1", port)
            sockets.append(client)
            assert client.transport is not None
            key = base64.b64encode(os.urandom(16)).decode()
            client.transport.write(
                f"GET /graphql HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                f"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: {PROTOCOL}\r\n\r\n".encode()
            )
            await asyncio.wait_for(client.upgraded, 60)
            client.send(
                {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}
            )
            await asyncio.wait_for(client.acked.wait(), 60)
            payload = {"query": SUBSCRIBE, "variables": {"id": account}}
            for op in range(size):
                client.send({"id": str(op), "type": "subscribe", "payload": payload})

    sizes = [min(per_connection, count - n) for n in range(0, count, per_connection)]
    try:
        await asyncio.gather(*(one(size) for size in sizes))
        yield sockets
    finally:
        for client in sockets:
            if client.transport is not None:
                client.transport.close()


def arrivals(sockets: list[Counting], tag: bytes) -> list[float]:
    """When each subscriber received the event tagged so (one time per subscriber)."""
    return [when for client in sockets for when, n in client.counts.get(tag, ()) for _ in range(n)]


async def until_all_subscribed(
    publisher: Publisher, sockets: list[Counting], count: int, within: float
) -> None:
    """Publish a warm-up event every second until one reaches every subscription."""
    started = time.monotonic()
    for n in itertools.count():
        await publisher.publish(f"warm-job-{n}", f"warm-{n}")
        await asyncio.sleep(1.0)
        reached = max(len(arrivals(sockets, f"lb-warm-{i}".encode())) for i in range(n + 1))
        if reached >= count:
            return
        if time.monotonic() - started > within:
            raise RuntimeError(f"only {reached} of {count} subscriptions within {within:.0f}s")


async def latency_part(
    port: int, token: str, account: str, publisher: Publisher, events: int
) -> None:
    async with subscribers(port, token, account, 1, 1) as sockets:
        await until_all_subscribed(publisher, sockets, 1, 30)
        tags = [f"lb-lat-{n}".encode() for n in range(events)]
        for n in range(events):
            # Jobs in turn, as several running jobs would publish; a few ms apart.
            await publisher.publish(f"job-{n % 20}", f"lat-{n}")
            await asyncio.sleep(0.005)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if all(tag in sockets[0].counts for tag in tags):
                break
            await asyncio.sleep(0.1)
    latencies = [
        (when - publisher.sent[tag]) * 1000 for tag in tags for when in arrivals(sockets, tag)
    ]
    print(
        f"latency: {len(latencies)} of {events} events received; publish → WebSocket ms: "
        f"p50 {statistics.median(latencies):.1f}, p99 {percentile(latencies, 0.99):.1f}, "
        f"max {max(latencies):.1f}, mean {statistics.fmean(latencies):.1f}; "
        f"load average {load()}"
    )


async def subscribers_part(  # noqa: PLR0917 - one call site
    port: int,
    pid: int,
    token: str,
    account: str,
    publisher: Publisher,
    count: int,
    burst: int,
    per_connection: int,
) -> None:
    # Warm the process: one subscription that got one event, then gone.
    async with subscribers(port, token, account, 1, 1) as warm:
        await until_all_subscribed(publisher, warm, 1, 30)
    await asyncio.sleep(0.5)
    before = status_kib(pid, "VmRSS")
    started = time.monotonic()
    async with subscribers(port, token, account, count, per_connection) as sockets:
        await until_all_subscribed(publisher, sockets, count, 60 + count / 20)
        setup = time.monotonic() - started
        await asyncio.sleep(1.0)
        after = status_kib(pid, "VmRSS")
        cpu = cpu_seconds(pid)
        tags = [f"lb-burst-{n}".encode() for n in range(burst)]
        await asyncio.gather(
            *(publisher.publish(f"burst-job-{n}", f"burst-{n}") for n in range(burst))
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if all(len(arrivals(sockets, tag)) >= count for tag in tags):
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)
        burst_cpu = cpu_seconds(pid) - cpu
        rows = [
            [(when - publisher.sent[tag]) * 1000 for when in arrivals(sockets, tag)] for tag in tags
        ]
    every = [d for delays in rows for d in delays]
    delivered = min(len(delays) for delays in rows)
    within = delivered == count and max(every) <= 1000
    print(
        f"{count:>7,} {len(sockets):>6} {setup:>8.1f} {before / 1024:>9.1f} "
        f"{after / 1024:>9.1f} {(after - before) * 1024 / count / 1000:>8.1f} "
        f"{delivered:>10,} {percentile(every, 0.5):>7.0f} "
        f"{percentile(every, 0.99):>7.0f} {max(every):>7.0f} {burst_cpu:>6.2f} "
        f"{'yes' if within else 'NO':>5}  {load()}"
    )
    last = ", ".join(f"{max(delays, default=float('nan')):.0f}" for delays in rows)
    print(f"{'':>8} per event, last subscriber ms: {last}")


async def prepare(endpoint: str, max_subscriptions: int) -> Settings:
    devstack.apply_dev_environment(endpoint)
    os.environ["LISTBACKUP_RESOURCE_PREFIX"] = PREFIX
    os.environ["LISTBACKUP_GRAPHIQL"] = "false"
    os.environ["LISTBACKUP_LOG_LEVEL"] = "WARNING"
    # The caps this benchmark exceeds on purpose: one process holds N subscriptions of
    # one address and one user.
    os.environ["LISTBACKUP_MAX_SUBSCRIPTIONS"] = str(max(max_subscriptions + 100, 20_000))
    os.environ["LISTBACKUP_MAX_ANONYMOUS_WEBSOCKETS"] = "10000"
    return await devstack.bootstrap_environment()


async def run(args: argparse.Namespace, workdir: Path) -> None:
    from nested_reads import _owner  # noqa: PLC0415 - see sys.path above

    sizes = [int(n) for n in args.subscribers.split(",") if n]
    settings = load_settings()
    print(
        f"API: `listbackup serve`, live poll {settings.live_poll_seconds} s long-poll, "
        f"recheck every {settings.subscription_recheck_seconds} s; load average {load()}"
    )
    async with open_clients(settings) as clients:
        events = EventPublisher(clients.events, settings.names.event_bus())
        token = root = ""
        for n, count in enumerate([0, *sizes] if args.events else sizes):
            port = devstack.free_port("127.0.0.1")
            with (
                (workdir / f"api-{n}.log").open("wb") as log,
                api_process(port, log, args.profile) as pid,
            ):
                if not token:
                    base = f"http://127.0.0.1:{port}"
                    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
                        token, root = await _owner(http, "live@bench.local")
                account = ids.encode(ids.ACCOUNT, root)
                publisher = Publisher(events, root)
                if count == 0:
                    await latency_part(port, token, account, publisher, args.events)
                    continue
                if count == sizes[0]:
                    print(
                        f"\nsubscribers: accountJobUpdates on one account, "
                        f"{args.per_connection} per WebSocket; a burst of {args.burst} events"
                    )
                    print(
                        f"{'N':>7} {'socks':>6} {'setup s':>8} {'RSS0 MiB':>9} {'RSS1 MiB':>9} "
                        f"{'KB/sub':>8} {'delivered':>10} {'p50 ms':>7} {'p99 ms':>7} "
                        f"{'max ms':>7} {'CPU s':>6} {'≤ 1 s':>5}  load average"
                    )
                await subscribers_part(
                    port, pid, token, account, publisher, count, args.burst, args.per_connection
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--subscribers", default="1000,5000,10000")
    parser.add_argument("--burst", type=int, default=5)
    parser.add_argument("--per-connection", type=int, default=100)
    parser.add_argument("--logs", help="keep the API processes' logs in this directory")
    parser.add_argument("--profile", help="run the API under cProfile, stats to this file")
    args = parser.parse_args()
    # A socket each way per connection, in this process and the API's (which inherits it).
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 65_536)), hard))
    largest = max((int(n) for n in args.subscribers.split(",") if n), default=0)
    with devstack.local_aws() as endpoint, tempfile.TemporaryDirectory() as workdir:
        asyncio.run(prepare(endpoint, largest))
        logs = Path(args.logs or workdir)
        logs.mkdir(parents=True, exist_ok=True)
        asyncio.run(run(args, logs))


if __name__ == "__main__":
    main()
