"""The built-in demo platform: deterministic synthetic records, offline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from listbackup.integrations import demo as demo_module
from listbackup.integrations.base import ConnectorContext
from listbackup.integrations.demo import EPOCH, MAX_RECORDS, DemoConnector
from listbackup.integrations.errors import CredentialsRejected, PlatformRequestFailed
from tests.integrations.fakes import Fake


def demo(**credentials: str) -> DemoConnector:
    return DemoConnector(ConnectorContext(base_url="demo://local", credentials=credentials))


def platform_fake(accepts: str = "") -> Fake:
    """No HTTP: the demo generates its records."""
    return Fake(lambda tokens: demo(apiKey="k", recordsPerType="150"))


async def records(connector: DemoConnector, data_type: str, **kwargs: object) -> list[dict]:  # type: ignore[type-arg]
    return [r async for page in connector.fetch(data_type, **kwargs) for r in page]  # type: ignore[arg-type]


async def test_the_same_key_gives_the_same_records_page_by_page() -> None:
    first = demo(apiKey="k1", recordsPerType="250")

    pages = [len(p) async for p in first.fetch("contacts")]
    again = await records(demo(apiKey="k1", recordsPerType="250"), "contacts")
    other = await records(demo(apiKey="k2", recordsPerType="250"), "contacts")

    assert pages == [100, 100, 50]
    assert again == await records(first, "contacts")
    assert [r["id"] for r in again] == [f"contact-{n:07d}" for n in range(250)]
    assert again != other


async def test_records_are_what_they_always_were() -> None:
    """The stamps are made by arithmetic on the day: still what datetimes made."""
    connector = demo(apiKey="k1", recordsPerType="40000")  # four and a half years
    seed = connector._seed()[:8]
    pages = [page async for page in connector.fetch("contacts")]
    expected = {
        "id": "contact-0000077",
        "firstName": "Donald",
        "lastName": "Hopper",
        "email": f"donald.hopper.77@{seed}.demo.invalid",
        "createdAt": "2024-01-04T05:00:00+00:00",
        "updatedAt": "2024-01-21T05:00:00+00:00",
    }

    assert pages[0][77] == expected
    stamps = [(r["createdAt"], r["updatedAt"]) for page in pages for r in page]
    far = range(40_000, MAX_RECORDS, 997)
    stamps += [demo_module._stamp(n) for n in far]
    for n, stamp in zip([*range(40_000), *far], stamps, strict=True):
        created = EPOCH + timedelta(hours=n)
        assert stamp == (created.isoformat(), (created + timedelta(days=n % 30)).isoformat()), n


async def test_deals_point_at_existing_contacts_and_companies() -> None:
    connector = demo(apiKey="k", recordsPerType="40")

    contacts = {r["id"] for r in await records(connector, "contacts")}
    companies = {r["id"] for r in await records(connector, "companies")}
    deals = await records(connector, "deals")

    assert len(deals) == 40
    assert {d["contactId"] for d in deals} <= contacts
    assert {d["companyId"] for d in deals} <= companies


async def test_since_keeps_only_what_changed_after() -> None:
    connector = demo(apiKey="k", recordsPerType="100")
    since = datetime(2024, 1, 3, tzinfo=UTC)

    changed = await records(connector, "contacts", since=since)

    assert changed
    assert len(changed) < 100
    assert all(datetime.fromisoformat(r["updatedAt"]) > since for r in changed)


async def test_the_default_is_a_thousand_records() -> None:
    assert len(await records(demo(apiKey="k"), "companies")) == 1000


@pytest.mark.parametrize(
    ("credentials", "error"),
    [
        ({"apiKey": " "}, CredentialsRejected),
        ({"apiKey": "k", "recordsPerType": "0"}, PlatformRequestFailed),
        ({"apiKey": "k", "recordsPerType": "many"}, PlatformRequestFailed),
    ],
)
async def test_bad_credentials_are_refused(
    credentials: dict[str, str], error: type[Exception]
) -> None:
    with pytest.raises(error):
        await demo(**credentials).check()


async def test_check_names_the_workspace_and_unknown_types_fail() -> None:
    connector = demo(apiKey="k")

    assert (await connector.check() or "").startswith("Demo workspace")
    with pytest.raises(PlatformRequestFailed):
        await records(connector, "invoices")
