"""One aioboto3 session per process and long-lived clients, entered once and injected.

Endpoints come from the standard ``AWS_ENDPOINT_URL`` / ``AWS_ENDPOINT_URL_<SERVICE>``
variables, so the embedded moto stack and real AWS run the same code.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

import aioboto3
from aiobotocore.config import AioConfig
from botocore.exceptions import BotoCoreError, ClientError

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

_CONFIG = AioConfig(
    retries={"mode": "standard", "max_attempts": 3},
    connect_timeout=3,
    read_timeout=20,
    max_pool_connections=64,
)


_S3V4 = AioConfig(signature_version="s3v4")


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
