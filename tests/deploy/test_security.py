"""Security posture: least-privilege IAM, TLS-only bucket, WAF, HTTPS-only listener."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from deploy.stacks import permissions, waf
from listbackup.resources import SPEC
from tests.deploy.conftest import CONFIG, NAMES, PARTS, Synth, render

DATA_SERVICES = ("dynamodb", "s3", "sqs", "kms", "secretsmanager", "events", "cognito-idp", "ses")
#: Actions IAM cannot scope to a resource; nothing else may be granted on "*".
UNSCOPABLE = {"sqs:ListQueues", "ecr:GetAuthorizationToken"}


def _listify(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _identity_statements(synth: Synth) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every statement of every identity policy (roles' inline, policies, managed)."""
    for part in PARTS:
        for kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            for logical_id, props in synth.resources(part, kind).items():
                for statement in props["PolicyDocument"]["Statement"]:
                    yield logical_id, statement
        for logical_id, props in synth.resources(part, "AWS::IAM::Role").items():
            for policy in props.get("Policies", []):
                for statement in policy["PolicyDocument"]["Statement"]:
                    yield logical_id, statement


def _role_statements(synth: Synth, role_prefix: str) -> list[dict[str, Any]]:
    return [
        statement
        for logical_id, props in synth.resources("service", "AWS::IAM::Policy").items()
        if logical_id.startswith(role_prefix)
        for statement in props["PolicyDocument"]["Statement"]
    ]


def _actions(statements: list[dict[str, Any]]) -> set[str]:
    return {action for s in statements for action in _listify(s["Action"])}


def test_no_identity_policy_grants_every_action_or_every_action_of_a_service(
    synth: Synth,
) -> None:
    offending = [
        (logical_id, action)
        for logical_id, statement in _identity_statements(synth)
        if statement["Effect"] == "Allow"
        for action in _listify(statement["Action"])
        if action == "*" or re.fullmatch(r"[a-z0-9-]+:\*", action)
    ]
    assert offending == []


def test_data_actions_are_named_exactly_and_scoped_to_resources(synth: Synth) -> None:
    wildcards, unscoped = [], []
    for logical_id, statement in _identity_statements(synth):
        if statement["Effect"] != "Allow":
            continue
        actions = _listify(statement["Action"])
        data = [a for a in actions if a.split(":")[0] in DATA_SERVICES]
        wildcards += [(logical_id, a) for a in data if "*" in a]
        if "*" in _listify(statement["Resource"]):
            unscoped += [(logical_id, a) for a in actions if a not in UNSCOPABLE]
    assert wildcards == []
    assert unscoped == []


def test_the_api_role_reaches_live_queues_and_rules_only_by_their_name_prefix(
    synth: Synth,
) -> None:
    statements = _role_statements(synth, "ApiTaskTaskRole")
    prefix = NAMES.live_prefix()

    def resources_of(action: str) -> set[str]:
        return {
            render(resource)
            for s in statements
            if action in _listify(s["Action"])
            for resource in _listify(s["Resource"])
        }

    arn = "arn:{Ref:AWS::Partition}:%s:{Ref:AWS::Region}:{Ref:AWS::AccountId}:%s"
    live_queues = arn % ("sqs", f"{prefix}*")
    # Sending to job queues also needs these two; every other live action is live-only.
    shared = {"sqs:GetQueueAttributes", "sqs:GetQueueUrl"}
    for action in permissions.LIVE_QUEUE_ACTIONS:
        if action in shared:
            assert live_queues in resources_of(action), action
            assert resources_of(action) == resources_of("sqs:SendMessage") | {live_queues}
        else:
            assert resources_of(action) == {live_queues}, action
    for action in permissions.LIVE_RULE_ACTIONS:
        assert resources_of(action) == {arn % ("events", f"rule/{NAMES.event_bus()}/{prefix}*")}, (
            action
        )
    assert resources_of("sqs:ListQueues") == {"*"}


def test_the_api_sends_to_job_queues_and_reads_backups_but_never_writes_them(
    synth: Synth,
) -> None:
    actions = _actions(_role_statements(synth, "ApiTaskTaskRole"))

    assert "sqs:SendMessage" in actions
    assert not {"sqs:ChangeMessageVisibility", "s3:PutObject", "s3:DeleteObject"} & actions
    assert {a for a in actions if a.startswith("s3:")} == {"s3:GetObject"}
    assert set(permissions.COGNITO_ADMIN_ACTIONS) <= actions
    assert {"ses:SendEmail", "secretsmanager:GetSecretValue", "kms:GenerateDataKey"} <= actions


