"""Create whatever the resource spec names and the account lacks; change nothing else.

Used by ``listbackup dev`` against the embedded moto stack and by ``listbackup bootstrap``
for a quick non-CDK setup in a real account. Running it twice changes nothing.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar, cast

from botocore.exceptions import ClientError

from listbackup import integrations
from listbackup.aws import AwsClients, error_code
from listbackup.config import Settings
from listbackup.resources import SPEC, Key, Names, Queue, Table
from listbackup.store import Store

if TYPE_CHECKING:
    from types_aiobotocore_cognito_idp.literals import ExplicitAuthFlowsTypeType
    from types_aiobotocore_dynamodb import DynamoDBClient
    from types_aiobotocore_s3.type_defs import LifecycleRuleTypeDef
    from types_aiobotocore_sqs.literals import QueueAttributeNameType

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class BootstrapReport:
    created: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    user_pool_id: str = ""
    user_pool_client_id: str = ""

    def note(self, resource: str, created: bool) -> None:
        (self.created if created else self.existing).append(resource)


async def bootstrap(clients: AwsClients, settings: Settings) -> BootstrapReport:
    """Bring the account up to the spec, then seed the platform catalogue."""
    names = settings.names
    report = BootstrapReport()
    # The groups are independent, so they run at once: `listbackup dev` waits for the
    # slowest group, not for the sum of all their calls. Inside a group, what needs
    # another resource waits for it.
    await _concurrently(
        _tables_and_catalogue(clients, names, report),
        _messaging(clients, names, report),
        _bucket(clients, settings, report),
        _kms_key(clients, names, report),
        _email_sender(clients, settings, report),
        _user_pool(clients, names, report),
    )
    return report


async def _concurrently(*steps: Coroutine[Any, Any, T]) -> list[T]:
    """Run the steps at once and return their results in order. The first failure cancels
    the others (no call is left running on clients about to close) and is raised as
    itself: the steps usually fail for one cause (credentials, region, permissions), which
    reads better alone than wrapped in a group at every level."""
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(step) for step in steps]
    except ExceptionGroup as failed:
        raise failed.exceptions[0] from None
    return [task.result() for task in tasks]


async def _tables_and_catalogue(clients: AwsClients, names: Names, report: BootstrapReport) -> None:
    await _concurrently(*(_table(clients, names, t, report) for t in SPEC.tables))
    await Store.create(clients, names).platforms.replace_all(
        integration.platform for integration in integrations.REGISTRY.values()
    )


async def _messaging(clients: AwsClients, names: Names, report: BootstrapReport) -> None:
    """The job queues (with their dead-letter queues) and the bus. The live fan-out's
    per-process queues and rules are each API process's own (adapters/fanout.py)."""
    await _concurrently(
        *(_queue(clients, names, q, report) for q in SPEC.queues),
        _event_bus(clients, names, report),
    )


async def _table(clients: AwsClients, names: Names, table: Table, report: BootstrapReport) -> None:
    ddb = clients.dynamodb
    name = names.table(table.name)
    try:
        status = (await ddb.describe_table(TableName=name))["Table"].get("TableStatus")
        created = False
    except ClientError as exc:
        if error_code(exc) != "ResourceNotFoundException":
            raise
        created_table = await ddb.create_table(**_table_definition(table, name))
        status = created_table["TableDescription"].get("TableStatus")
        created = True
    if status != "ACTIVE":
        # DynamoDB creates (and updates) a table in the background, and its TTL can be set
        # only once it is ACTIVE. moto's tables are ACTIVE at once: no waiting there.
        await ddb.get_waiter("table_exists").wait(
            TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 120}
        )
    if table.ttl_attribute and (created or not await _ttl_enabled(ddb, name)):
        await ddb.update_time_to_live(
            TableName=name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": table.ttl_attribute},
        )
    report.note(f"table {name}", created)


async def _ttl_enabled(ddb: DynamoDBClient, name: str) -> bool:
    ttl = await ddb.describe_time_to_live(TableName=name)
    return ttl["TimeToLiveDescription"].get("TimeToLiveStatus") in ("ENABLED", "ENABLING")


