"""Live job status over WebSocket: jobUpdates and accountJobUpdates, both protocols,
authorization at subscribe time and while streaming, duplicates and slow consumers."""

from __future__ import annotations

import asyncio
import gc
import json
import socket as stdlib_socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    Operation as TransportOperation,
)
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from listbackup import ids
from listbackup.broker import JobEvent as BrokerEvent
from listbackup.config import Settings
from listbackup.deps import AppDeps
from listbackup.devstack import live_server
from listbackup.models.jobs import JobStatus, Progress
from listbackup.schema.shared_events import Outlet
from listbackup.server import FULL_COLLECTION_EVERY, create_app
from listbackup.websocket_rules import TransportWSHandler
from listbackup.worker import Worker
from listbackup.wsprotocol import CoalescingWebSocketProtocol
from tests.helpers import Tenant, error_codes, join, tenant
from tests.worker.helpers import FAST, RUN, demo_source
from tests.wsclient import LEGACY_WS, TRANSPORT_WS, Socket, socket, ws_url

JOB_UPDATES = """
subscription($id: ID!) { jobUpdates(jobId: $id) {
  jobId sourceId accountId status message at
  progress { stepsCompleted stepsTotal recordsProcessed }
  job { id status attempt files { dataType } }
} }
"""
#: Only the event's own fields: its result is shared, and sent straight to the socket
#: (schema/shared_events.py); JOB_UPDATES selects ``job``, which goes the usual way.
JOB_UPDATES_PLAIN = """
subscription($id: ID!) { jobUpdates(jobId: $id) {
  jobId status progress { stepsCompleted }
} }
"""
ACCOUNT_UPDATES = """
subscription($id: ID!) { accountJobUpdates(accountId: $id) { jobId status } }
"""


class LiveApp:
    def __init__(self, url: str, app: Starlette) -> None:
        self.url = url
        self.app = app

    @property
    def deps(self) -> AppDeps:
        deps: AppDeps = self.app.state.deps
        return deps


@pytest.fixture
async def live(settings: Settings, aws: object) -> AsyncIterator[LiveApp]:
    """An app that polls its live queue briefly and rechecks access twice a second."""
    app = create_app(
        settings.model_copy(update={"live_poll_seconds": 1, "subscription_recheck_seconds": 0.3})
    )
    async with live_server(app) as url:
        yield LiveApp(url, app)


async def next_payload(ws: Socket, op_id: str, *, within: float = 60) -> dict[str, Any] | None:
    """The next result of an operation; None once it completed."""
    async with asyncio.timeout(within):
        while True:
            message = await ws.receive()
            if message.get("type") in ("ka", "ping", "pong"):
                continue
            assert message.get("id") == op_id, message
            if message["type"] == "complete":
                return None
            if message["type"] == "error":
                return {"errors": message["payload"]}
            payload: dict[str, Any] = message["payload"]
            return payload


async def collect(ws: Socket, op_id: str) -> list[dict[str, Any]]:
    """Every result of an operation until it completes (or fails before starting)."""
    seen = []
    while (payload := await next_payload(ws, op_id)) is not None:
        seen.append(payload)
        if "errors" in payload and "data" not in payload:
            break  # an error frame: the operation never started
    return seen


async def queued_job(owner: Tenant, records: int = 50) -> str:
    source_id = await demo_source(owner, records)
    started = await owner.call(RUN, id=source_id)
    job_id: str = started["data"]["runSource"]["id"]
    return job_id


async def publish(live: LiveApp, job_id: str, account_id: str, status: str, seq: int) -> None:
    await publish_to(live.deps, job_id, account_id, status, seq)


async def publish_to(deps: AppDeps, job_id: str, account_id: str, status: str, seq: int) -> None:
    await deps.events.publish(
        "listbackup.jobs",
        "Job Progress",
        {
            "jobId": ids.decode_as(ids.JOB, job_id),
            "sourceId": "source-x",
            "accountId": ids.decode_as(ids.ACCOUNT, account_id),
            "status": status,
            "progress": {"steps_completed": seq, "steps_total": 9},
            "message": None,
            "seq": seq,
            "at": datetime.now(UTC).isoformat(),
        },
    )


