from __future__ import annotations

import dataclasses
from collections import Counter

import pytest

from listbackup.resources import SPEC, Key, Names, Queue, Table

JOB_QUEUES = ("sync", "backup")

_QUEUES = {q.name: q for q in SPEC.queues}


def _duplicates(names: list[str]) -> list[str]:
    return [name for name, count in Counter(names).items() if count > 1]


def test_table_names_are_unique() -> None:
    assert SPEC.tables
    assert _duplicates([t.name for t in SPEC.tables]) == []


def test_queue_names_are_unique_including_dead_letter_queues() -> None:
    names = Names(prefix="p", bucket_name="b")
    physical = [names.queue(q) for q in SPEC.queues] + [
        names.dead_letter_queue(q) for q in SPEC.queues if q.max_receive_count is not None
    ]

    assert _duplicates([q.name for q in SPEC.queues]) == []
    assert _duplicates(physical) == []


def test_the_spec_s_queues_are_the_job_queues_and_no_more() -> None:
    """A queue nobody reads only fills (and trips its alarms): each one has its consumer."""
    assert tuple(q.name for q in SPEC.queues) == JOB_QUEUES


@pytest.mark.parametrize("table", SPEC.tables, ids=lambda t: t.name)
def test_index_names_are_unique_within_a_table(table: Table) -> None:
    assert _duplicates([i.name for i in table.indexes]) == []


def test_spec_looks_tables_up_by_name() -> None:
    for table in SPEC.tables:
        assert SPEC.table(table.name) is table
    with pytest.raises(KeyError):
        SPEC.table("no-such-table")


def _keys(table: Table) -> list[Key]:
    keys = [table.hash_key, table.range_key]
    for index in table.indexes:
        keys += [index.hash_key, index.range_key]
    return [k for k in keys if k is not None]


@pytest.mark.parametrize("table", SPEC.tables, ids=lambda t: t.name)
def test_key_attributes_have_one_type_per_table(table: Table) -> None:
    types: dict[str, set[str]] = {}
    for key in _keys(table):
        types.setdefault(key.name, set()).add(key.type)

    assert {name: kinds for name, kinds in types.items() if len(kinds) > 1} == {}


@pytest.mark.parametrize("table", SPEC.tables, ids=lambda t: t.name)
def test_keys_are_well_formed(table: Table) -> None:
    schemas = [(table.hash_key, table.range_key)]
    schemas += [(index.hash_key, index.range_key) for index in table.indexes]
    for hash_key, range_key in schemas:
        assert range_key is None or range_key.name != hash_key.name
    if table.ttl_attribute is not None:
        assert table.ttl_attribute not in {k.name for k in _keys(table)}


def test_names_build_physical_table_names() -> None:
    names = Names(prefix="listbackup-dev", bucket_name="listbackup-dev-data")

    assert names.table("jobs") == "listbackup-dev-jobs"
    assert names.table("job-logs") == "listbackup-dev-job-logs"


def test_fifo_queue_names_end_in_fifo_after_the_dlq_suffix() -> None:
    names = Names(prefix="listbackup-dev", bucket_name="b")
    queue = Queue("sync")

    assert names.queue(queue) == "listbackup-dev-sync.fifo"
    assert names.dead_letter_queue(queue) == "listbackup-dev-sync-dlq.fifo"


def test_standard_queue_names_have_no_fifo_suffix() -> None:
    names = Names(prefix="listbackup-dev", bucket_name="b")
    queue = Queue("job-events", fifo=False)

    assert names.queue(queue) == "listbackup-dev-job-events"
    assert names.dead_letter_queue(queue) == "listbackup-dev-job-events-dlq"


def test_names_of_singletons() -> None:
    names = Names(prefix="acme", bucket_name="acme-data")

    assert names.event_bus() == "acme-events"
    assert names.live_queue("0a1b2c3d4e5f") == "acme-live-0a1b2c3d4e5f"
    assert names.user_pool() == "acme-users"
    assert names.user_pool_client() == "acme-web"
    assert names.kms_alias() == "alias/acme-credentials"
    assert names.bucket_name == "acme-data"


@pytest.mark.parametrize("name", JOB_QUEUES)
def test_job_queues_are_fifo_with_dead_letter_queues(name: str) -> None:
    queue = _QUEUES[name]

    assert queue.fifo
    assert queue.max_receive_count is not None
    assert queue.max_receive_count >= 1


@pytest.mark.parametrize("queue", SPEC.queues, ids=lambda q: q.name)
def test_queue_settings_are_within_sqs_limits(queue: Queue) -> None:
    assert 0 <= queue.visibility_timeout <= 12 * 3600
    assert 60 <= queue.retention_seconds <= 14 * 86_400
    assert 0 <= queue.receive_wait_seconds <= 20


def test_only_the_jobs_table_streams_and_it_streams_both_images() -> None:
    assert {t.name: t.stream for t in SPEC.tables if t.stream} == {"jobs": "NEW_AND_OLD_IMAGES"}


def test_longest_physical_names_fit_aws_limits() -> None:
    longest_prefix = "p" * 41  # LISTBACKUP_RESOURCE_PREFIX allows 41 characters
    names = Names(prefix=longest_prefix, bucket_name="b")

    assert max(len(names.dead_letter_queue(q)) for q in SPEC.queues) <= 80
    assert len(names.live_rule("0a1b2c3d4e5f")) <= 64
    assert len(names.live_queue("0a1b2c3d4e5f")) <= 80
    assert len(names.event_bus()) <= 256
    assert max(len(names.table(t.name)) for t in SPEC.tables) <= 255
    assert len(f"{longest_prefix}-data") <= 63


def test_bucket_transitions_move_to_colder_storage_over_time() -> None:
    days = [t.days for t in SPEC.bucket.transitions]

    assert days == sorted(set(days))
    assert days[0] >= 30  # S3's minimum age for STANDARD_IA
    assert [t.storage_class for t in SPEC.bucket.transitions] == [
        "STANDARD_IA",
        "GLACIER",
        "DEEP_ARCHIVE",
    ]


def test_spec_objects_are_immutable() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        SPEC.queues[0].fifo = False  # type: ignore[misc]
