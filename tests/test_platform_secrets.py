"""OAuth apps' credentials from Secrets Manager, under the environment's overrides."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from listbackup import ids
from listbackup.adapters import secrets
from listbackup.aws import AwsClients
from listbackup.config import Settings
from listbackup.devstack import live_server
from listbackup.errors import InfrastructureError
from listbackup.server import create_app
from tests.helpers import tenant

START = """
mutation($input: StartOAuthInput!) { startOAuthConnection(input: $input) { authorizationUrl } }
"""


@pytest.fixture
async def secret(aws: AwsClients) -> str:
    name = "lbtest/platform-apps"
    payload = {"dropbox": {"client_id": "from-secrets", "client_secret": "s3cr3t"}}
    try:
        await aws.secrets.create_secret(Name=name, SecretString=json.dumps(payload))
    except aws.secrets.exceptions.ResourceExistsException:
        await aws.secrets.put_secret_value(SecretId=name, SecretString=json.dumps(payload))
    return name


async def test_client_ids_come_from_the_secret_and_env_overrides_fields(
    settings: Settings, secret: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LISTBACKUP_PLATFORM_DROPBOX_CLIENT_ID", raising=False)
    monkeypatch.setenv(
        "LISTBACKUP_PLATFORM_DROPBOX_AUTHORIZE_URL", "https://sandbox.example.test/authorize"
    )
    app = create_app(settings.model_copy(update={"platform_secrets": secret}))

    async with live_server(app) as url, httpx.AsyncClient(base_url=url) as http:
        ada = await tenant(http, "secrets@example.com")
        body = await ada.call(
            START,
            input={"accountId": ada.root, "platformId": ids.encode(ids.PLATFORM, "dropbox")},
        )

    started = urlsplit(body["data"]["startOAuthConnection"]["authorizationUrl"])
    assert (started.netloc, started.path) == ("sandbox.example.test", "/authorize")
    assert parse_qs(started.query)["client_id"] == ["from-secrets"]


@pytest.mark.parametrize("payload", ["client_id=oops", "[1, 2]", '{"dropbox": "id"}'])
async def test_a_malformed_secret_is_refused_not_guessed_at(aws: AwsClients, payload: str) -> None:
    name = f"lbtest/malformed-{abs(hash(payload))}"
    try:
        await aws.secrets.create_secret(Name=name, SecretString=payload)
    except aws.secrets.exceptions.ResourceExistsException:
        await aws.secrets.put_secret_value(SecretId=name, SecretString=payload)

    with pytest.raises(InfrastructureError, match="not a JSON object"):
        await secrets.platform_settings(aws.secrets, name)


async def test_a_missing_secret_is_an_infrastructure_error(aws: AwsClients) -> None:
    with pytest.raises(InfrastructureError, match="ResourceNotFoundException"):
        await secrets.platform_settings(aws.secrets, "lbtest/no-such-secret")