def test_the_worker_has_no_cognito_email_or_live_fanout_rights(synth: Synth) -> None:
    statements = _role_statements(synth, "WorkerTaskTaskRole")
    actions = _actions(statements)

    assert {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"} <= actions
    assert {"s3:PutObject", "events:PutEvents", "kms:Decrypt"} <= actions
    assert not [a for a in actions if a.startswith(("cognito-idp:", "ses:"))]
    assert not {"sqs:CreateQueue", "sqs:DeleteQueue", "events:PutRule"} & actions
    table_arns = render([s["Resource"] for s in statements if "dynamodb:PutItem" in s["Action"]])
    assert "UsersTable" not in table_arns
    assert "SourcesTable" in table_arns


def test_backups_are_only_reached_under_the_accounts_prefix(synth: Synth) -> None:
    """Objects by their ARN under accounts/, the bucket's listings by a prefix condition."""
    for role in ("ApiTaskTaskRole", "WorkerTaskTaskRole"):
        statements = [
            s
            for s in _role_statements(synth, role)
            if any(a.startswith("s3:") for a in _listify(s["Action"]))
        ]
        assert statements
        for statement in statements:
            resources = [render(r) for r in _listify(statement["Resource"])]
            if all(a.startswith("s3:ListBucket") for a in _listify(statement["Action"])):
                assert statement["Condition"] == {
                    "StringLike": {"s3:prefix": [permissions.BACKUP_OBJECTS]}
                }
                assert all("GetAttDataBucket" in r and r.count("/") == 0 for r in resources), (
                    resources
                )
            else:
                assert all(r.endswith(f"/{permissions.BACKUP_OBJECTS}") for r in resources)


def test_the_worker_may_write_list_and_sweep_backups(synth: Synth) -> None:
    actions = _actions(_role_statements(synth, "WorkerTaskTaskRole"))

    assert {a for a in actions if a.startswith("s3:")} == {
        "s3:PutObject",
        "s3:AbortMultipartUpload",
        "s3:DeleteObject",
        "s3:DeleteObjectVersion",
        "s3:ListBucketVersions",
        "s3:ListBucketMultipartUploads",
    }


def test_the_bucket_denies_requests_without_tls(synth: Synth) -> None:
    (policy,) = synth.resources("data", "AWS::S3::BucketPolicy").values()
    denials = [
        s
        for s in policy["PolicyDocument"]["Statement"]
        if s["Effect"] == "Deny"
        and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
    ]
    assert denials
    assert denials[0]["Principal"] == {"AWS": "*"}


def test_key_policies_delegate_to_iam_and_grant_nobody_else(synth: Synth) -> None:
    # kms:* to the account root is the key-admin statement that lets IAM policies (the
    # grants checked above) apply at all; no other principal is named.
    for key in synth.resources("data", "AWS::KMS::Key").values():
        (statement,) = key["KeyPolicy"]["Statement"]
        assert statement["Action"] == "kms:*"
        assert render(statement["Principal"]["AWS"]) == (
            "arn:{Ref:AWS::Partition}:iam::{Ref:AWS::AccountId}:root"
        )


def test_the_waf_is_associated_with_the_load_balancer(synth: Synth) -> None:
    (association,) = synth.resources("service", "AWS::WAFv2::WebACLAssociation").values()
    ((acl_id, acl),) = synth.resources("service", "AWS::WAFv2::WebACL").items()
    (lb_id,) = synth.resources("service", "AWS::ElasticLoadBalancingV2::LoadBalancer")

    assert association["ResourceArn"] == {"Ref": lb_id}
    assert association["WebACLArn"] == {"Fn::GetAtt": [acl_id, "Arn"]}
    assert acl["Scope"] == "REGIONAL"
    managed = [
        r["Statement"]["ManagedRuleGroupStatement"]["Name"]
        for r in acl["Rules"]
        if "ManagedRuleGroupStatement" in r["Statement"]
    ]
    assert managed == list(waf.MANAGED_RULE_GROUPS)
    (rate,) = [r for r in acl["Rules"] if "RateBasedStatement" in r["Statement"]]
    assert rate["Statement"]["RateBasedStatement"] == {
        "AggregateKeyType": "IP",
        "Limit": CONFIG.waf_requests_per_5_minutes,
    }
    assert rate["Action"] == {"Block": {}}


def test_the_load_balancer_drops_invalid_headers(synth: Synth) -> None:
    (lb,) = synth.resources("service", "AWS::ElasticLoadBalancingV2::LoadBalancer").values()
    attributes = {a["Key"]: a["Value"] for a in lb["LoadBalancerAttributes"]}
    assert attributes["routing.http.drop_invalid_header_fields.enabled"] == "true"
    assert lb["Scheme"] == "internet-facing"


def test_http_redirects_to_https_and_https_uses_the_certificate(synth: Synth) -> None:
    listeners = {
        props["Port"]: props
        for props in synth.resources("service", "AWS::ElasticLoadBalancingV2::Listener").values()
    }
    (cert_id,) = synth.resources("service", "AWS::CertificateManager::Certificate")

    assert set(listeners) == {80, 443}
    (redirect,) = listeners[80]["DefaultActions"]
    assert redirect["Type"] == "redirect"
    assert redirect["RedirectConfig"] == {
        "Port": "443",
        "Protocol": "HTTPS",
        "StatusCode": "HTTP_301",
    }
    assert listeners[443]["Protocol"] == "HTTPS"
    assert listeners[443]["Certificates"] == [{"CertificateArn": {"Ref": cert_id}}]


@pytest.mark.parametrize("kind", ["AWS::SQS::Queue"])
def test_queues_are_encrypted_and_refuse_plain_http(synth: Synth, kind: str) -> None:
    queues = synth.resources("messaging", kind)
    policies = synth.resources("messaging", "AWS::SQS::QueuePolicy").values()
    denied = {
        render(queue_ref)
        for policy in policies
        for s in policy["PolicyDocument"]["Statement"]
        if s["Effect"] == "Deny"
        and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
        for queue_ref in policy["Queues"]
    }
    assert all(q["SqsManagedSseEnabled"] for q in queues.values())
    assert denied == {render({"Ref": logical_id}) for logical_id in queues}
    assert len(queues) == len(SPEC.queues) + sum(
        1 for q in SPEC.queues if q.max_receive_count is not None
    )
