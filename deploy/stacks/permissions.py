"""Least-privilege task roles: each service gets only the resources and actions it uses."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Stack
from aws_cdk import aws_iam as iam

from deploy.config import DeployConfig
from deploy.stacks.data import DataStack
from deploy.stacks.identity import IdentityStack
from deploy.stacks.messaging import MessagingStack
from listbackup.resources import ResourceSpec

#: Tables the worker reads and writes; the API uses every table.
WORKER_TABLES = (
    "sources",
    "jobs",
    "job-logs",
    "backup-files",
    "connections",
    "credentials",
    "accounts",
    "rate-limits",
)
#: Where backups live in the bucket; neither service touches anything else in it.
BACKUP_OBJECTS = "accounts/*"
#: What an API process does with its own live fan-out queue (created at start-up,
#: tagged with a heartbeat, read, deleted at shutdown or by another process's janitor).
LIVE_QUEUE_ACTIONS = (
    "sqs:CreateQueue",
    "sqs:DeleteQueue",
    "sqs:SetQueueAttributes",
    "sqs:GetQueueAttributes",
    "sqs:TagQueue",
    "sqs:ListQueueTags",
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:GetQueueUrl",
)
LIVE_RULE_ACTIONS = (
    "events:PutRule",
    "events:PutTargets",
    "events:RemoveTargets",
    "events:DeleteRule",
    "events:DescribeRule",
    "events:ListTargetsByRule",
)
COGNITO_ADMIN_ACTIONS = (
    "cognito-idp:AdminConfirmSignUp",
    "cognito-idp:AdminDeleteUser",
    "cognito-idp:AdminGetUser",
)


@dataclass(frozen=True, slots=True)
class Resources:
    """What the stacks below the service made, as the grants need them."""

    data: DataStack
    messaging: MessagingStack
    identity: IdentityStack


def grant_api(role: iam.IRole, res: Resources, *, config: DeployConfig) -> None:
    for table in res.data.tables.values():
        table.grant_read_write_data(role)
    # Downloads are presigned GETs signed with this role: it may read backups, nothing else.
    iam.Grant.add_to_principal(
        grantee=role,
        actions=["s3:GetObject"],
        resource_arns=[res.data.bucket.arn_for_objects(BACKUP_OBJECTS)],
    )
    res.data.bucket_key.grant_decrypt(role)
    _grant_vault(role, res)
    for queue in res.messaging.job_queues:
        queue.grant_send_messages(role)
    res.messaging.bus.grant_put_events_to(role)
    res.identity.user_pool.grant(role, *COGNITO_ADMIN_ACTIONS)
    res.identity.email_identity.grant_send_email(role)
    res.identity.platform_secret.grant_read(role)
    _grant_live_fanout(role, config=config)


def grant_worker(role: iam.IRole, res: Resources, *, spec: ResourceSpec) -> None:
    for name in WORKER_TABLES:
        spec.table(name)  # a table renamed in the spec fails here, not in production
        res.data.tables[name].grant_read_write_data(role)
    # Backups are written (multipart for large ones) under accounts/ only.
    iam.Grant.add_to_principal(
        grantee=role,
        actions=["s3:PutObject", "s3:AbortMultipartUpload"],
        resource_arns=[res.data.bucket.arn_for_objects(BACKUP_OBJECTS)],
    )
    # The retention sweep removes a job's files, every version (the bucket is versioned),
    # and a resumed job aborts the multipart uploads its killed attempt left behind.
    iam.Grant.add_to_principal(
        grantee=role,
        actions=["s3:DeleteObject", "s3:DeleteObjectVersion"],
        resource_arns=[res.data.bucket.arn_for_objects(BACKUP_OBJECTS)],
    )
    role.add_to_principal_policy(
        iam.PolicyStatement(
            sid="ListBackupPrefixes",
            actions=["s3:ListBucketVersions", "s3:ListBucketMultipartUploads"],
            resources=[res.data.bucket.bucket_arn],
            conditions={"StringLike": {"s3:prefix": [BACKUP_OBJECTS]}},
        )
    )
    # SSE-KMS uploads need a data key, and multipart ones Decrypt to assemble the parts.
    iam.Grant.add_to_principal(
        grantee=role,
        actions=["kms:GenerateDataKey", "kms:Decrypt"],
        resource_arns=[res.data.bucket_key.key_arn],
    )
    _grant_vault(role, res)
    for queue in res.messaging.job_queues:
        queue.grant_consume_messages(role)
        queue.grant_send_messages(role)
    res.messaging.bus.grant_put_events_to(role)
    # Refreshing an OAuth token before a backup needs our client secret at that platform.
    res.identity.platform_secret.grant_read(role)


def _grant_vault(role: iam.IRole, res: Resources) -> None:
    """Envelope encryption: a data key per connection, opened again with Decrypt."""
    iam.Grant.add_to_principal(
        grantee=role,
        actions=["kms:GenerateDataKey", "kms:Encrypt", "kms:Decrypt"],
        resource_arns=[res.data.credentials_key.key_arn],
    )


def _grant_live_fanout(role: iam.IRole, *, config: DeployConfig) -> None:
    """Per-process queues and rules exist only at run time: scope by their name prefix."""
    stack = Stack.of(role)
    names = config.names
    prefix = names.live_prefix()
    queues = stack.format_arn(service="sqs", resource=f"{prefix}*")
    rules = stack.format_arn(
        service="events", resource="rule", resource_name=f"{names.event_bus()}/{prefix}*"
    )
    role.add_to_principal_policy(
        iam.PolicyStatement(sid="LiveQueues", actions=list(LIVE_QUEUE_ACTIONS), resources=[queues])
    )
    # ListQueues takes no resource: it can only be granted on "*" (it reads names only).
    role.add_to_principal_policy(
        iam.PolicyStatement(sid="LiveQueuesList", actions=["sqs:ListQueues"], resources=["*"])
    )
    role.add_to_principal_policy(
        iam.PolicyStatement(sid="LiveRules", actions=list(LIVE_RULE_ACTIONS), resources=[rules])
    )
