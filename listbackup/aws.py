"""One aioboto3 session per process and long-lived clients, entered once and injected.

Endpoints come from the standard ``AWS_ENDPOINT_URL`` / ``AWS_ENDPOINT_URL_<SERVICE>``
variables, so the embedded moto stack and real AWS run the same code.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, Self

import aioboto3
import aiohttp
from aiobotocore.config import AioConfig
from aiobotocore.httpsession import AIOHTTPSession
from botocore.exceptions import BotoCoreError, ClientError
from botocore.httpsession import create_urllib3_context, get_cert_path

from listbackup import metrics
from listbackup.config import Settings

if TYPE_CHECKING:
    from types_aiobotocore_cognito_idp import CognitoIdentityProviderClient
    from types_aiobotocore_dynamodb import DynamoDBClient
    from types_aiobotocore_events import EventBridgeClient
    from types_aiobotocore_kms import KMSClient
    from types_aiobotocore_s3 import S3Client
    from types_aiobotocore_secretsmanager import SecretsManagerClient
    from types_aiobotocore_ses import SESClient
    from types_aiobotocore_sqs import SQSClient


class _HttpSession(AIOHTTPSession):
    """aiobotocore's HTTP session, with one TLS context per CA bundle for the process.

    aiobotocore builds a context for each client and loads the CA bundle into it on the
    client's first call: 30 to 60 ms of CPU each time, on the event loop
    (aio-libs/aiobotocore#1469), for eight clients a process (sixteen in `listbackup dev`,
    whose bootstrap has clients of its own). Clients that verify with the same bundle
    share one context instead, loaded once, off the loop, as the first client is entered.
    With a client certificate or a proxy, the connection is aiobotocore's as before.
    """

    # Set by aiobotocore's __init__; its type stubs leave them out.
    _verify: bool | str
    _cert_file: str | None
    _max_pool_connections: int
    _connector_args: dict[str, Any]

    async def __aenter__(self) -> Self:
        if self._verify and not self._cert_file:
            await asyncio.to_thread(_tls_context, self._ca_bundle())
        return await super().__aenter__()

    def _ca_bundle(self) -> str:
        """The bundle ``verify`` names (AWS_CA_BUNDLE, say), or botocore's default one."""
        if isinstance(self._verify, str):
            return self._verify
        return str(get_cert_path(True))

    def _create_connector(self, proxy_url: str | None) -> aiohttp.TCPConnector:
        if not self._verify or self._cert_file or proxy_url:
            connector: aiohttp.TCPConnector = super()._create_connector(proxy_url)  # type: ignore[misc]
            return connector
        return aiohttp.TCPConnector(
            limit=self._max_pool_connections,
            ssl=_tls_context(self._ca_bundle()),
            **self._connector_args,
        )


@cache
def _tls_context(ca_bundle: str) -> ssl.SSLContext:
    """The context aiobotocore builds for a client verifying with ``ca_bundle``."""
    context: ssl.SSLContext = create_urllib3_context()
    context.load_verify_locations(ca_bundle, None, None)
    return context


_CONFIG = AioConfig(
    retries={"mode": "standard", "max_attempts": 3},
    connect_timeout=3,
    read_timeout=20,
    max_pool_connections=64,
    http_session_cls=_HttpSession,
)


# merge() would drop http_session_cls: name it again.
_S3V4 = AioConfig(signature_version="s3v4", http_session_cls=_HttpSession)


@dataclass(frozen=True, slots=True)
class AwsClients:
    dynamodb: DynamoDBClient
    s3: S3Client
    sqs: SQSClient
    events: EventBridgeClient
    cognito: CognitoIdentityProviderClient
    kms: KMSClient
    secrets: SecretsManagerClient
    ses: SESClient


def error_code(exc: ClientError | BotoCoreError) -> str:
    """The AWS error code of a failed call: never its message, which may quote our input."""
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return type(exc).__name__


@cache
def _session(region: str) -> aioboto3.Session:
    """The process's one session: it caches service models, so clients are cheap to make."""
    return aioboto3.Session(region_name=region)


@asynccontextmanager
async def open_clients(settings: Settings) -> AsyncIterator[AwsClients]:
    """Create the process's long-lived clients; close them all on exit."""
    session = _session(settings.region)
    async with AsyncExitStack() as stack:
        enter = stack.enter_async_context
        clients = AwsClients(
            dynamodb=await enter(session.client("dynamodb", config=_CONFIG)),
            # Presigned download links must be SigV4 (the only kind S3 takes everywhere).
            s3=await enter(session.client("s3", config=_CONFIG.merge(_S3V4))),
            sqs=await enter(session.client("sqs", config=_CONFIG)),
            events=await enter(session.client("events", config=_CONFIG)),
            cognito=await enter(session.client("cognito-idp", config=_CONFIG)),
            kms=await enter(session.client("kms", config=_CONFIG)),
            secrets=await enter(session.client("secretsmanager", config=_CONFIG)),
            ses=await enter(session.client("ses", config=_CONFIG)),
        )
        clients.dynamodb.meta.events.register("before-call.dynamodb", metrics.count_call)
        yield clients
