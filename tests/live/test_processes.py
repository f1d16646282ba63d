"""Two real API processes (``listbackup serve``) on one local AWS, as behind a load balancer:
a subscriber on either receives every event of a job started through either; killing one
leaves the other delivering, and the dead one's queue and rule are reaped; a clean
shutdown removes a process's own.

The processes run on a stack of their own (a fresh resource prefix), so that their quick
janitors cannot reap the live queues of the other tests' servers.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from listbackup.aws import AwsClients
from listbackup.bootstrap import bootstrap
from listbackup.config import Settings
from listbackup.deps import open_deps
from listbackup.devstack import free_port, jwks_url
from tests.helpers import Tenant, tenant
from tests.worker.helpers import (
    FINISHED,
    RUN,
    demo_source,
    eventually,
    worker_env,
    worker_running,
)
from tests.wsclient import Socket, socket

pytestmark = pytest.mark.slow

ACCOUNT_UPDATES = """
subscription($id: ID!) { accountJobUpdates(accountId: $id) {
  jobId status progress { recordsProcessed }
} }
"""
#: The live fan-out's clocks, fast: a dead process's queue goes within about two seconds.
LIVE = {
    "LISTBACKUP_LIVE_POLL_SECONDS": "1",
    "LISTBACKUP_LIVE_HEARTBEAT_SECONDS": "0.3",
    "LISTBACKUP_LIVE_TTL_SECONDS": "2",
}


@dataclass
class Api:
    url: str
    process: asyncio.subprocess.Process


@pytest.fixture
async def own_stack(settings: Settings, clients: AwsClients) -> Settings:
    """The spec bootstrapped under a prefix of its own, in the session's local AWS."""
    fresh = settings.model_copy(update={"resource_prefix": f"lbtest-two-{uuid.uuid4().hex[:8]}"})
    report = await bootstrap(clients, fresh)
    endpoint = os.environ["AWS_ENDPOINT_URL"]
    return fresh.model_copy(
        update={
            "cognito_user_pool_id": report.user_pool_id,
            "cognito_client_id": report.user_pool_client_id,
            "cognito_jwks_url": jwks_url(endpoint, report.user_pool_id),
        }
    )


def api_env(settings: Settings) -> dict[str, str]:
    assert settings.cognito_jwks_url
    return (
        worker_env(settings)
        | LIVE
        | {
            "LISTBACKUP_RESOURCE_PREFIX": settings.prefix,
            "LISTBACKUP_COGNITO_JWKS_URL": settings.cognito_jwks_url,
        }
    )


@asynccontextmanager
async def api_process(settings: Settings) -> AsyncIterator[Api]:
    """``python -m listbackup serve`` on a free port, once it answers /readyz."""
    port = free_port("127.0.0.1")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", "listbackup", "serve", "--host", "127.0.0.1", "--port", str(port)),
        env=api_env(settings),
    )
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=url, timeout=2) as http:
            await eventually(lambda: ready(http), bool, within=30)
        yield Api(url, process)
    finally:
        if process.returncode is None:
            process.kill()
        with suppress(TimeoutError):
            await asyncio.wait_for(process.wait(), 10)


async def ready(http: httpx.AsyncClient) -> bool:
    try:
        return (await http.get("/readyz")).status_code == 200
    except httpx.TransportError:
        return False


async def live_queues(clients: AwsClients, settings: Settings) -> list[str]:
    listed = await clients.sqs.list_queues(QueueNamePrefix=settings.names.live_prefix())
    return sorted(url.rsplit("/", 1)[-1] for url in listed.get("QueueUrls", []))


async def live_rules(clients: AwsClients, settings: Settings) -> list[str]:
    listed = await clients.events.list_rules(
        NamePrefix=settings.names.live_prefix(), EventBusName=settings.names.event_bus()
    )
    return sorted(rule["Name"] for rule in listed.get("Rules", []))