def _table_definition(table: Table, name: str) -> dict[str, Any]:
    keys = [table.hash_key, table.range_key]
    for index in table.indexes:
        keys += [index.hash_key, index.range_key]
    attributes = {k.name: k.type for k in keys if k is not None}
    definition: dict[str, Any] = {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": n, "AttributeType": t} for n, t in sorted(attributes.items())
        ],
        "KeySchema": _key_schema(table.hash_key, table.range_key),
    }
    if table.indexes:
        definition["GlobalSecondaryIndexes"] = [
            {
                "IndexName": index.name,
                "KeySchema": _key_schema(index.hash_key, index.range_key),
                "Projection": {"ProjectionType": index.projection},
            }
            for index in table.indexes
        ]
    if table.stream:
        definition["StreamSpecification"] = {
            "StreamEnabled": True,
            "StreamViewType": table.stream,
        }
    return definition


def _key_schema(hash_key: Key, range_key: Key | None) -> list[dict[str, str]]:
    schema = [{"AttributeName": hash_key.name, "KeyType": "HASH"}]
    if range_key:
        schema.append({"AttributeName": range_key.name, "KeyType": "RANGE"})
    return schema


async def _queue(clients: AwsClients, names: Names, queue: Queue, report: BootstrapReport) -> None:
    """Ensure the queue (and its dead-letter queue, with the redrive to it)."""
    attributes: dict[QueueAttributeNameType, str] = {
        "VisibilityTimeout": str(queue.visibility_timeout),
        "MessageRetentionPeriod": str(queue.retention_seconds),
        "ReceiveMessageWaitTimeSeconds": str(queue.receive_wait_seconds),
    }
    if queue.fifo:
        attributes |= {"FifoQueue": "true", "ContentBasedDeduplication": "true"}
    if queue.max_receive_count is not None:
        dlq_attributes: dict[QueueAttributeNameType, str] = {
            "MessageRetentionPeriod": str(queue.retention_seconds)
        }
        if queue.fifo:
            dlq_attributes["FifoQueue"] = "true"
        dlq_arn = await _ensure_queue(
            clients, names.dead_letter_queue(queue), dlq_attributes, report
        )
        attributes["RedrivePolicy"] = json.dumps(
            {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": queue.max_receive_count}
        )
    await _ensure_queue(clients, names.queue(queue), attributes, report)


async def _ensure_queue(
    clients: AwsClients,
    name: str,
    attributes: dict[QueueAttributeNameType, str],
    report: BootstrapReport,
) -> str:
    sqs = clients.sqs
    try:
        url = (await sqs.get_queue_url(QueueName=name))["QueueUrl"]
        created = False
    except ClientError as exc:
        if error_code(exc) not in ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"):
            raise
        url = (await sqs.create_queue(QueueName=name, Attributes=attributes))["QueueUrl"]
        created = True
    got = await sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    report.note(f"queue {name}", created)
    return got["Attributes"]["QueueArn"]


async def _event_bus(clients: AwsClients, names: Names, report: BootstrapReport) -> None:
    events = clients.events
    name = names.event_bus()
    try:
        await events.describe_event_bus(Name=name)
        created = False
    except ClientError as exc:
        if error_code(exc) != "ResourceNotFoundException":
            raise
        await events.create_event_bus(Name=name)
        created = True
    report.note(f"event bus {name}", created)


async def _bucket(clients: AwsClients, settings: Settings, report: BootstrapReport) -> None:
    s3 = clients.s3
    name = settings.bucket
    spec = SPEC.bucket
    try:
        await s3.head_bucket(Bucket=name)
        report.note(f"bucket {name}", created=False)
        return
    except ClientError as exc:
        if error_code(exc) not in ("404", "NoSuchBucket", "NotFound"):
            raise
    create: dict[str, Any] = {"Bucket": name}
    if settings.region != "us-east-1":
        create["CreateBucketConfiguration"] = {"LocationConstraint": settings.region}
    await s3.create_bucket(**create)
    await s3.put_public_access_block(
        Bucket=name,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    await s3.put_bucket_encryption(
        Bucket=name,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    if spec.versioned:
        await s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    lifecycle: LifecycleRuleTypeDef = {
        "ID": "tiering",
        "Status": "Enabled",
        "Filter": {"Prefix": ""},
        "Transitions": [
            {"Days": t.days, "StorageClass": t.storage_class} for t in spec.transitions
        ],
    }
    if spec.noncurrent_expiry_days:
        lifecycle["NoncurrentVersionExpiration"] = {"NoncurrentDays": spec.noncurrent_expiry_days}
    if spec.abort_incomplete_upload_days:
        lifecycle["AbortIncompleteMultipartUpload"] = {
            "DaysAfterInitiation": spec.abort_incomplete_upload_days
        }
    await s3.put_bucket_lifecycle_configuration(
        Bucket=name, LifecycleConfiguration={"Rules": [lifecycle]}
    )
    report.note(f"bucket {name}", created=True)


async def _email_sender(clients: AwsClients, settings: Settings, report: BootstrapReport) -> None:
    """Ask SES to verify the sender address (real SES emails a link to it)."""
    identity = settings.email_from
    found = await clients.ses.get_identity_verification_attributes(Identities=[identity])
    exists = identity in found.get("VerificationAttributes", {})
    if not exists:
        await clients.ses.verify_email_identity(EmailAddress=identity)
    report.note(f"email identity {identity}", created=not exists)


async def _kms_key(clients: AwsClients, names: Names, report: BootstrapReport) -> None:
    kms = clients.kms
    alias = names.kms_alias()
    try:
        await kms.describe_key(KeyId=alias)
        report.note(f"kms key {alias}", created=False)
        return
    except ClientError as exc:
        if error_code(exc) != "NotFoundException":
            raise
    key = await kms.create_key(
        Description=f"{names.prefix}: envelope encryption of platform credentials",
        KeyUsage="ENCRYPT_DECRYPT",
        KeySpec="SYMMETRIC_DEFAULT",
    )
    key_id = key["KeyMetadata"]["KeyId"]
    await kms.enable_key_rotation(KeyId=key_id)
    await kms.create_alias(AliasName=alias, TargetKeyId=key_id)
    report.note(f"kms key {alias}", created=True)


async def _user_pool(clients: AwsClients, names: Names, report: BootstrapReport) -> None:
    cognito = clients.cognito
    spec = SPEC.user_pool
    pool_name = names.user_pool()
    pool_id = await _find_user_pool(clients, pool_name)
    report.note(f"user pool {pool_name}", created=pool_id is None)
    if pool_id is None:
        pool = await cognito.create_user_pool(
            PoolName=pool_name,
            UsernameAttributes=["email"],
            AutoVerifiedAttributes=["email"],
            MfaConfiguration=spec.mfa,
            Policies={
                "PasswordPolicy": {
                    "MinimumLength": spec.password_min_length,
                    "RequireUppercase": True,
                    "RequireLowercase": True,
                    "RequireNumbers": True,
                    "RequireSymbols": True,
                }
            },
            AccountRecoverySetting={
                "RecoveryMechanisms": [{"Priority": 1, "Name": "verified_email"}]
            },
            Schema=[
                {"Name": "email", "AttributeDataType": "String", "Required": True},
                {"Name": "name", "AttributeDataType": "String", "Mutable": True},
            ],
        )
        pool_id = pool["UserPool"]["Id"]
        if spec.mfa != "OFF":
            await cognito.set_user_pool_mfa_config(
                UserPoolId=pool_id,
                SoftwareTokenMfaConfiguration={"Enabled": True},
                MfaConfiguration=spec.mfa,
            )
    client_name = names.user_pool_client()
    client_id = await _find_user_pool_client(clients, pool_id, client_name)
    report.note(f"user pool client {client_name}", created=client_id is None)
    if client_id is None:
        client = await cognito.create_user_pool_client(
            UserPoolId=pool_id,
            ClientName=client_name,
            GenerateSecret=False,
            ExplicitAuthFlows=cast("list[ExplicitAuthFlowsTypeType]", list(spec.auth_flows)),
            AccessTokenValidity=spec.access_token_minutes,
            IdTokenValidity=spec.id_token_minutes,
            RefreshTokenValidity=spec.refresh_token_days,
            TokenValidityUnits={
                "AccessToken": "minutes",
                "IdToken": "minutes",
                "RefreshToken": "days",
            },
            PreventUserExistenceErrors="ENABLED",
            EnableTokenRevocation=True,
        )
        client_id = client["UserPoolClient"]["ClientId"]
    report.user_pool_id = pool_id
    report.user_pool_client_id = client_id


async def _find_user_pool(clients: AwsClients, name: str) -> str | None:
    paginator = clients.cognito.get_paginator("list_user_pools")
    async for page in paginator.paginate(PaginationConfig={"PageSize": 60}):
        for pool in page.get("UserPools", []):
            if pool.get("Name") == name:
                return pool["Id"]
    return None


async def _find_user_pool_client(clients: AwsClients, pool_id: str, name: str) -> str | None:
    paginator = clients.cognito.get_paginator("list_user_pool_clients")
    async for page in paginator.paginate(UserPoolId=pool_id, PaginationConfig={"PageSize": 60}):
        for client in page.get("UserPoolClients", []):
            if client.get("ClientName") == name:
                return client["ClientId"]
    return None
