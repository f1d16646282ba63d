"""The bootstrap against the session's moto stack, and against fresh prefixes of its own."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, cast

import pytest
from botocore.exceptions import ClientError

from listbackup import bootstrap as bootstrap_module
from listbackup import integrations
from listbackup.aws import AwsClients
from listbackup.bootstrap import BootstrapReport, bootstrap
from listbackup.config import Settings
from listbackup.resources import SPEC, Key, Queue, Table
from listbackup.store import Store

_QUEUES = {q.name: q for q in SPEC.queues}


def _fresh_settings(settings: Settings, label: str) -> Settings:
    # Not under the shared prefix, so the per-test wipe never touches these resources.
    prefix = f"lbtest-{label}-{uuid.uuid4().hex[:10]}"
    return settings.model_copy(update={"resource_prefix": prefix})


def _spec_resources(settings: Settings) -> list[str]:
    """What a report names for every resource of the spec, sorted."""
    names = settings.names
    resources = [f"table {names.table(t.name)}" for t in SPEC.tables]
    for queue in SPEC.queues:
        resources.append(f"queue {names.queue(queue)}")
        if queue.max_receive_count is not None:
            resources.append(f"queue {names.dead_letter_queue(queue)}")
    resources += [
        f"event bus {names.event_bus()}",
        f"bucket {settings.bucket}",
        f"kms key {names.kms_alias()}",
        f"email identity {settings.email_from}",
        f"user pool {names.user_pool()}",
        f"user pool client {names.user_pool_client()}",
    ]
    return sorted(resources)


def _key_schema(hash_key: Key, range_key: Key | None) -> list[dict[str, str]]:
    schema = [{"AttributeName": hash_key.name, "KeyType": "HASH"}]
    if range_key is not None:
        schema.append({"AttributeName": range_key.name, "KeyType": "RANGE"})
    return schema


async def _queue_attributes(clients: AwsClients, name: str) -> dict[str, str]:
    url = (await clients.sqs.get_queue_url(QueueName=name))["QueueUrl"]
    got = await clients.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])
    return {str(name): value for name, value in got["Attributes"].items()}


# --- the session stack: every resource of the spec, with the right shape -----------------


@pytest.mark.parametrize("table", SPEC.tables, ids=lambda t: t.name)
async def test_table_has_the_spec_keys_and_indexes(
    aws: AwsClients, settings: Settings, table: Table
) -> None:
    described = (await aws.dynamodb.describe_table(TableName=settings.names.table(table.name)))[
        "Table"
    ]

    assert described["TableStatus"] == "ACTIVE"
    assert described["KeySchema"] == _key_schema(table.hash_key, table.range_key)
    assert described.get("BillingModeSummary", {}).get("BillingMode") == "PAY_PER_REQUEST"
    gsis = {g["IndexName"]: g for g in described.get("GlobalSecondaryIndexes", [])}
    assert set(gsis) == {i.name for i in table.indexes}
    for index in table.indexes:
        assert gsis[index.name]["KeySchema"] == _key_schema(index.hash_key, index.range_key)
        assert gsis[index.name]["Projection"]["ProjectionType"] == index.projection
    declared = {a["AttributeName"]: a["AttributeType"] for a in described["AttributeDefinitions"]}
    keys = [table.hash_key, table.range_key]
    for index in table.indexes:
        keys += [index.hash_key, index.range_key]
    assert declared == {k.name: k.type for k in keys if k is not None}


@pytest.mark.parametrize("table", SPEC.tables, ids=lambda t: t.name)
async def test_table_ttl_is_enabled_only_where_the_spec_sets_it(
    aws: AwsClients, settings: Settings, table: Table
) -> None:
    ttl = await aws.dynamodb.describe_time_to_live(TableName=settings.names.table(table.name))

    description = ttl["TimeToLiveDescription"]
    if table.ttl_attribute is None:
        assert description.get("TimeToLiveStatus") in (None, "DISABLED")
    else:
        assert description.get("TimeToLiveStatus") in ("ENABLED", "ENABLING")
        assert description.get("AttributeName") == table.ttl_attribute


@pytest.mark.parametrize("table", SPEC.tables, ids=lambda t: t.name)
async def test_table_streams_only_where_the_spec_sets_it(
    aws: AwsClients, settings: Settings, table: Table
) -> None:
    described = (await aws.dynamodb.describe_table(TableName=settings.names.table(table.name)))[
        "Table"
    ]

    stream = described.get("StreamSpecification", {})
    if table.stream is None:
        assert not stream.get("StreamEnabled", False)
    else:
        assert stream == {"StreamEnabled": True, "StreamViewType": table.stream}
        assert described.get("LatestStreamArn")


@pytest.mark.parametrize("queue", SPEC.queues, ids=lambda q: q.name)
async def test_queue_has_the_spec_attributes(
    aws: AwsClients, settings: Settings, queue: Queue
) -> None:
    attrs = await _queue_attributes(aws, settings.names.queue(queue))

    assert attrs["VisibilityTimeout"] == str(queue.visibility_timeout)
    assert attrs["MessageRetentionPeriod"] == str(queue.retention_seconds)
    assert attrs["ReceiveMessageWaitTimeSeconds"] == str(queue.receive_wait_seconds)
    if queue.fifo:
        assert attrs["FifoQueue"] == "true"
        assert attrs["ContentBasedDeduplication"] == "true"
    else:
        assert attrs.get("FifoQueue", "false") == "false"


@pytest.mark.parametrize(
    "queue", [q for q in SPEC.queues if q.max_receive_count is not None], ids=lambda q: q.name
)
async def test_queue_redrives_into_its_dead_letter_queue(
    aws: AwsClients, settings: Settings, queue: Queue
) -> None:
    attrs = await _queue_attributes(aws, settings.names.queue(queue))
    dlq = await _queue_attributes(aws, settings.names.dead_letter_queue(queue))

    redrive = json.loads(attrs["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"] == dlq["QueueArn"]
    assert int(redrive["maxReceiveCount"]) == queue.max_receive_count
    assert dlq["MessageRetentionPeriod"] == str(queue.retention_seconds)
    assert dlq.get("FifoQueue", "false") == ("true" if queue.fifo else "false")
    assert "RedrivePolicy" not in dlq


async def test_event_bus_exists(aws: AwsClients, settings: Settings) -> None:
    bus = await aws.events.describe_event_bus(Name=settings.names.event_bus())

    assert bus["Name"] == settings.names.event_bus()
    assert bus["Arn"].endswith(f":event-bus/{settings.names.event_bus()}")


async def test_bucket_is_versioned_encrypted_private_and_tiered(
    aws: AwsClients, settings: Settings
) -> None:
    bucket = settings.bucket
    versioning = await aws.s3.get_bucket_versioning(Bucket=bucket)
    encryption = await aws.s3.get_bucket_encryption(Bucket=bucket)
    public = await aws.s3.get_public_access_block(Bucket=bucket)
    lifecycle = await aws.s3.get_bucket_lifecycle_configuration(Bucket=bucket)

    assert versioning.get("Status") == "Enabled"
    sse = encryption["ServerSideEncryptionConfiguration"]["Rules"]
    assert [r["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] for r in sse] == ["AES256"]
    assert public["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True,
    }
    (rule,) = lifecycle["Rules"]
    assert rule["Status"] == "Enabled"
    assert [(t.get("Days"), t.get("StorageClass")) for t in rule.get("Transitions", [])] == [
        (t.days, t.storage_class) for t in SPEC.bucket.transitions
    ]
    assert rule.get("NoncurrentVersionExpiration", {}).get("NoncurrentDays") == (
        SPEC.bucket.noncurrent_expiry_days
    )
    assert rule["AbortIncompleteMultipartUpload"] == {
        "DaysAfterInitiation": SPEC.bucket.abort_incomplete_upload_days
    }


async def test_kms_alias_resolves_to_a_rotating_symmetric_key(
    aws: AwsClients, settings: Settings
) -> None:
    alias = settings.names.kms_alias()
    key = (await aws.kms.describe_key(KeyId=alias))["KeyMetadata"]
    rotation = await aws.kms.get_key_rotation_status(KeyId=key["KeyId"])
    aliases = (await aws.kms.list_aliases(KeyId=key["KeyId"]))["Aliases"]

    assert key["Enabled"] is True
    assert key["KeyUsage"] == "ENCRYPT_DECRYPT"
    assert key.get("KeySpec") == "SYMMETRIC_DEFAULT"
    assert rotation["KeyRotationEnabled"] is True
    assert alias in [a.get("AliasName") for a in aliases]


async def test_user_pool_signs_in_by_email_with_a_strong_password_policy(
    aws: AwsClients, settings: Settings, stack: BootstrapReport
) -> None:
    pool = (await aws.cognito.describe_user_pool(UserPoolId=stack.user_pool_id))["UserPool"]

    assert settings.cognito_user_pool_id == stack.user_pool_id
    assert pool.get("Name") == settings.names.user_pool()
    assert pool.get("UsernameAttributes") == ["email"]
    assert pool.get("AutoVerifiedAttributes") == ["email"]
    assert pool.get("MfaConfiguration") == SPEC.user_pool.mfa
    policy = pool.get("Policies", {}).get("PasswordPolicy", {})
    assert policy.get("MinimumLength") == SPEC.user_pool.password_min_length
    assert policy.get("RequireUppercase") is True
    assert policy.get("RequireLowercase") is True
    assert policy.get("RequireNumbers") is True
    assert policy.get("RequireSymbols") is True


async def test_app_client_is_public_with_the_spec_auth_flows(
    aws: AwsClients, settings: Settings, stack: BootstrapReport
) -> None:
    client = (
        await aws.cognito.describe_user_pool_client(
            UserPoolId=stack.user_pool_id, ClientId=stack.user_pool_client_id
        )
    )["UserPoolClient"]

    assert settings.cognito_client_id == stack.user_pool_client_id
    assert client.get("ClientName") == settings.names.user_pool_client()
    assert "ClientSecret" not in client
    assert sorted(client.get("ExplicitAuthFlows", [])) == sorted(SPEC.user_pool.auth_flows)
    assert client.get("AccessTokenValidity") == SPEC.user_pool.access_token_minutes
    assert client.get("IdTokenValidity") == SPEC.user_pool.id_token_minutes
    assert client.get("RefreshTokenValidity") == SPEC.user_pool.refresh_token_days
    assert client.get("PreventUserExistenceErrors") == "ENABLED"


async def test_platform_catalogue_is_seeded(aws: AwsClients, settings: Settings) -> None:
    listed = await Store.create(aws, settings.names).platforms.list()

    assert {p.slug for p in listed} == set(integrations.REGISTRY)


# --- idempotence ----------------------------------------------------------------------------


async def test_second_bootstrap_creates_nothing_and_keeps_the_ids(
    aws: AwsClients, settings: Settings, stack: BootstrapReport
) -> None:
    again = await bootstrap(aws, settings)

    assert again.created == []
    assert sorted(again.existing) == _spec_resources(settings)
    assert again.user_pool_id == stack.user_pool_id
    assert again.user_pool_client_id == stack.user_pool_client_id


@dataclass
class FreshStack:
    settings: Settings
    first: BootstrapReport
    second: BootstrapReport


@pytest.fixture(scope="module")
async def fresh_stack(clients: AwsClients, settings: Settings) -> FreshStack:
    fresh = _fresh_settings(settings, "fresh")
    first = await bootstrap(clients, fresh)
    second = await bootstrap(clients, fresh)
    return FreshStack(fresh, first, second)


@pytest.mark.slow
async def test_bootstrap_under_a_fresh_prefix_creates_every_resource(
    fresh_stack: FreshStack,
) -> None:
    first = fresh_stack.first
    # The sender address is account-wide, not per prefix: the session stack verified it.
    shared = [f"email identity {fresh_stack.settings.email_from}"]

    assert sorted(first.created + shared) == _spec_resources(fresh_stack.settings)
    assert len(first.created) == len(set(first.created))
    assert first.existing == shared
    assert first.user_pool_id
    assert first.user_pool_client_id


@pytest.mark.slow
async def test_bootstrap_under_a_fresh_prefix_creates_nothing_the_second_time(
    fresh_stack: FreshStack,
) -> None:
    second = fresh_stack.second

    assert second.created == []
    assert sorted(second.existing) == _spec_resources(fresh_stack.settings)
    assert second.user_pool_id == fresh_stack.first.user_pool_id
    assert second.user_pool_client_id == fresh_stack.first.user_pool_client_id


@pytest.mark.slow
async def test_fresh_stack_is_separate_from_the_session_stack(
    fresh_stack: FreshStack, settings: Settings, stack: BootstrapReport
) -> None:
    assert fresh_stack.first.user_pool_id != stack.user_pool_id
    assert fresh_stack.settings.bucket != settings.bucket
    assert not set(fresh_stack.first.created) & set(_spec_resources(settings))


@pytest.mark.slow
async def test_fresh_stack_seeds_the_whole_catalogue(
    clients: AwsClients, fresh_stack: FreshStack
) -> None:
    store = Store.create(clients, fresh_stack.settings.names).platforms
    registry = sorted(
        (i.platform for i in integrations.REGISTRY.values()),
        key=lambda p: (p.name.casefold(), p.slug),
    )

    assert await store.list() == registry


@pytest.mark.slow
async def test_bootstrap_recreates_a_deleted_queue_and_only_that(
    clients: AwsClients, settings: Settings
) -> None:
    fresh = _fresh_settings(settings, "requeue")
    await bootstrap(clients, fresh)
    queue = _QUEUES["sync"]
    url = (await clients.sqs.get_queue_url(QueueName=fresh.names.queue(queue)))["QueueUrl"]
    await clients.sqs.delete_queue(QueueUrl=url)

    again = await bootstrap(clients, fresh)

    assert again.created == [f"queue {fresh.names.queue(queue)}"]
    attrs = await _queue_attributes(clients, fresh.names.queue(queue))
    dlq = await _queue_attributes(clients, fresh.names.dead_letter_queue(queue))
    assert json.loads(attrs["RedrivePolicy"])["deadLetterTargetArn"] == dlq["QueueArn"]


# --- waiting for tables, as real DynamoDB needs -----------------------------------------


@dataclass
class _DynamoDB:
    """DynamoDB as far as creating one table goes, with the statuses real DynamoDB gives."""

    existing_status: str | None
    created_status: str
    waited_for: list[str] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)

    async def describe_table(self, TableName: str) -> dict[str, Any]:
        self.calls.append("DescribeTable")
        if self.existing_status is None:
            raise ClientError({"Error": {"Code": "ResourceNotFoundException"}}, "DescribeTable")
        return {"Table": {"TableStatus": self.existing_status}}

    async def create_table(self, **definition: Any) -> dict[str, Any]:
        self.calls.append("CreateTable")
        return {"TableDescription": {"TableStatus": self.created_status}}

    def get_waiter(self, name: str) -> Any:
        async def wait(TableName: str, WaiterConfig: dict[str, int]) -> None:
            assert name == "table_exists"
            self.waited_for.append(TableName)

        return SimpleNamespace(wait=wait)

    async def describe_time_to_live(self, TableName: str) -> dict[str, Any]:
        self.calls.append("DescribeTimeToLive")
        return {"TimeToLiveDescription": {"TimeToLiveStatus": "ENABLED"}}

    async def update_time_to_live(self, **update: Any) -> None:
        self.calls.append("UpdateTimeToLive")


_TTL_TABLE = next(t for t in SPEC.tables if t.ttl_attribute)


@pytest.mark.parametrize(
    ("existing_status", "created_status", "waits"),
    [
        (None, "CREATING", True),  # DynamoDB
        (None, "ACTIVE", False),  # moto
        ("CREATING", "", True),  # a bootstrap cut short
        ("ACTIVE", "", False),
    ],
    ids=["created-creating", "created-active", "found-creating", "found-active"],
)
async def test_a_table_is_waited_for_only_until_it_is_active(
    base_settings: Settings, existing_status: str | None, created_status: str, waits: bool
) -> None:
    dynamodb = _DynamoDB(existing_status, created_status)
    clients = cast("AwsClients", SimpleNamespace(dynamodb=dynamodb))
    name = base_settings.names.table(_TTL_TABLE.name)

    await bootstrap_module._table(clients, base_settings.names, _TTL_TABLE, BootstrapReport())

    assert dynamodb.waited_for == ([name] if waits else [])
    # A table just created has no TTL yet: no need to ask before setting it.
    assert ("DescribeTimeToLive" in dynamodb.calls) is (existing_status is not None)