async def job_events(ws: Socket, op: str, job_id: str) -> list[tuple[str, int]]:
    """(status, records) of every event of one job this subscription receives, to its end."""
    seen: list[tuple[str, int]] = []
    async with asyncio.timeout(30):
        while not seen or seen[-1][0] not in FINISHED:
            payload = await next_result(ws, op)
            event = payload["data"]["accountJobUpdates"]
            if event["jobId"] == job_id:
                seen.append((event["status"], event["progress"]["recordsProcessed"]))
    return seen


async def next_result(ws: Socket, op: str) -> dict[str, Any]:
    """The next result of a subscription that does not end."""
    while (message := await ws.receive())["type"] in ("ping", "pong"):
        pass
    assert message == {"id": op, "type": "next", "payload": message.get("payload")}, message
    payload: dict[str, Any] = message["payload"]
    return payload


def changes(seen: list[tuple[str, int]]) -> list[str]:
    """The statuses an event stream went through, each once, in order."""
    return [status for n, (status, _) in enumerate(seen) if n == 0 or seen[n - 1][0] != status]


async def run_demo(owner: Tenant, source_id: str) -> str:
    started = await owner.call(RUN, id=source_id)
    assert "errors" not in started, started
    job_id: str = started["data"]["runSource"]["id"]
    return job_id


async def test_every_process_delivers_every_event_and_a_dead_ones_queue_is_reaped(
    own_stack: Settings, clients: AwsClients
) -> None:
    async with (
        api_process(own_stack) as first,
        api_process(own_stack) as second,
        httpx.AsyncClient(base_url=first.url, timeout=10) as via_first,
        httpx.AsyncClient(base_url=second.url, timeout=10) as via_second,
        open_deps(own_stack) as worker_deps,
        worker_running(worker_deps),
    ):
        await eventually(lambda: live_pairs(clients, own_stack), lambda n: n == 2, within=15)
        ada = await tenant(via_first, "ada@example.com")
        source_id = await demo_source(ada, 200)
        on_second = Tenant(via_second, ada.token, ada.root, ada.user_id, ada.email)

        # A job started through the second process; a subscriber on each sees all of it.
        async with socket(first.url, ada.token) as a, socket(second.url, ada.token) as b:
            op_a = await a.start(ACCOUNT_UPDATES, {"id": ada.root})
            op_b = await b.start(ACCOUNT_UPDATES, {"id": ada.root})
            job_id = await run_demo(on_second, source_id)
            seen_a, seen_b = await asyncio.gather(
                job_events(a, op_a, job_id), job_events(b, op_b, job_id)
            )
        # Every change of state reaches both; progress in between may be coalesced, or a
        # stale one dropped (standard queues reorder), but never goes back.
        for seen in (seen_a, seen_b):
            assert changes(seen) == ["QUEUED", "RUNNING", "COMPLETED"], seen
            records = [count for _, count in seen]
            assert records == sorted(records), seen
            assert seen[-1] == ("COMPLETED", 600)

        # The first process dies without cleaning up; the second goes on delivering.
        first.process.send_signal(signal.SIGKILL)
        await first.process.wait()
        async with socket(second.url, ada.token) as b:
            op_b = await b.start(ACCOUNT_UPDATES, {"id": ada.root})
            job_id = await run_demo(on_second, source_id)
            seen = await job_events(b, op_b, job_id)
        assert seen[-1] == ("COMPLETED", 600)

        # Its queue and rule are reaped by the survivor's janitor.
        await eventually(lambda: live_pairs(clients, own_stack), lambda n: n == 1, within=15)

        # A clean shutdown removes the survivor's own.
        second.process.send_signal(signal.SIGTERM)
        # uvicorn shuts down gracefully, then re-raises the signal: -SIGTERM is a clean end.
        assert await asyncio.wait_for(second.process.wait(), 20) == -signal.SIGTERM
        assert await live_queues(clients, own_stack) == []
        assert await live_rules(clients, own_stack) == []


async def live_pairs(clients: AwsClients, settings: Settings) -> int:
    """How many live queues there are, each with its rule (-1 when they do not pair up)."""
    queues = await live_queues(clients, settings)
    rules = await live_rules(clients, settings)
    return len(queues) if queues == rules else -1
