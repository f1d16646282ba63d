"""ActiveCampaign against a local fake of its documented v3 API (limit/offset, meta.total)."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from listbackup.integrations.activecampaign import INTEGRATION, ActiveCampaignConnector
from listbackup.integrations.errors import CredentialsRejected, PlatformRequestFailed
from tests.integrations.fakes import Fake, FakeApi, Sleeps, collect, context, too_many_requests

BASE = INTEGRATION.api_base_url  # {api_url}/api/3
CREDENTIALS = {"apiUrl": "https://acme.api-us1.com", "apiKey": "key-1"}
DEALS = [{"id": str(n), "title": f"Deal {n}"} for n in range(1, 251)]
CONTACTS = [{"id": str(n), "email": f"c{n}@example.test"} for n in range(1, 461, 2)]
TAGS = [{"id": str(n), "tag": f"tag-{n}"} for n in range(1, 46)]
#: The offset-paged collections, by path: records of each.
COLLECTIONS = {
    f"/{name}": (name, [{"id": str(n)} for n in (1, 2)])
    for name in (
        "fields",
        "lists",
        "accounts",
        "dealGroups",
        "dealStages",
        "campaigns",
        "automations",
    )
} | {"/deals": ("deals", DEALS), "/tags": ("tags", TAGS)}


def activecampaign_api(*, throttle_once: bool = True, cap: int = 100) -> FakeApi:
    """Serves at most ``cap`` records a page, whatever ``limit`` asks."""
    throttled = {"done": not throttle_once}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.headers.get("Api-Token") != "key-1":
            return httpx.Response(403, json={"message": "Forbidden"})
        path, params = request.url.path.removeprefix("/api/3"), request.url.params
        if path == "/users/me":
            return httpx.Response(200, json={"user": {"username": "admin", "email": "a@x.test"}})
        later_page = params.get("offset", "0") != "0" or "id_greater" in params
        if later_page and not throttled["done"]:
            throttled["done"] = True
            return too_many_requests("3")
        limit = min(int(params["limit"]), cap)
        if path == "/contacts":
            assert "offset" not in params
            assert params["orders[id]"] == "ASC"
            after = int(params.get("id_greater", "0"))
            rest = [c for c in CONTACTS if int(c["id"]) > after]
            return httpx.Response(
                200, json={"contacts": rest[:limit], "meta": {"total": str(len(rest))}}
            )
        name, items = COLLECTIONS[path]
        offset = int(params["offset"])
        return httpx.Response(
            200, json={name: items[offset : offset + limit], "meta": {"total": str(len(items))}}
        )

    return FakeApi(handler)


def connector(
    api: FakeApi, *, credentials: dict[str, str] = CREDENTIALS, sleeps: Sleeps | None = None
) -> ActiveCampaignConnector:
    return ActiveCampaignConnector(context(api, BASE, credentials=credentials, sleeps=sleeps))


def platform_fake(accepts: str = "") -> Fake:
    """An API-key platform: ``accepts`` is for OAuth ones."""
    api = activecampaign_api(throttle_once=False)
    return Fake(lambda tokens: connector(api), api)


async def test_every_deal_once_in_order_through_a_429() -> None:
    api, sleeps = activecampaign_api(), Sleeps()

    pages = await collect(connector(api, sleeps=sleeps), "deals")

    assert [d["id"] for page in pages for d in page] == [d["id"] for d in DEALS]
    assert [len(p) for p in pages] == [100, 100, 50]
    assert sleeps.waits == [3.0]  # the Retry-After, honoured
    assert [r.url.params["offset"] for r in api.requests] == ["0", "100", "100", "200"]
    assert all(r.url.params["limit"] == "100" for r in api.requests)
    assert {str(r.url.copy_with(query=None)) for r in api.requests} == {
        "https://acme.api-us1.com/api/3/deals"
    }


async def test_contacts_page_by_id_as_the_docs_recommend() -> None:
    api, sleeps = activecampaign_api(), Sleeps()

    pages = await collect(connector(api, sleeps=sleeps), "contacts")

    assert [c["id"] for page in pages for c in page] == [c["id"] for c in CONTACTS]
    assert [len(p) for p in pages] == [100, 100, 30]
    assert sleeps.waits == [3.0]
    after = [r.url.params.get("id_greater") for r in api.requests]
    assert after == [None, CONTACTS[99]["id"], CONTACTS[99]["id"], CONTACTS[199]["id"]]


async def test_pages_smaller_than_asked_are_read_to_meta_total() -> None:
    api = activecampaign_api(throttle_once=False, cap=20)

    pages = await collect(connector(api), "tags")

    assert [t["id"] for page in pages for t in page] == [t["id"] for t in TAGS]
    assert [len(p) for p in pages] == [20, 20, 5]


async def test_check_names_the_user_of_the_key() -> None:
    assert await connector(activecampaign_api()).check() == "admin"


async def test_since_filters_contacts_and_deals_by_update_time() -> None:
    api = activecampaign_api(throttle_once=False)
    since = datetime(2026, 1, 1, tzinfo=UTC)

    for data_type in ("contacts", "deals", "tags"):
        await collect(connector(api), data_type, since=since)

    by_path = {r.url.path: r.url.params for r in api.requests}
    assert by_path["/api/3/contacts"]["filters[updated_after]"] == "2026-01-01T00:00:00+00:00"
    assert by_path["/api/3/deals"]["filters[updated_after]"] == "2026-01-01T00:00:00+00:00"
    assert "filters[updated_after]" not in by_path["/api/3/tags"]


async def test_a_refused_key_is_credentials_rejected() -> None:
    api = activecampaign_api()
    wrong = {**CREDENTIALS, "apiKey": "key-0"}

    with pytest.raises(CredentialsRejected):
        await connector(api, credentials=wrong).check()
    assert len(api.requests) == 1


@pytest.mark.parametrize(
    "api_url",
    [
        "http://acme.api-us1.com",
        "https://acme.api-us1.com.evil.test",
        "https://evil.test",
        "https://user@acme.api-us1.com",
        "https://acme.api-us1.com:8443",
        "https://acme.api-us1.com/elsewhere",
        "https://acme.api-us1.com?x=1",
        "acme.api-us1.com",
        "",
    ],
)
async def test_a_bad_api_url_is_refused_before_any_request(api_url: str) -> None:
    api = activecampaign_api()
    bad = {**CREDENTIALS, "apiUrl": api_url}

    with pytest.raises(PlatformRequestFailed, match="API URL must be https://"):
        await connector(api, credentials=bad).check()
    with pytest.raises(PlatformRequestFailed, match="API URL must be https://"):
        await collect(connector(api, credentials=bad), "deals")
    assert api.requests == []


async def test_a_missing_key_is_refused_before_any_request() -> None:
    api = activecampaign_api()

    with pytest.raises(PlatformRequestFailed, match="API key is missing"):
        await connector(api, credentials={**CREDENTIALS, "apiKey": " "}).check()
    assert api.requests == []


@pytest.mark.parametrize(
    ("api_url", "host"),
    [
        ("https://acme.api-us1.com/", "acme.api-us1.com"),
        ("https://acme.api-us1.com/api/3/", "acme.api-us1.com"),
        (" https://Acme.activehosted.com ", "acme.activehosted.com"),
    ],
)
async def test_the_api_url_as_shown_in_settings_is_accepted(api_url: str, host: str) -> None:
    api = activecampaign_api()

    await connector(api, credentials={**CREDENTIALS, "apiUrl": api_url}).check()

    assert str(api.requests[0].url) == f"https://{host}/api/3/users/me"
