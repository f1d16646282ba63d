"""A live event is executed once for every subscriber who asked only for its own fields."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import partial
from typing import Any

from graphql import DocumentNode, ExecutionResult, parse

from listbackup import ids
from listbackup.broker import JobEvent
from listbackup.models.jobs import JobStatus, Progress
from listbackup.schema import build_schema
from listbackup.schema.shared_events import OUTLET, Outlet, SharedEventExecutor
from listbackup.schema.types.live import JobEvent as JobEventType
from listbackup.services.live import Update

PLAIN = """
subscription($id: ID!) { accountJobUpdates(accountId: $id) {
  jobId status ...more progress { stepsCompleted } __typename
} }
fragment more on JobEvent { message at }
"""
WITH_JOB = """
subscription($id: ID!) { accountJobUpdates(accountId: $id) {
  jobId ... on JobEvent { job { id } }
} }
"""


def executor(query: str | DocumentNode, account: str = "a1") -> SharedEventExecutor:
    schema = build_schema()
    document = parse(query) if isinstance(query, str) else query
    built = schema.execution_context_class.build(
        schema._schema, document, raw_variable_values={"id": account}
    )
    assert isinstance(built, SharedEventExecutor), built
    return built


def event() -> JobEvent:
    return JobEvent(
        job_id="j1",
        source_id="s1",
        account_id="a1",
        status=JobStatus.RUNNING,
        progress=Progress(steps_completed=3, steps_total=9),
        message="hello",
        at=datetime(2026, 1, 2, tzinfo=UTC),
        seq=4,
    )


def run(built: SharedEventExecutor, happened: JobEvent) -> Any:
    payload = JobEventType.from_update(Update(happened))
    return built.build_per_event_executor(payload).execute_operation(False)


def test_subscribers_asking_the_same_plain_fields_share_one_result() -> None:
    happened = event()
    # Each parses its own document here; the schema's cache gives one text one document.
    first, second = executor(PLAIN), executor(PLAIN)
    a = run(first, happened)
    again = run(first, happened)

    assert isinstance(a, ExecutionResult)
    assert a.errors is None
    assert a.data is not None
    assert a.data == {
        "accountJobUpdates": {
            "jobId": a.data["accountJobUpdates"]["jobId"],
            "status": "RUNNING",
            "message": "hello",
            "at": "2026-01-02T00:00:00+00:00",
            "progress": {"stepsCompleted": 3},
            "__typename": "JobEvent",
        }
    }
    assert again is a  # the same document, the same event: executed once
    assert run(second, happened) is not a  # another document
    assert run(first, event()) is not a  # another event


def test_what_reads_the_job_runs_per_subscriber() -> None:
    assert executor(WITH_JOB)._key() is None
    assert executor(PLAIN)._key() is not None


def test_other_variables_are_another_result() -> None:
    assert executor(PLAIN, "a1")._key() != executor(PLAIN, "a2")._key()


def outlet_for(query: str | DocumentNode, taken: list[str], *, room: bool = True) -> Outlet:
    """An outlet that records what it sends; ``room``: whether its socket takes more now."""

    async def send(payload: str) -> bool:
        taken.append(payload)
        return True

    def send_nowait(payload: str) -> bool:
        if room:
            taken.append(payload)
        return room

    outlet = Outlet(send, send_nowait)
    token = OUTLET.set(outlet)
    try:
        executor(query)
    finally:
        OUTLET.reset(token)
    return outlet


async def test_an_outlet_sends_one_encoding_of_a_plain_result_to_every_subscriber() -> None:
    happened = event()
    taken: list[str] = []
    document = parse(PLAIN)  # as the schema's cache gives every operation of one text
    first, second = outlet_for(document, taken), outlet_for(document, taken)
    root = partial(JobEventType.from_update, Update(happened))

    assert first.bound
    assert second.bound
    assert first.deliver_nowait(happened.shared_results, root)
    assert await second.deliver(happened.shared_results, root)
    assert taken[0] is taken[1]  # encoded once
    assert json.loads(taken[0]) == {
        "data": {
            "accountJobUpdates": {
                "jobId": ids.encode(ids.JOB, "j1"),
                "status": "RUNNING",
                "message": "hello",
                "at": "2026-01-02T00:00:00+00:00",
                "progress": {"stepsCompleted": 3},
                "__typename": "JobEvent",
            }
        }
    }


def test_an_outlet_says_so_when_its_socket_has_no_room_or_the_result_is_not_shared() -> None:
    happened = event()
    root = partial(JobEventType.from_update, Update(happened))
    taken: list[str] = []

    assert not outlet_for(PLAIN, taken, room=False).deliver_nowait(happened.shared_results, root)
    assert not outlet_for(WITH_JOB, taken).bound
    assert taken == []
