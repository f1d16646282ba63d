"""Backup sources over HTTP: create, read, change, pause, resume and delete; schedules,
retention, data types and limits, each refusal with its code and field."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from listbackup import ids
from tests.helpers import Tenant, error_codes, join, tenant

DEMO = ids.encode(ids.PLATFORM, "demo")
CONNECT = f"""
mutation($account: ID!) {{
  createApiKeyConnection(input: {{accountId: $account, platformId: "{DEMO}", name: "Demo",
                                 credentials: {{apiKey: "k-123"}}}}) {{ id }}
}}
"""
SOURCE_FIELDS = """
  id name status statusReason retentionDays lastRunAt nextRunAt createdAt
  schedule { frequency cron timezone }
  dataTypes { key }
  account { id } connection { id } platform { slug }
  lastJob { id }
  jobs { nodes { id } pageInfo { hasNextPage } }
"""
CREATE = f"""
mutation($input: CreateSourceInput!) {{ createSource(input: $input) {{ {SOURCE_FIELDS} }} }}
"""
UPDATE = f"""
mutation($id: ID!, $input: UpdateSourceInput!) {{
  updateSource(id: $id, input: $input) {{ {SOURCE_FIELDS} }}
}}
"""
GET = f"query($id: ID!) {{ source(id: $id) {{ {SOURCE_FIELDS} }} }}"
NODE = "query($id: ID!) { node(id: $id) { id ... on Source { name } } }"
PAUSE = "mutation($id: ID!) { pauseSource(id: $id) { status nextRunAt } }"
RESUME = "mutation($id: ID!) { resumeSource(id: $id) { status nextRunAt } }"
DELETE = "mutation($id: ID!) { deleteSource(id: $id) }"
LIST = """
query($id: ID!, $status: SourceStatus, $after: String) { account(id: $id) {
  sources(first: 2, status: $status, after: $after) {
    nodes { name status } pageInfo { hasNextPage endCursor }
  }
} }
"""
SETTINGS = """
mutation($id: ID!, $settings: AccountSettingsInput!) {
  updateAccount(id: $id, input: {settings: $settings}) { id }
}
"""


async def connection(owner: Tenant) -> str:
    body = await owner.call(CONNECT, account=owner.root)
    assert "errors" not in body, body
    connection_id: str = body["data"]["createApiKeyConnection"]["id"]
    return connection_id


async def create(owner: Tenant, connection_id: str, **input: Any) -> dict[str, Any]:
    return await owner.call(
        CREATE, input={"connectionId": connection_id, "name": "Nightly", **input}
    )


def created(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body
    source: dict[str, Any] = body["data"]["createSource"]
    return source


def extensions(body: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = body["errors"][0]["extensions"]
    return found


# ---------------------------------------------------------------- creating and reading


async def test_a_demo_source_with_a_daily_preset_and_every_data_type(
    client: httpx.AsyncClient,
) -> None:
    ada = await tenant(client, "ada@example.com")
    demo = await connection(ada)

    source = created(await create(ada, demo, schedule={"frequency": "DAILY"}))
    read = await ada.call(GET, id=source["id"])
    by_node = await ada.call(NODE, id=source["id"])

    assert read["data"]["source"] == source
    assert by_node == {"data": {"node": {"id": source["id"], "name": "Nightly"}}}
    assert source["status"] == "ACTIVE"
    assert source["account"] == {"id": ada.root}
    assert source["connection"] == {"id": demo}
    assert source["platform"] == {"slug": "demo"}
    assert [d["key"] for d in source["dataTypes"]] == ["contacts", "companies", "deals"]
    schedule = source["schedule"]
    assert schedule["frequency"] == "DAILY"
    assert schedule["timezone"] == "UTC"  # the account's
    minute, hour, *rest = schedule["cron"].split()
    assert rest == ["*", "*", "*"]
    assert 0 <= int(minute) < 60
    assert 0 <= int(hour) < 24
    next_run = datetime.fromisoformat(source["nextRunAt"])
    assert (next_run.hour, next_run.minute) == (int(hour), int(minute))
    assert source["retentionDays"] > 0
    assert source["lastJob"] is None
    assert source["jobs"] == {"nodes": [], "pageInfo": {"hasNextPage": False}}


async def test_a_cron_schedule_in_a_zone_answers_its_next_run_exactly(
    client: httpx.AsyncClient,
) -> None:
    ada = await tenant(client, "ada@example.com")
    demo = await connection(ada)

    source = created(
        await create(ada, demo, schedule={"cron": "30 2 * * *", "timezone": "Europe/Berlin"})
    )

    assert source["schedule"] == {
        "frequency": None,
        "cron": "30 2 * * *",
        "timezone": "Europe/Berlin",
    }
    next_run = datetime.fromisoformat(source["nextRunAt"])
    assert next_run.astimezone(ZoneInfo("Europe/Berlin")).strftime("%H:%M") == "02:30"


async def test_data_types_they_depend_on_are_added_and_put_first(
    client: httpx.AsyncClient,
) -> None:
    ada = await tenant(client, "ada@example.com")
    demo = await connection(ada)

    source = created(await create(ada, demo, dataTypes=["deals"]))
    contacts = created(await create(ada, demo, dataTypes=["contacts"]))

    assert [d["key"] for d in source["dataTypes"]] == ["contacts", "companies", "deals"]
    assert [d["key"] for d in contacts["dataTypes"]] == ["contacts"]
    assert source["schedule"] is None
    assert source["nextRunAt"] is None


async def test_retention_defaults_to_the_accounts_then_the_data_types(
    client: httpx.AsyncClient,
) -> None:
    ada = await tenant(client, "ada@example.com")
    demo = await connection(ada)

    from_types = created(await create(ada, demo))
    await ada.call(SETTINGS, id=ada.root, settings={"defaultRetentionDays": 30})
    from_account = created(await create(ada, demo))
    given = created(await create(ada, demo, retentionDays=7))

    assert from_types["retentionDays"] == 90  # the demo data types' longest default
    assert from_account["retentionDays"] == 30
    assert given["retentionDays"] == 7


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("input", "code", "field", "reason"),
    [
        pytest.param(
            {"schedule": {"cron": "61 * * * *"}},
            "BAD_USER_INPUT",
            "schedule.cron",
            None,
            id="bad-cron",
        ),
        pytest.param(
            {"schedule": {"cron": "0 0 * * * *"}},
            "BAD_USER_INPUT",
            "schedule.cron",
            None,
            id="six-fields",
        ),
        pytest.param(
            {"schedule": {"frequency": "DAILY", "timezone": "Mars/Olympus"}},
            "BAD_USER_INPUT",
            "schedule.timezone",
            None,
            id="bad-zone",
        ),
        pytest.param(
            {"schedule": {"frequency": "DAILY", "cron": "0 0 * * *"}},
            "BAD_USER_INPUT",
            "schedule",
            None,
            id="both",
        ),
        pytest.param(
            {"schedule": {"cron": "*/5 * * * *"}},
            "BAD_USER_INPUT",
            "schedule.cron",
            "SCHEDULE_TOO_FREQUENT",
            id="too-frequent",
        ),
        pytest.param(
            {"dataTypes": ["contacts", "invoices", "zebras"]},
            "BAD_USER_INPUT",
            "dataTypes",
            "UNKNOWN_DATA_TYPES",
            id="unknown-data-types",
        ),
        pytest.param(
            {"retentionDays": 0}, "BAD_USER_INPUT", "retentionDays", None, id="retention-0"
        ),
        pytest.param(
            {"retentionDays": 3651}, "BAD_USER_INPUT", "retentionDays", None, id="retention-3651"
        ),
        pytest.param({"name": "  "}, "BAD_USER_INPUT", "name", None, id="blank-name"),
    ],
)
async def test_bad_input_is_refused_with_its_field_and_nothing_is_saved(
    client: httpx.AsyncClient, input: dict[str, Any], code: str, field: str, reason: str | None
) -> None:
    ada = await tenant(client, "ada@example.com")
    demo = await connection(ada)

    body = await create(ada, demo, **input)
    listed = await ada.call(LIST, id=ada.root)

    assert error_codes(body) == [code], body
    assert extensions(body)["field"] == field
    if reason is not None:
        assert extensions(body)["reason"] == reason
    assert listed["data"]["account"]["sources"]["nodes"] == []
    if "unknown" in str(input):
        assert "invoices" in body["errors"][0]["message"]
        assert "zebras" in body["errors"][0]["message"]


async def test_the_accounts_own_interval_allows_a_frequent_schedule(
    client: httpx.AsyncClient,
) -> None:
    ada = await tenant(client, "ada@example.com")
    demo = await connection(ada)
    await ada.call(SETTINGS, id=ada.root, settings={"minScheduleMinutes": 5})

    body = await create(ada, demo, schedule={"cron": "*/5 * * * *"})

    assert "errors" not in body, body


async def test_concurrent_creates_cannot_pass_the_source_limit(
    client: httpx.AsyncClient,
) -> None:
    ada = await tenant(client, "ada@example.com")
    demo = await connection(ada)
    limited = await ada.call(SETTINGS, id=ada.root, settings={"maxSources": 3})
    assert "errors" not in limited, limited

    results = await asyncio.gather(*(create(ada, demo, name=f"S{n}") for n in range(8)))
    everything = await ada.call(
        "query($id: ID!) { account(id: $id) { sources(first: 50) { nodes { id } } } }",
        id=ada.root,
    )

    refused = [r for r in results if "errors" in r]
    assert len(results) - len(refused) == 3
    assert {extensions(r)["reason"] for r in refused} == {"MAX_SOURCES_REACHED"}
    assert len(everything["data"]["account"]["sources"]["nodes"]) == 3


async def test_plan_limits_need_manage_billing(client: httpx.AsyncClient) -> None:
    ada = await tenant(client, "ada@example.com")
    bob = await tenant(client, "bob@example.com")
    await join(ada, ada.root, bob, "MANAGER")

    body = await bob.call(SETTINGS, id=ada.root, settings={"maxSources": 1000})

    assert error_codes(body) == ["FORBIDDEN"]


# ---------------------------------------------------------------- changing


async def test_update_changes_only_what_is_given_and_null_schedule_removes_it(
    client: httpx.AsyncClient,
) -> None:
    ada = await tenant(client, "ada@example.com")
    demo = await connection(ada)
    source = created(await create(ada, demo, schedule={"frequency": "HOURLY"}))

    renamed = await ada.call(UPDATE, id=source["id"], input={"name": "Renamed"})
    weekly = await ada.call(UPDATE, id=source["id"], input={"schedule": {"frequency": "WEEKLY"}})
    unscheduled = await ada.call(UPDATE, id=source["id"], input={"schedule": None})

    assert renamed["data"]["updateSource"]["name"] == "Renamed"
    assert renamed["data"]["updateSource"]["schedule"]["frequency"] == "HOURLY"
    assert weekly["data"]["updateSource"]["schedule"]["frequency"] == "WEEKLY"
    assert weekly["data"]["updateSource"]["name"] == "Renamed"
    assert unscheduled["data"]["updateSource"]["schedule"] is None
    assert unscheduled["data"]["updateSource"]["nextRunAt"] is None


async def test_pause_clears_the_next_run_and_resume_schedules_from_now(
    client: httpx.AsyncClient,
) -> None:
    ada = await tenant(client, "ada@example.com")
    demo = await connection(ada)
    source = created(await create(ada, demo, schedule={"frequency": "DAILY"}))

    paused = await ada.call(PAUSE, id=source["id"])
    listed_paused = await ada.call(LIST, id=ada.root, status="PAUSED")
    resumed = await ada.call(RESUME, id=source["id"])

    assert paused == {"data": {"pauseSource": {"status": "PAUSED", "nextRunAt": None}}}
    assert listed_paused["data"]["account"]["sources"]["nodes"] == [
        {"name": "Nightly", "status": "PAUSED"}
    ]
    assert resumed["data"]["resumeSource"]["status"] == "ACTIVE"
    assert resumed["data"]["resumeSource"]["nextRunAt"] == source["nextRunAt"]


async def test_a_status_filter_pages_full_pages(client: httpx.AsyncClient) -> None:
    ada = await tenant(client, "ada@example.com")
    demo = await connection(ada)
    made = [created(await create(ada, demo, name=f"S{n}")) for n in range(5)]
    for source in made[1::2]:  # S1, S3 paused
        await ada.call(PAUSE, id=source["id"])

    first = (await ada.call(LIST, id=ada.root, status="ACTIVE"))["data"]["account"]["sources"]
    cursor = first["pageInfo"]["endCursor"]
    rest = await ada.call(LIST, id=ada.root, status="ACTIVE", after=cursor)

    assert [s["name"] for s in first["nodes"]] == ["S0", "S2"]
    assert first["pageInfo"]["hasNextPage"] is True
    assert [s["name"] for s in rest["data"]["account"]["sources"]["nodes"]] == ["S4"]


async def test_delete_removes_the_source_and_a_connection_in_use_stays(
    client: httpx.AsyncClient,
) -> None:
    ada = await tenant(client, "ada@example.com")
    demo = await connection(ada)
    source = created(await create(ada, demo))

    in_use = await ada.call("mutation($id: ID!) { deleteConnection(id: $id) }", id=demo)
    deleted = await ada.call(DELETE, id=source["id"])
    gone = await ada.call(GET, id=source["id"])
    freed = await ada.call("mutation($id: ID!) { deleteConnection(id: $id) }", id=demo)

    assert extensions(in_use)["reason"] == "CONNECTION_IN_USE"
    assert deleted == {"data": {"deleteSource": source["id"]}}
    assert error_codes(gone) == ["NOT_FOUND"]
    assert freed == {"data": {"deleteConnection": demo}}


# ---------------------------------------------------------------- who may


async def test_a_viewer_reads_sources_but_may_not_change_them(client: httpx.AsyncClient) -> None:
    ada = await tenant(client, "ada@example.com")
    vic = await tenant(client, "vic@example.com")
    await join(ada, ada.root, vic, "VIEWER")
    demo = await connection(ada)
    source = created(await create(ada, demo))

    read = await vic.call(GET, id=source["id"])
    attempts = [
        await vic.call(UPDATE, id=source["id"], input={"name": "x"}),
        await vic.call(PAUSE, id=source["id"]),
        await vic.call(RESUME, id=source["id"]),
        await vic.call(DELETE, id=source["id"]),
        await vic.call("mutation($id: ID!) { runSource(id: $id) { id } }", id=source["id"]),
        await create(vic, demo),
    ]

    assert read["data"]["source"]["id"] == source["id"]
    assert [error_codes(a) for a in attempts] == [["FORBIDDEN"]] * 6


async def test_another_tenants_source_answers_like_a_missing_one(
    client: httpx.AsyncClient,
) -> None:
    ada = await tenant(client, "ada@example.com")
    eve = await tenant(client, "eve@example.com")
    demo = await connection(ada)
    source = created(await create(ada, demo))
    missing = ids.encode(ids.SOURCE, "no-such-source")

    for target in (source["id"], missing):
        answers = [
            await eve.call(GET, id=target),
            await eve.call(NODE, id=target),
            await eve.call(UPDATE, id=target, input={"name": "x"}),
            await eve.call(PAUSE, id=target),
            await eve.call(RESUME, id=target),
            await eve.call(DELETE, id=target),
            await eve.call("mutation($id: ID!) { runSource(id: $id) { id } }", id=target),
        ]
        assert [error_codes(a) for a in answers] == [["NOT_FOUND"]] * 7, target
        assert [a["errors"][0]["message"] for a in answers[2:]] == ["No source with that id."] * 5
    on_eves_connection = await create(eve, demo)
    assert error_codes(on_eves_connection) == ["NOT_FOUND"]
    untouched = await ada.call(GET, id=source["id"])
    assert untouched["data"]["source"] == source