# ---------------------------------------------------------------- streams


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_job_updates_start_from_now_and_end_with_the_job(
    client: httpx.AsyncClient, live: LiveApp, protocol: str
) -> None:
    ada = await tenant(client, "ada@example.com")
    job_id = await queued_job(ada)
    async with socket(live.url, ada.token, protocol=protocol) as ws:
        op = await ws.start(JOB_UPDATES, {"id": job_id})
        first = await next_payload(ws, op)
        worker = Worker(live.deps, concurrency=1, timing=FAST)
        stop = asyncio.Event()
        running = asyncio.create_task(worker.run(stop))
        try:
            rest = await collect(ws, op)
        finally:
            stop.set()
            await running

    assert first is not None
    assert first["data"]["jobUpdates"]["status"] == "QUEUED"
    assert first["data"]["jobUpdates"]["job"] == {
        "id": job_id,
        "status": "QUEUED",
        "attempt": 1,
        "files": [],
    }
    statuses = [p["data"]["jobUpdates"]["status"] for p in rest]
    assert statuses[-1] == "COMPLETED"
    assert "RUNNING" in statuses
    assert rest[-1]["data"]["jobUpdates"]["job"]["status"] == "COMPLETED"
    assert rest[-1]["data"]["jobUpdates"]["progress"]["recordsProcessed"] == 150
    # Each event's job is read afresh: the last one holds every file.
    files = rest[-1]["data"]["jobUpdates"]["job"]["files"]
    assert sorted(f["dataType"] for f in files) == ["companies", "contacts", "deals", "manifest"]


