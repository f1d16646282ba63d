"""What every connector promises, over every platform and every data type, against each
platform's fake (``platform_fake()`` in ``tests/integrations/test_<module>.py``): records of every
declared data type, each once; an unknown data type refused before any request; and, for
OAuth platforms, one token refresh on a 401 and a refused token after it reported."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable

import pytest

from listbackup import integrations
from listbackup.integrations import REGISTRY
from listbackup.integrations.connector import HttpConnector
from listbackup.integrations.errors import CredentialsRejected, PlatformRequestFailed
from listbackup.integrations.registry import PLATFORMS
from listbackup.models.platforms import AuthType
from tests.integrations.fakes import Fake, StaticTokens, collect

DATA_TYPES = [
    (slug, data_type.key)
    for slug, integration in REGISTRY.items()
    for data_type in integration.platform.data_types
]
OAUTH = [slug for slug, i in REGISTRY.items() if i.platform.auth_type is AuthType.OAUTH2]


def fake_of(slug: str) -> Callable[..., Fake]:
    """The platform's fake, from the test module named after its integration module."""
    connector = REGISTRY[slug].connector
    assert connector is not None
    module = connector.__module__.rsplit(".", 1)[-1]
    tests = importlib.import_module(f"tests.integrations.test_{module}")
    found: Callable[..., Fake] = tests.platform_fake
    return found


@pytest.mark.parametrize(("slug", "data_type"), DATA_TYPES)
async def test_every_data_type_yields_records_each_once(slug: str, data_type: str) -> None:
    connector = fake_of(slug)().connect(StaticTokens())

    pages = await collect(connector, data_type)

    assert pages, f"{slug} {data_type}: no records from the fake"
    assert all(pages), "an empty page"
    ids = [connector.record_id(data_type, record) for page in pages for record in page]
    assert len(set(ids)) == len(ids), f"{slug} {data_type}: a record came twice"


@pytest.mark.parametrize("slug", sorted(REGISTRY))
async def test_an_unknown_data_type_is_refused_before_any_request(slug: str) -> None:
    faked = fake_of(slug)()

    with pytest.raises(PlatformRequestFailed, match="not a data type"):
        await collect(faked.connect(StaticTokens()), "no_such_records")
    assert faked.api is None or faked.api.requests == []


@pytest.mark.parametrize("slug", OAUTH)
async def test_a_401_refreshes_the_token_once_and_the_read_goes_on(slug: str) -> None:
    expected = await collect(fake_of(slug)().connect(StaticTokens()), fake_of(slug)().sample)
    faked, tokens = fake_of(slug)(accepts="token-2"), StaticTokens()  # token-1 is refused

    pages = await collect(faked.connect(tokens), faked.sample)

    assert pages == expected
    assert tokens.refreshes == 1


@pytest.mark.parametrize("slug", OAUTH)
async def test_a_token_refused_after_its_refresh_is_credentials_rejected(slug: str) -> None:
    faked, tokens = fake_of(slug)(accepts="never"), StaticTokens()

    with pytest.raises(CredentialsRejected):
        await collect(faked.connect(tokens), faked.sample)
    assert tokens.refreshes == 1
    assert faked.api is not None
    assert len(faked.api.requests) == 2  # the refused token, the refreshed one; no retry


def test_every_platform_module_is_registered_and_reads_what_its_catalogue_lists() -> None:
    modules = [m.name for m in pkgutil.iter_modules(integrations.__path__)]
    declaring = {
        name
        for name in modules
        if hasattr(importlib.import_module(f"listbackup.integrations.{name}"), "INTEGRATION")
    }

    assert declaring == set(PLATFORMS)
    for integration in REGISTRY.values():
        connector = integration.connector
        if connector is not None and issubclass(connector, HttpConnector):
            keys = [data_type.key for data_type in integration.platform.data_types]
            assert list(connector.streams) == keys, integration.slug
