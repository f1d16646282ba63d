"""A live event is executed once for every subscriber who asked only for its own fields."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from graphql import ExecutionResult, parse

from listbackup.broker import JobEvent
from listbackup.models.jobs import JobStatus, Progress
from listbackup.schema import build_schema
from listbackup.schema.shared_events import SharedEventExecutor
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


def executor(query: str, account: str = "a1") -> SharedEventExecutor:
    schema = build_schema()
    built = schema.execution_context_class.build(
        schema._schema, parse(query), raw_variable_values={"id": account}
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
