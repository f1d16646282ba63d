from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import pytest

from listbackup import integrations
from listbackup.aws import AwsClients
from listbackup.bootstrap import _table_definition
from listbackup.config import Settings
from listbackup.models.platforms import AuthType, CredentialField, DataType, Frequency, Platform
from listbackup.resources import SPEC
from listbackup.store import Store
from listbackup.store.platforms import PlatformStore

if TYPE_CHECKING:
    from types_aiobotocore_dynamodb import DynamoDBClient

REGISTRY = [integration.platform for integration in integrations.REGISTRY.values()]


def _by_name(platforms: list[Platform]) -> list[Platform]:
    return sorted(platforms, key=lambda p: (p.name.casefold(), p.slug))


@contextmanager
def recorded_calls(client: DynamoDBClient, operation: str) -> Iterator[list[dict[str, Any]]]:
    calls: list[dict[str, Any]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        calls.append(params)

    event = f"before-parameter-build.dynamodb.{operation}"
    client.meta.events.register(event, record)
    try:
        yield calls
    finally:
        client.meta.events.unregister(event, record)


@pytest.fixture
def catalogue(aws: AwsClients, settings: Settings) -> PlatformStore:
    """The session stack's seeded catalogue: read it, never change it."""
    return Store.create(aws, settings.names).platforms


@pytest.fixture
async def scratch(clients: AwsClients) -> AsyncIterator[PlatformStore]:
    """An empty platforms table of its own, built from the spec and dropped afterwards."""
    name = f"lbtest-platforms-{uuid.uuid4().hex[:10]}"
    ddb = clients.dynamodb
    await ddb.create_table(**_table_definition(SPEC.table("platforms"), name))
    await ddb.get_waiter("table_exists").wait(
        TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30}
    )
    yield PlatformStore(ddb, name)
    await ddb.delete_table(TableName=name)


def _platform(slug: str, name: str, category: str = "misc", **fields: Any) -> Platform:
    return Platform(slug=slug, name=name, category=category, auth_type=AuthType.API_KEY, **fields)


# --- get_many -------------------------------------------------------------------------------


async def test_get_many_keeps_the_order_asked_for(catalogue: PlatformStore) -> None:
    slugs = ["zendesk", "demo", "stripe", "hubspot"]

    found = await catalogue.get_many(slugs)

    assert [p.slug if p else None for p in found] == slugs
    assert found == [integrations.REGISTRY[s].platform for s in slugs]


async def test_get_many_answers_none_for_unknown_slugs(catalogue: PlatformStore) -> None:
    found = await catalogue.get_many(["nope", "stripe", "", "STRIPE", "also-nope"])

    assert [p.slug if p else None for p in found] == [None, "stripe", None, None, None]


async def test_get_many_repeats_a_slug_asked_for_twice_in_one_call(
    aws: AwsClients, catalogue: PlatformStore
) -> None:
    with recorded_calls(aws.dynamodb, "BatchGetItem") as calls:
        found = await catalogue.get_many(["demo", "keap", "demo"])

    assert [p.slug if p else None for p in found] == ["demo", "keap", "demo"]
    assert len(calls) == 1
    assert len(calls[0]["RequestItems"][catalogue.table]["Keys"]) == 2


async def test_get_many_of_nothing_is_empty(catalogue: PlatformStore) -> None:
    assert await catalogue.get_many([]) == []


async def test_get_many_of_the_whole_catalogue(catalogue: PlatformStore) -> None:
    slugs = list(integrations.REGISTRY)

    assert await catalogue.get_many(slugs) == REGISTRY


# --- list -----------------------------------------------------------------------------------


async def test_list_is_the_whole_catalogue_sorted_by_name(catalogue: PlatformStore) -> None:
    listed = await catalogue.list()

    assert listed == _by_name(REGISTRY)
    names = [p.name.casefold() for p in listed]
    assert names == sorted(names)


async def test_list_by_category_queries_the_category_index(
    aws: AwsClients, catalogue: PlatformStore
) -> None:
    with (
        recorded_calls(aws.dynamodb, "Query") as queries,
        recorded_calls(aws.dynamodb, "Scan") as scans,
    ):
        crm = await catalogue.list(category="crm")

    assert crm == _by_name([p for p in REGISTRY if p.category == "crm"])
    assert len(crm) >= 2
    assert scans == []
    assert [q["IndexName"] for q in queries] == ["category-index"]


