"""Mailchimp against a local fake of its documented Marketing API (count/offset pages)."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from listbackup.integrations.base import TokenSource
from listbackup.integrations.errors import (
    CredentialsRejected,
    PlatformRequestFailed,
    PlatformUnavailable,
)
from listbackup.integrations.mailchimp import INTEGRATION, MailchimpConnector, oauth_metadata
from tests.integrations.fakes import (
    Fake,
    FakeApi,
    Sleeps,
    StaticTokens,
    collect,
    context,
    too_many_requests,
)

BASE = INTEGRATION.api_base_url  # https://{dc}.api.mailchimp.com/3.0
CREDENTIALS = {"dc": "us6"}
LISTS = [{"id": "aud1", "name": "Customers"}, {"id": "aud2", "name": "Leads"}]
MEMBERS = {
    "aud1": [{"id": f"m1-{n:04d}", "list_id": "aud1"} for n in range(2500)],
    "aud2": [{"id": f"m2-{n:04d}", "list_id": "aud2"} for n in range(3)],
}
CAMPAIGNS = [{"id": f"c{n:04d}"} for n in range(1000)]
#: The other collections, account-wide and per audience: two records each.
OTHERS = {
    f"/{name}": (name, [{"id": f"{name}-{n}"} for n in (1, 2)])
    for name in ("templates", "reports", "automations")
}
OTHERS |= {
    f"/lists/{audience}/{path}": (name, [{"id": f"{audience}-{name}-{n}"} for n in (1, 2)])
    for audience in MEMBERS
    for name, path in (("merge_fields", "merge-fields"), ("segments", "segments"))
}


def mailchimp_api(
    *, throttle_once: bool = True, cap: int = 1000, accepts: str = "token-1"
) -> FakeApi:
    """Serves at most ``cap`` records a page, as Mailchimp may, whatever ``count`` asks."""
    throttled = {"done": not throttle_once}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.headers.get("Authorization") != f"Bearer {accepts}":
            return httpx.Response(401, json={"title": "API Key Invalid", "status": 401})
        path = request.url.path.removeprefix("/3.0")
        if path == "/":
            return httpx.Response(200, json={"account_id": "a1", "account_name": "Acme Mail"})
        collections = {"/lists": ("lists", LISTS), "/campaigns": ("campaigns", CAMPAIGNS)}
        collections |= {f"/lists/{i}/members": ("members", m) for i, m in MEMBERS.items()}
        collections |= OTHERS
        name, items = collections[path]
        offset = int(request.url.params["offset"])
        if offset and not throttled["done"]:
            throttled["done"] = True
            return too_many_requests("3")
        count = min(int(request.url.params["count"]), cap)
        return httpx.Response(
            200, json={name: items[offset : offset + count], "total_items": len(items)}
        )

    return FakeApi(handler)


def connector(
    api: FakeApi,
    *,
    tokens: TokenSource | None = None,
    sleeps: Sleeps | None = None,
    credentials: dict[str, str] = CREDENTIALS,
) -> MailchimpConnector:
    return MailchimpConnector(
        context(api, BASE, credentials=credentials, tokens=tokens or StaticTokens(), sleeps=sleeps)
    )


def platform_fake(accepts: str = "token-1") -> Fake:
    api = mailchimp_api(throttle_once=False, accepts=accepts)
    return Fake(lambda tokens: connector(api, tokens=tokens), api, "members")


async def test_every_member_of_every_list_once_in_order_through_a_429() -> None:
    api, sleeps = mailchimp_api(), Sleeps()

    pages = await collect(connector(api, sleeps=sleeps), "members")

    expected = [m["id"] for members in MEMBERS.values() for m in members]
    assert [m["id"] for page in pages for m in page] == expected
    assert [len(p) for p in pages] == [1000, 1000, 500, 3]
    assert sleeps.waits == [3.0]  # the Retry-After, honoured
    assert {r.url.host for r in api.requests} == {"us6.api.mailchimp.com"}
    member_calls = [r for r in api.requests if r.url.path.endswith("/members")]
    assert [r.url.params["offset"] for r in member_calls] == ["0", "1000", "1000", "2000", "0"]
    assert all(r.url.params["count"] == "1000" for r in member_calls)
    assert all(r.url.params["exclude_fields"] == "members._links" for r in member_calls)


async def test_pages_smaller_than_asked_are_read_to_total_items() -> None:
    api = mailchimp_api(throttle_once=False, cap=400)

    pages = await collect(connector(api), "campaigns")

    assert [c["id"] for page in pages for c in page] == [c["id"] for c in CAMPAIGNS]
    assert [len(p) for p in pages] == [400, 400, 200]
    assert api.requests[0].url.params["sort_field"] == "create_time"
    assert api.requests[0].url.params["sort_dir"] == "ASC"


async def test_a_full_last_page_needs_no_extra_request() -> None:
    api = mailchimp_api(throttle_once=False)

    pages = await collect(connector(api), "campaigns")

    assert [len(p) for p in pages] == [1000]
    assert len(api.requests) == 1  # total_items said 1000: no empty page asked for


async def test_check_names_the_account() -> None:
    api = mailchimp_api()

    assert await connector(api).check() == "Acme Mail"
    assert str(api.requests[0].url) == "https://us6.api.mailchimp.com/3.0/"


async def test_since_filters_members_by_last_change() -> None:
    api = mailchimp_api(throttle_once=False)

    await collect(connector(api), "members", since=datetime(2026, 1, 1, tzinfo=UTC))

    member_calls = [r for r in api.requests if r.url.path.endswith("/members")]
    assert member_calls
    assert {r.url.params["since_last_changed"] for r in member_calls} == {
        "2026-01-01T00:00:00+00:00"
    }
    list_calls = [r for r in api.requests if r.url.path == "/3.0/lists"]
    assert all("since_last_changed" not in r.url.params for r in list_calls)
    assert list_calls[0].url.params["fields"] == "lists.id,total_items"


@pytest.mark.parametrize("dc", ["us6.evil.test", "us6/..", "", "6us"])
async def test_a_bad_server_prefix_is_refused_before_any_request(dc: str) -> None:
    api = mailchimp_api()

    with pytest.raises(PlatformRequestFailed, match="server prefix"):
        await connector(api, credentials={"dc": dc}).check()
    with pytest.raises(PlatformRequestFailed, match="server prefix"):
        await collect(connector(api, credentials={"dc": dc}), "lists")
    assert api.requests == []


async def test_oauth_metadata_tells_the_data_centre_with_the_new_token() -> None:
    seen: list[httpx.Request] = []

    def metadata(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"dc": "US21", "accountname": "Ada"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(metadata)) as http:
        assert await oauth_metadata(http, "token-1") == {"dc": "us21"}
    assert str(seen[0].url) == "https://login.mailchimp.com/oauth2/metadata"
    assert seen[0].headers["authorization"] == "OAuth token-1"


@pytest.mark.parametrize(
    ("answer", "raised"),
    [
        (httpx.Response(401, json={"error": "invalid_token"}), CredentialsRejected),
        (httpx.Response(500, text="oops"), PlatformRequestFailed),
        (httpx.Response(200, json={"dc": "us6.evil.test"}), PlatformRequestFailed),
        (httpx.Response(200, json=["us6"]), PlatformRequestFailed),
        (None, PlatformUnavailable),
    ],
)
async def test_oauth_metadata_that_tells_nothing_usable_is_an_error(
    answer: httpx.Response | None, raised: type[Exception]
) -> None:
    def metadata(request: httpx.Request) -> httpx.Response:
        if answer is None:
            raise httpx.ConnectError("refused", request=request)
        return answer

    async with httpx.AsyncClient(transport=httpx.MockTransport(metadata)) as http:
        with pytest.raises(raised):
            await oauth_metadata(http, "token-1")
