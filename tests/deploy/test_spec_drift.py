"""The template holds exactly what the resource spec names: every table, queue, rule,
the bucket, the user pool and the key alias, read from SPEC (never listed here)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from listbackup.resources import SPEC, Index, Key, Queue, Table
from tests.deploy.conftest import NAMES, Synth, render, synthesize

_QUEUES = {q.name: q for q in SPEC.queues}


def _by(items: dict[str, dict[str, Any]], field: str) -> dict[str, tuple[str, dict[str, Any]]]:
    return {props[field]: (logical_id, props) for logical_id, props in items.items()}


def _key_schema(hash_key: Key, range_key: Key | None) -> list[dict[str, str]]:
    schema = [{"AttributeName": hash_key.name, "KeyType": "HASH"}]
    if range_key:
        schema.append({"AttributeName": range_key.name, "KeyType": "RANGE"})
    return schema


def _table(synth: Synth, table: Table) -> dict[str, Any]:
    return _by(synth.resources("data", "AWS::DynamoDB::Table"), "TableName")[
        NAMES.table(table.name)
    ][1]


def test_the_template_has_exactly_the_spec_tables(synth: Synth) -> None:
    tables = _by(synth.resources("data", "AWS::DynamoDB::Table"), "TableName")
    assert set(tables) == {NAMES.table(t.name) for t in SPEC.tables}


@pytest.mark.parametrize("table", SPEC.tables, ids=lambda t: t.name)
def test_table_keys_indexes_ttl_and_stream_match_the_spec(synth: Synth, table: Table) -> None:
    props = _table(synth, table)

    assert props["KeySchema"] == _key_schema(table.hash_key, table.range_key)
    keys: list[Key | None] = [table.hash_key, table.range_key]
    for index in table.indexes:
        keys += [index.hash_key, index.range_key]
    assert sorted(props["AttributeDefinitions"], key=lambda a: a["AttributeName"]) == [
        {"AttributeName": name, "AttributeType": kind}
        for name, kind in sorted({k.name: k.type for k in keys if k}.items())
    ]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    expected_indexes = {
        index.name: (_key_schema(index.hash_key, index.range_key), index.projection)
        for index in table.indexes
    }
    assert {
        gsi["IndexName"]: (gsi["KeySchema"], gsi["Projection"]["ProjectionType"])
        for gsi in props.get("GlobalSecondaryIndexes", [])
    } == expected_indexes
    if table.ttl_attribute:
        assert props["TimeToLiveSpecification"] == {
            "AttributeName": table.ttl_attribute,
            "Enabled": True,
        }
    else:
        assert "TimeToLiveSpecification" not in props
    if table.stream:
        assert props["StreamSpecification"] == {"StreamViewType": table.stream}
    else:
        assert "StreamSpecification" not in props


@pytest.mark.parametrize("table", SPEC.tables, ids=lambda t: t.name)
def test_production_tables_have_point_in_time_recovery_and_deletion_protection(
    synth: Synth, table: Table
) -> None:
    props = _table(synth, table)

    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert props["DeletionProtectionEnabled"] is True


def _queues(synth: Synth) -> dict[str, tuple[str, dict[str, Any]]]:
    return _by(synth.resources("messaging", "AWS::SQS::Queue"), "QueueName")


def test_the_template_has_exactly_the_spec_queues_and_their_dead_letter_queues(
    synth: Synth,
) -> None:
    expected = {NAMES.queue(q) for q in SPEC.queues} | {
        NAMES.dead_letter_queue(q) for q in SPEC.queues if q.max_receive_count is not None
    }
    assert set(_queues(synth)) == expected


@pytest.mark.parametrize("queue", SPEC.queues, ids=lambda q: q.name)
def test_queue_settings_and_redrive_match_the_spec(synth: Synth, queue: Queue) -> None:
    queues = _queues(synth)
    props = queues[NAMES.queue(queue)][1]

    assert props.get("FifoQueue", False) is queue.fifo
    assert props["VisibilityTimeout"] == queue.visibility_timeout
    assert props["MessageRetentionPeriod"] == queue.retention_seconds
    assert props["ReceiveMessageWaitTimeSeconds"] == queue.receive_wait_seconds
    if queue.fifo:
        assert props["ContentBasedDeduplication"] is True
    if queue.max_receive_count is None:
        assert "RedrivePolicy" not in props
        return
    dlq_id, dlq = queues[NAMES.dead_letter_queue(queue)]
    assert props["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": [dlq_id, "Arn"]},
        "maxReceiveCount": queue.max_receive_count,
    }
    assert dlq.get("FifoQueue", False) is queue.fifo
    assert dlq["MessageRetentionPeriod"] == queue.retention_seconds


def test_the_event_bus_is_the_spec_bus(synth: Synth) -> None:
    buses = synth.resources("messaging", "AWS::Events::EventBus")
    assert [props["Name"] for props in buses.values()] == [NAMES.event_bus()]


def test_the_bus_has_no_rules_of_its_own(synth: Synth) -> None:
    """The live fan-out's rules are each API process's own; nothing else reads the bus."""
    assert synth.resources("messaging", "AWS::Events::Rule") == {}


def test_the_bucket_matches_the_spec(synth: Synth) -> None:
    (props,) = synth.resources("data", "AWS::S3::Bucket").values()
    spec = SPEC.bucket

    assert props["BucketName"] == NAMES.bucket_name
    assert props["VersioningConfiguration"] == {
        "Status": "Enabled" if spec.versioned else "Suspended"
    }
    (rule,) = props["LifecycleConfiguration"]["Rules"]
    assert rule["Status"] == "Enabled"
    assert rule["Transitions"] == [
        {"StorageClass": t.storage_class, "TransitionInDays": t.days} for t in spec.transitions
    ]
    assert rule.get("NoncurrentVersionExpiration") == (
        {"NoncurrentDays": spec.noncurrent_expiry_days} if spec.noncurrent_expiry_days else None
    )
    assert rule["AbortIncompleteMultipartUpload"] == {
        "DaysAfterInitiation": spec.abort_incomplete_upload_days
    }
    (encryption,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert encryption["BucketKeyEnabled"] is True
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }


_MINUTES = {"minutes": 1, "hours": 60, "days": 1440}


def test_the_user_pool_and_client_match_the_spec(synth: Synth) -> None:
    spec = SPEC.user_pool
    (pool,) = synth.resources("identity", "AWS::Cognito::UserPool").values()
    (client,) = synth.resources("identity", "AWS::Cognito::UserPoolClient").values()

    assert pool["UserPoolName"] == NAMES.user_pool()
    assert pool["UsernameAttributes"] == ["email"]
    assert pool["MfaConfiguration"] == spec.mfa
    password = pool["Policies"]["PasswordPolicy"]
    assert password["MinimumLength"] == spec.password_min_length
    assert all(
        password[f"Require{kind}"] for kind in ("Uppercase", "Lowercase", "Numbers", "Symbols")
    )
    assert client["ClientName"] == NAMES.user_pool_client()
    assert client["GenerateSecret"] is False
    assert set(client["ExplicitAuthFlows"]) == set(spec.auth_flows)
    units = client["TokenValidityUnits"]
    assert (
        client["AccessTokenValidity"] * _MINUTES[units["AccessToken"]] == spec.access_token_minutes
    )
    assert client["IdTokenValidity"] * _MINUTES[units["IdToken"]] == spec.id_token_minutes
    assert (
        client["RefreshTokenValidity"] * _MINUTES[units["RefreshToken"]]
        == spec.refresh_token_days * 1440
    )
    assert client["PreventUserExistenceErrors"] == "ENABLED"
    assert client["EnableTokenRevocation"] is True


def test_the_credentials_key_has_the_spec_alias_and_rotates(synth: Synth) -> None:
    aliases = _by(synth.resources("data", "AWS::KMS::Alias"), "AliasName")
    _, alias = aliases[NAMES.kms_alias()]
    key_id = alias["TargetKeyId"]["Fn::GetAtt"][0]

    assert synth.resources("data", "AWS::KMS::Key")[key_id]["EnableKeyRotation"] is True


def test_a_table_added_to_the_spec_reaches_the_template_and_the_api_role(
    tmp_path: Path,
) -> None:
    audit = Table(
        "audit-log",
        Key("accountId"),
        Key("at", "N"),
        indexes=(Index("actor-index", Key("actorId"), Key("at", "N")),),
        ttl_attribute="purgeAt",
    )
    spec = dataclasses.replace(SPEC, tables=(*SPEC.tables, audit))

    modified = synthesize(tmp_path, spec=spec)

    props = _table(modified, audit)
    assert props["KeySchema"] == _key_schema(audit.hash_key, audit.range_key)
    assert [gsi["IndexName"] for gsi in props["GlobalSecondaryIndexes"]] == ["actor-index"]
    assert props["TimeToLiveSpecification"]["AttributeName"] == "purgeAt"
    api_policy = render(
        [
            p["PolicyDocument"]
            for logical_id, p in modified.resources("service", "AWS::IAM::Policy").items()
            if logical_id.startswith("ApiTaskTaskRole")
        ]
    )
    assert "AuditLogTable" in api_policy
    # Every table's alarms come from the spec too.
    alarms = {
        p["AlarmName"] for p in modified.resources("monitoring", "AWS::CloudWatch::Alarm").values()
    }
    assert f"{NAMES.prefix}-AuditLogThrottles" in alarms