@pytest.mark.parametrize("category", sorted({p.category for p in REGISTRY}))
async def test_every_category_lists_exactly_its_platforms(
    catalogue: PlatformStore, category: str
) -> None:
    listed = await catalogue.list(category=category)

    assert listed == _by_name([p for p in REGISTRY if p.category == category])


async def test_list_of_an_unknown_category_is_empty(catalogue: PlatformStore) -> None:
    assert await catalogue.list(category="astrology") == []
    assert await catalogue.list(category="CRM") == []  # categories are stored lower-case


async def test_list_sorts_case_insensitively_then_by_slug(scratch: PlatformStore) -> None:
    await scratch.replace_all(
        [
            _platform("b-beta", "beta"),
            _platform("z-alpha", "Alpha"),
            _platform("a-alpha", "alpha"),
            _platform("gamma", "Gamma", category="other"),
            _platform("aardvark", "Ärger"),
        ]
    )

    listed = await scratch.list()
    misc = await scratch.list(category="misc")

    assert [p.slug for p in listed] == ["a-alpha", "z-alpha", "b-beta", "gamma", "aardvark"]
    assert [p.slug for p in misc] == ["a-alpha", "z-alpha", "b-beta", "aardvark"]


# --- replace_all ----------------------------------------------------------------------------


async def test_replace_all_round_trips_every_registry_platform(scratch: PlatformStore) -> None:
    await scratch.replace_all(REGISTRY)

    assert await scratch.get_many([p.slug for p in REGISTRY]) == REGISTRY
    assert await scratch.list() == _by_name(REGISTRY)


async def test_replace_all_round_trips_optional_and_empty_fields(scratch: PlatformStore) -> None:
    sparse = _platform("sparse", "Sparse")
    full = Platform(
        slug="full",
        name="Fülł — 東京",
        category="misc",
        auth_type=AuthType.OAUTH2,
        description="",
        credential_fields=(
            CredentialField("token", "Token"),
            CredentialField("subdomain", "Subdomain", secret=False, required=False),
        ),
        data_types=(
            DataType("a", "A"),
            DataType(
                "b",
                "B",
                description="Depends on A.",
                default_frequency=Frequency.HOURLY,
                default_retention_days=3650,
                depends_on=("a",),
            ),
            DataType("c", "C", default_frequency=Frequency.MONTHLY, depends_on=("a", "b")),
        ),
    )

    await scratch.replace_all([sparse, full])

    assert await scratch.get_many(["sparse", "full"]) == [sparse, full]


async def test_replace_all_removes_stale_platforms(scratch: PlatformStore) -> None:
    stale = [_platform(f"stale-{i}", f"Stale {i}") for i in range(30)]
    await scratch.replace_all([*REGISTRY, *stale])
    assert len(await scratch.list()) == len(REGISTRY) + len(stale)

    await scratch.replace_all(REGISTRY)

    assert await scratch.list() == _by_name(REGISTRY)
    assert await scratch.get_many([p.slug for p in stale[:3]]) == [None, None, None]


async def test_replace_all_overwrites_a_changed_platform(scratch: PlatformStore) -> None:
    await scratch.replace_all([_platform("x", "Old name", description="old")])

    renamed = _platform("x", "New name", category="other")
    await scratch.replace_all([renamed])

    assert await scratch.get_many(["x"]) == [renamed]
    assert await scratch.list(category="misc") == []
    assert await scratch.list(category="other") == [renamed]


async def test_replace_all_with_nothing_empties_the_table(scratch: PlatformStore) -> None:
    await scratch.replace_all(REGISTRY[:3])

    await scratch.replace_all([])

    assert await scratch.list() == []


async def test_replace_all_twice_is_idempotent(scratch: PlatformStore) -> None:
    await scratch.replace_all(REGISTRY)
    await scratch.replace_all(REGISTRY)

    assert await scratch.list() == _by_name(REGISTRY)
