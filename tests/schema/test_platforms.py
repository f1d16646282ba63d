from __future__ import annotations

import httpx
import pytest

from listbackup import ids, integrations
from tests.helpers import error_codes, gql

PLATFORM_FIELDS = """
    id slug name category description authType
    credentialFields { key label secret required }
    dataTypes { key name description defaultFrequency defaultRetentionDays dependsOn }
"""


async def test_platforms_lists_the_whole_catalogue_by_name(client: httpx.AsyncClient) -> None:
    body = await gql(client, f"{{ platforms {{ {PLATFORM_FIELDS} }} }}")

    assert "errors" not in body
    platforms = body["data"]["platforms"]
    assert {p["slug"] for p in platforms} == set(integrations.REGISTRY)
    names = [p["name"].casefold() for p in platforms]
    assert names == sorted(names)
    stripe = next(p for p in platforms if p["slug"] == "stripe")
    assert stripe["authType"] == "OAUTH2"
    assert stripe["id"] == ids.encode(ids.PLATFORM, "stripe")
    assert {"key": "customers", "name": "Customers"}.items() <= stripe["dataTypes"][0].items()


async def test_platforms_filters_by_category(client: httpx.AsyncClient) -> None:
    body = await gql(client, '{ platforms(category: " CRM ") { slug category } }')

    crm = {slug for slug, i in integrations.REGISTRY.items() if i.platform.category == "crm"}
    assert crm
    assert {p["slug"] for p in body["data"]["platforms"]} == crm


async def test_unknown_category_is_an_empty_list(client: httpx.AsyncClient) -> None:
    body = await gql(client, '{ platforms(category: "astrology") { slug } }')

    assert body == {"data": {"platforms": []}}


async def test_blank_category_is_bad_input(client: httpx.AsyncClient) -> None:
    body = await gql(client, '{ platforms(category: "  ") { slug } }')

    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == "category"


async def test_platform_by_slug_matches_the_registry(client: httpx.AsyncClient) -> None:
    body = await gql(client, f'{{ platform(slug: "demo") {{ {PLATFORM_FIELDS} }} }}')

    demo = integrations.REGISTRY["demo"].platform
    platform = body["data"]["platform"]
    assert platform["name"] == demo.name
    assert platform["authType"] == "API_KEY"
    assert [f["key"] for f in platform["credentialFields"]] == [
        f.key for f in demo.credential_fields
    ]
    assert [d["key"] for d in platform["dataTypes"]] == [d.key for d in demo.data_types]


@pytest.mark.parametrize("slug", ["nope", "", "x" * 5000])
async def test_unknown_platform_is_null_and_not_found(client: httpx.AsyncClient, slug: str) -> None:
    body = await gql(client, "query($s: String!) { platform(slug: $s) { slug } }", {"s": slug})

    assert body["data"] == {"platform": None}
    assert error_codes(body) == ["NOT_FOUND"]
    assert body["errors"][0]["path"] == ["platform"]


async def test_node_resolves_a_platform_id(client: httpx.AsyncClient) -> None:
    node_id = ids.encode(ids.PLATFORM, "hubspot")
    body = await gql(
        client,
        "query($id: ID!) { node(id: $id) { __typename id ... on Platform { slug } } }",
        {"id": node_id},
    )

    assert body == {"data": {"node": {"__typename": "Platform", "id": node_id, "slug": "hubspot"}}}


@pytest.mark.parametrize(
    "node_id",
    [
        "not-base64!",
        ids.encode("Platform", "no-such-platform"),
        ids.encode("Spaceship", "1"),
        "",
        "A" * 10_000,
    ],
)
async def test_node_with_bad_or_unknown_id_is_null_and_not_found(
    client: httpx.AsyncClient, node_id: str
) -> None:
    body = await gql(client, "query($id: ID!) { node(id: $id) { id } }", {"id": node_id})

    assert body["data"] == {"node": None}
    assert error_codes(body) == ["NOT_FOUND"]
    assert body["errors"][0]["message"] == "No node with that id."


async def test_many_platform_lookups_share_one_batch(client: httpx.AsyncClient) -> None:
    aliases = " ".join(
        f'p{i}: platform(slug: "{slug}") {{ slug }}' for i, slug in enumerate(integrations.REGISTRY)
    )
    body = await gql(client, f"{{ {aliases} }}")

    assert "errors" not in body
    assert sorted(p["slug"] for p in body["data"].values()) == sorted(integrations.REGISTRY)
