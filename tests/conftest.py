"""Test fixtures.

One local AWS process (moto, DynamoDB serialized), one bootstrap and one app server serve
the whole session (the app on the tests' event loop); after each test that used AWS,
:func:`tests.aws_state.wipe` empties every item, user, object and message inside the
local AWS, so each test starts from a freshly seeded stack.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from listbackup.aws import AwsClients, open_clients
from listbackup.bootstrap import BootstrapReport, bootstrap
from listbackup.config import Settings, load_settings
from listbackup.deps import AppDeps, Deps, open_deps
from listbackup.devstack import jwks_url, live_server, local_aws
from listbackup.server import create_app
from tests.aws_state import wipe

TEST_ENV = {
    "LISTBACKUP_STAGE": "test",
    "LISTBACKUP_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}

# moto's werkzeug logs every request; that drowns out what a failing test logged.
logging.getLogger("werkzeug").setLevel(logging.WARNING)


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """The local AWS (moto with DynamoDB serialized) in its own process, for the session."""
    with local_aws() as endpoint, pytest.MonkeyPatch.context() as mp:
        for name, value in TEST_ENV.items():
            mp.setenv(name, value)
        mp.setenv("AWS_ENDPOINT_URL", endpoint)
        for name in ("LISTBACKUP_GRAPHIQL", "LISTBACKUP_CORS_ORIGINS", "AWS_PROFILE"):
            mp.delenv(name, raising=False)
        yield endpoint


@pytest.fixture(scope="session")
def base_settings(moto_endpoint: str) -> Settings:
    return load_settings()


@pytest.fixture(scope="session")
async def clients(base_settings: Settings) -> AsyncIterator[AwsClients]:
    async with open_clients(base_settings) as opened:
        yield opened


@pytest.fixture(scope="session")
async def stack(clients: AwsClients, base_settings: Settings) -> BootstrapReport:
    """Every resource of the spec, created once for the session."""
    return await bootstrap(clients, base_settings)


@pytest.fixture(scope="session")
def settings(base_settings: Settings, stack: BootstrapReport, moto_endpoint: str) -> Settings:
    return base_settings.model_copy(
        update={
            "cognito_user_pool_id": stack.user_pool_id,
            "cognito_client_id": stack.user_pool_client_id,
            "cognito_jwks_url": jwks_url(moto_endpoint, stack.user_pool_id),
        }
    )


@pytest.fixture
async def aws(clients: AwsClients, stack: BootstrapReport) -> AwsClients:
    """The AWS clients, on a stack that holds nothing but the seeded catalogue."""
    return clients


@pytest.fixture(autouse=True)
async def _clean_slate(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """After every test that reached the local AWS (through any fixture), empty it."""
    if "stack" not in request.fixturenames:
        yield
        return
    endpoint: str = request.getfixturevalue("moto_endpoint")
    settings: Settings = request.getfixturevalue("settings")
    yield
    await wipe(endpoint, settings)


@pytest.fixture(scope="session")
async def app_deps(settings: Settings) -> AsyncIterator[AppDeps]:
    """A process's dependency bundle, as the API and the worker build it."""
    async with open_deps(settings) as opened:
        yield opened


@pytest.fixture
def deps(app_deps: AppDeps, aws: AwsClients) -> Deps:
    """One operation's dependencies, on the wiped stack; ``dataclasses.replace`` it to
    fix the clock or swap a dependency."""
    return app_deps.for_operation()


@pytest.fixture(scope="session")
async def app_url(settings: Settings) -> AsyncIterator[str]:
    app = create_app(settings)
    async with live_server(app, max_message_bytes=settings.max_body_bytes) as url:
        yield url


@pytest.fixture
async def client(app_url: str, aws: AwsClients) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=app_url, timeout=10) as http:
        yield http