@pytest.fixture
async def unchecked(settings: Settings, aws: object) -> AsyncIterator[LiveApp]:
    """As ``live``, but access is checked again only once a minute: while it is, events
    wait (and may coalesce), which a test of what goes straight must not meet."""
    app = create_app(
        settings.model_copy(update={"live_poll_seconds": 1, "subscription_recheck_seconds": 60})
    )
    async with live_server(app) as url:
        yield LiveApp(url, app)


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_events_sent_straight_to_the_socket_are_the_usual_messages(
    client: httpx.AsyncClient, unchecked: LiveApp, protocol: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    live = unchecked
    ada = await tenant(client, "ada@example.com")
    job_id = await queued_job(ada)
    straight: list[bool] = []
    deliver_nowait = Outlet.deliver_nowait

    def counted(outlet: Outlet, *args: Any) -> bool:
        straight.append(deliver_nowait(outlet, *args))
        return straight[-1]

    monkeypatch.setattr(Outlet, "deliver_nowait", counted)
    raw_job = ids.decode_as(ids.JOB, job_id)
    assert raw_job
    async with socket(live.url, ada.token, protocol=protocol) as ws:
        plain = await ws.start(JOB_UPDATES_PLAIN, {"id": job_id})
        first = await ws.receive()
        async with asyncio.timeout(10):  # until it takes events directly
            while not any(s.direct for s in live.deps.broker._by_job.get(raw_job, ())):  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        for status, seq in [("RUNNING", 3), ("RUNNING", 4), ("COMPLETED", 5)]:
            await publish(live, job_id, ada.root, status, seq)
        async with asyncio.timeout(30):
            rest = [await ws.receive() for _ in range(4)]

    kind = "next" if protocol == TRANSPORT_WS else "data"

    def event(status: str, steps: int) -> dict[str, Any]:
        fields = {"jobId": job_id, "status": status, "progress": {"stepsCompleted": steps}}
        return {"id": plain, "type": kind, "payload": {"data": {"jobUpdates": fields}}}

    # The two progress events went straight; the last one, which ends it, never does.
    assert straight == [True, True]
    assert first == event("QUEUED", 0)
    assert rest == [
        event("RUNNING", 3),
        event("RUNNING", 4),
        event("COMPLETED", 5),
        {"id": plain, "type": "complete"},
    ]


async def test_operations_sent_straight_and_the_usual_way_share_a_socket_in_order(
    client: httpx.AsyncClient, live: LiveApp
) -> None:
    ada = await tenant(client, "ada@example.com")
    job_id = await queued_job(ada)
    account_progress = """subscription($id: ID!) {
      accountJobUpdates(accountId: $id) { progress { stepsCompleted } } }"""
    async with socket(live.url, ada.token) as ws:
        queries = [JOB_UPDATES_PLAIN, JOB_UPDATES, JOB_UPDATES_PLAIN, account_progress]
        ops = [
            await ws.start(q, {"id": ada.root if q is account_progress else job_id})
            for q in queries
        ]
        steps: dict[str, list[int]] = {op: [] for op in ops}
        completed: set[str] = set()
        async with asyncio.timeout(10):  # every one subscribed before the events
            while live.deps.broker.count < len(ops):  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        for seq in range(3, 13):
            await publish(live, job_id, ada.root, "RUNNING" if seq < 12 else "FAILED", seq)
        async with asyncio.timeout(30):
            while len(completed) < 3 or steps[ops[-1]][-1:] != [12]:
                message = await ws.receive()
                if message["type"] == "complete":
                    completed.add(message["id"])
                    continue
                (event,) = message["payload"]["data"].values()
                steps[message["id"]].append(event["progress"]["stepsCompleted"])

    assert completed == set(ops[:3])
    for op in ops:
        # Each operation's events in order: progress may be coalesced, never reversed.
        assert steps[op] == sorted(set(steps[op])), op
        assert steps[op][-1] == 12


async def test_nothing_goes_out_under_an_id_the_client_completed(
    client: httpx.AsyncClient, live: LiveApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    ada = await tenant(client, "ada@example.com")
    job_id = await queued_job(ada)
    broker = live.deps.broker
    raw_job, raw_account = ids.decode_as(ids.JOB, job_id), ids.decode_as(ids.ACCOUNT, ada.root)
    assert raw_job
    assert raw_account
    stopped = TransportWSHandler.cleanup_operation

    async def stop_then_an_event_comes(self: TransportWSHandler, operation_id: str) -> None:
        await stopped(self, operation_id)
        # The poll loop's turn comes before the cancelled operation's task runs again.
        broker.publish(
            BrokerEvent(
                job_id=raw_job,
                source_id="s1",
                account_id=raw_account,
                status=JobStatus.RUNNING,
                progress=Progress(steps_completed=7),
                message=None,
                at=datetime.now(UTC),
                seq=10_000,
            )
        )

    monkeypatch.setattr(TransportWSHandler, "cleanup_operation", stop_then_an_event_comes)
    async with socket(live.url, ada.token) as ws:
        op = await ws.start(JOB_UPDATES_PLAIN, {"id": job_id})
        assert await next_payload(ws, op) is not None
        async with asyncio.timeout(10):  # until it takes events directly
            while not any(s.direct for s in broker._by_job.get(raw_job, ())):  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        await ws.send({"id": op, "type": "complete"})
        later = await ws.start("{ __typename }")  # answered after whatever op would send
        got = [await ws.receive(), await ws.receive()]

    assert got == [
        {"id": later, "type": "next", "payload": {"data": {"__typename": "Query"}}},
        {"id": later, "type": "complete"},
    ]


async def test_an_operation_over_a_websocket_is_freed_when_it_ends(
    client: httpx.AsyncClient, live: LiveApp
) -> None:
    ada = await tenant(client, "ada@example.com")
    gc.collect()
    gc.disable()  # freed as soon as it ends, not by a collection (they are rare here)
    try:
        async with socket(live.url, ada.token) as ws:
            for _ in range(20):
                await ws.execute("{ __typename }")
        alive = sum(isinstance(o, TransportOperation) for o in gc.get_objects())
    finally:
        gc.enable()

    assert alive == 0


async def test_a_finished_job_yields_its_final_state_and_completes(
    client: httpx.AsyncClient, live: LiveApp
) -> None:
    ada = await tenant(client, "ada@example.com")
    job_id = await queued_job(ada)
    await ada.call("mutation($id: ID!) { cancelJob(id: $id) { status } }", id=job_id)
    async with socket(live.url, ada.token) as ws:
        op = await ws.start(JOB_UPDATES, {"id": job_id})
        seen = await collect(ws, op)

    assert [p["data"]["jobUpdates"]["status"] for p in seen] == ["CANCELLED"]


async def test_a_job_cancelled_mid_subscription_ends_it_cancelled(
    client: httpx.AsyncClient, live: LiveApp
) -> None:
    ada = await tenant(client, "ada@example.com")
    job_id = await queued_job(ada)
    async with socket(live.url, ada.token) as ws:
        op = await ws.start(JOB_UPDATES, {"id": job_id})
        first = await next_payload(ws, op)
        await ada.call("mutation($id: ID!) { cancelJob(id: $id) { status } }", id=job_id)
        rest = await collect(ws, op)

    assert first is not None
    assert first["data"]["jobUpdates"]["status"] == "QUEUED"
    assert [p["data"]["jobUpdates"]["status"] for p in rest] == ["CANCELLED"]
    assert rest[-1]["data"]["jobUpdates"]["job"]["status"] == "CANCELLED"


@pytest.mark.parametrize("query", [JOB_UPDATES, JOB_UPDATES_PLAIN], ids=["job", "plain"])
async def test_duplicate_and_stale_events_are_dropped_and_the_end_is_never_overtaken(
    client: httpx.AsyncClient, live: LiveApp, query: str
) -> None:
    ada = await tenant(client, "ada@example.com")
    job_id = await queued_job(ada)
    async with socket(live.url, ada.token) as ws:
        op = await ws.start(query, {"id": job_id})
        assert await next_payload(ws, op) is not None  # the current state
        for status, seq in [
            ("RUNNING", 5),
            ("RUNNING", 5),
            ("RUNNING", 3),
            ("COMPLETED", 7),
            ("RUNNING", 6),
        ]:
            await publish(live, job_id, ada.root, status, seq)
        seen = await collect(ws, op)

    steps = [p["data"]["jobUpdates"]["progress"]["stepsCompleted"] for p in seen]
    # 5 may be coalesced into 7 when both wait at once (while access is checked again).
    assert steps in ([5, 7], [7])
    assert seen[-1]["data"]["jobUpdates"]["status"] == "COMPLETED"


async def test_account_updates_stream_that_accounts_jobs_only(
    client: httpx.AsyncClient, live: LiveApp
) -> None:
    ada = await tenant(client, "ada@example.com")
    eve = await tenant(client, "eve@example.com")
    mine = await queued_job(ada)
    theirs = await queued_job(eve)
    async with socket(live.url, ada.token) as ws:
        op = await ws.start(ACCOUNT_UPDATES, {"id": ada.root})
        await asyncio.sleep(0.2)
        await publish(live, theirs, eve.root, "RUNNING", 50)
        await publish(live, mine, ada.root, "RUNNING", 50)
        got = await next_payload(ws, op)

    assert got == {"data": {"accountJobUpdates": {"jobId": mine, "status": "RUNNING"}}}


# ---------------------------------------------------------------- who may


async def test_another_tenants_job_or_account_answers_like_a_missing_one(
    client: httpx.AsyncClient, live: LiveApp
) -> None:
    ada = await tenant(client, "ada@example.com")
    eve = await tenant(client, "eve@example.com")
    job_id = await queued_job(ada)
    missing_job = ids.encode(ids.JOB, "no-such-job")
    async with socket(live.url, eve.token) as ws:
        answers = []
        for query, target in [
            (JOB_UPDATES, job_id),
            (JOB_UPDATES, missing_job),
            (ACCOUNT_UPDATES, ada.root),
        ]:
            op = await ws.start(query, {"id": target})
            answers.append(await collect(ws, op))

    assert [error_codes(a[0]) for a in answers] == [["NOT_FOUND"]] * 3


async def test_a_member_removed_mid_subscription_is_cut_off(
    client: httpx.AsyncClient, live: LiveApp
) -> None:
    ada = await tenant(client, "ada@example.com")
    bob = await tenant(client, "bob@example.com")
    shop = await ada.create("Harbour Bakery", ada.root)
    await join(ada, shop, bob, "MANAGER")
    async with socket(live.url, bob.token) as ws:
        op = await ws.start(ACCOUNT_UPDATES, {"id": shop})
        await asyncio.sleep(0.5)
        await ada.call(
            "mutation($a: ID!, $u: ID!) { removeMember(accountId: $a, userId: $u) }",
            a=shop,
            u=bob.user_id,
        )
        ended = await collect(ws, op)

    assert len(ended) == 1
    assert error_codes(ended[0]) == ["NOT_FOUND"]


async def test_signing_out_ends_the_subscription(client: httpx.AsyncClient, live: LiveApp) -> None:
    ada = await tenant(client, "ada@example.com")
    async with socket(live.url, ada.token) as ws:
        op = await ws.start(ACCOUNT_UPDATES, {"id": ada.root})
        await asyncio.sleep(0.5)
        await ada.call("mutation { signOut }")
        ended = await collect(ws, op)

    assert error_codes(ended[0]) == ["UNAUTHENTICATED"]


# ---------------------------------------------------------------- limits and clean-up


async def test_a_slow_consumer_blocks_nobody_and_every_subscription_is_cleaned_up(
    client: httpx.AsyncClient, live: LiveApp
) -> None:
    ada = await tenant(client, "ada@example.com")
    job_id = await queued_job(ada)
    async with socket(live.url, ada.token) as slow, socket(live.url, ada.token) as quick:
        await slow.start(JOB_UPDATES, {"id": job_id})  # and never reads again
        op = await quick.start(JOB_UPDATES, {"id": job_id})
        assert await next_payload(quick, op) is not None
        for seq in range(10, 70):
            await publish(live, job_id, ada.root, "RUNNING", seq)
        await publish(live, job_id, ada.root, "COMPLETED", 500)
        seen = await collect(quick, op)
    await asyncio.sleep(0.5)

    assert seen[-1]["data"]["jobUpdates"]["status"] == "COMPLETED"
    assert live.deps.broker.count == 0


#: An answer of about 500 KB: a few of them are more than the buffers on the way hold.
CATALOGUE = (
    "{ "
    + " ".join(
        f"c{n}: platforms {{ slug name description dataTypes {{ key name description }} }}"
        for n in range(50)
    )
    + " }"
)


async def test_a_client_that_stays_far_behind_is_dropped_and_its_subscriptions_end(
    client: httpx.AsyncClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    ada = await tenant(client, "ada@example.com")
    job_id = await queued_job(ada)
    made = CoalescingWebSocketProtocol.connection_made

    def small_buffers(protocol: CoalescingWebSocketProtocol, transport: Any) -> None:
        # The kernel would otherwise hold megabytes for a client that reads nothing.
        sent = transport.get_extra_info("socket")
        sent.setsockopt(stdlib_socket.SOL_SOCKET, stdlib_socket.SO_SNDBUF, 4096)
        made(protocol, transport)

    monkeypatch.setattr(CoalescingWebSocketProtocol, "connection_made", small_buffers)
    app = create_app(settings.model_copy(update={"websocket_slow_client_seconds": 0.5}))
    laggard = stdlib_socket.socket()
    laggard.setsockopt(stdlib_socket.SOL_SOCKET, stdlib_socket.SO_RCVBUF, 4096)
    async with live_server(app) as url, socket(url, ada.token) as quick:
        deps: AppDeps = app.state.deps
        op = await quick.start(JOB_UPDATES_PLAIN, {"id": job_id})
        assert await next_payload(quick, op) is not None
        laggard.connect(("127.0.0.1", int(url.rsplit(":", 1)[1])))
        laggard.setblocking(False)
        slow = await connect(
            ws_url(url),
            subprotocols=[Subprotocol(TRANSPORT_WS)],
            sock=laggard,
            compression=None,
            max_queue=1,
            close_timeout=0.1,
        )

        async def send(message: dict[str, Any]) -> None:
            await slow.send(json.dumps(message))

        await send({"type": "connection_init", "payload": {"authorization": f"Bearer {ada.token}"}})
        await slow.recv()  # the ack; from here on it reads nothing
        for n in range(5):
            subscription = {"query": JOB_UPDATES_PLAIN, "variables": {"id": job_id}}
            await send({"id": f"s{n}", "type": "subscribe", "payload": subscription})
        async with asyncio.timeout(30):
            while deps.broker.count != 6:  # noqa: ASYNC110 - until all are subscribed
                await asyncio.sleep(0.05)
        for n in range(4):  # 2 MB of answers
            await send({"id": f"q{n}", "type": "subscribe", "payload": {"query": CATALOGUE}})
        # Its buffers full for half a second, the laggard is dropped; with it go its
        # subscriptions, and the quick client's is the broker's only one.
        async with asyncio.timeout(30):
            while deps.broker.count != 1:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        await slow.close()
        await publish_to(deps, job_id, ada.root, "COMPLETED", 9)
        rest = await collect(quick, op)

    # The quick client on the same process is served still.
    assert [p["data"]["jobUpdates"]["status"] for p in rest] == ["COMPLETED"]


async def test_a_connection_holds_at_most_100_operations(
    client: httpx.AsyncClient, live: LiveApp
) -> None:
    ada = await tenant(client, "ada@example.com")
    async with socket(live.url, ada.token) as ws:
        for _ in range(100):
            await ws.start(ACCOUNT_UPDATES, {"id": ada.root})
        extra = await ws.start(ACCOUNT_UPDATES, {"id": ada.root})
        refused = await ws.receive()

    assert refused["id"] == extra
    assert refused["type"] == "error"


@pytest.mark.parametrize(("protocol", "beat"), [(TRANSPORT_WS, "ping"), (LEGACY_WS, "ka")])
async def test_both_protocols_keep_an_idle_connection_alive(
    client: httpx.AsyncClient, settings: Settings, protocol: str, beat: str
) -> None:
    ada = await tenant(client, "ada@example.com")
    app = create_app(settings.model_copy(update={"websocket_keep_alive_seconds": 0.2}))
    async with live_server(app) as url, socket(url, ada.token, protocol=protocol) as ws:
        await ws.start(ACCOUNT_UPDATES, {"id": ada.root})
        async with asyncio.timeout(5):
            beats = [(await ws.receive(keep_alives=True))["type"] for _ in range(2)]

    assert beats == [beat, beat]


async def test_a_serving_process_makes_full_collections_rarer(live: LiveApp) -> None:
    # Thousands of subscriptions are a large heap that every full collection walks.
    assert gc.get_threshold()[2] == FULL_COLLECTION_EVERY
