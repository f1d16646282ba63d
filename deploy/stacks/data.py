"""What holds customers' data and must outlive every other stack: tables, bucket, keys."""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from deploy.config import DeployConfig
from deploy.stacks import construct_id
from listbackup.resources import Key, ResourceSpec, Table

_ATTRIBUTE_TYPES = {
    "S": dynamodb.AttributeType.STRING,
    "N": dynamodb.AttributeType.NUMBER,
    "B": dynamodb.AttributeType.BINARY,
}
_PROJECTIONS = {"ALL": dynamodb.ProjectionType.ALL, "KEYS_ONLY": dynamodb.ProjectionType.KEYS_ONLY}
_STREAMS = {
    "NEW_IMAGE": dynamodb.StreamViewType.NEW_IMAGE,
    "OLD_IMAGE": dynamodb.StreamViewType.OLD_IMAGE,
    "NEW_AND_OLD_IMAGES": dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
    "KEYS_ONLY": dynamodb.StreamViewType.KEYS_ONLY,
}
_STORAGE_CLASSES = {
    "STANDARD_IA": s3.StorageClass.INFREQUENT_ACCESS,
    "GLACIER": s3.StorageClass.GLACIER,
    "DEEP_ARCHIVE": s3.StorageClass.DEEP_ARCHIVE,
}


class DataStack(Stack):
    """Tables, the data bucket and the KMS keys; kept (retained, protected) in production."""

    def __init__(
        self, scope: Construct, id: str, *, config: DeployConfig, spec: ResourceSpec, **kw: Any
    ) -> None:
        super().__init__(scope, id, **kw)
        names = config.names
        # Production data survives a stack deletion; other stages clean up after themselves.
        removal = RemovalPolicy.RETAIN if config.production else RemovalPolicy.DESTROY
        self.tables: dict[str, dynamodb.Table] = {
            table.name: self._table(table, names.table(table.name), config, removal)
            for table in spec.tables
        }
        self.credentials_key = kms.Key(
            self,
            "CredentialsKey",
            alias=names.kms_alias(),
            description=f"{names.prefix}: envelope encryption of platform credentials",
            enable_key_rotation=True,
            removal_policy=removal,
            pending_window=Duration.days(30 if config.production else 7),
        )
        # Backups get a key of their own: the credentials key's users (the vault) and the
        # bucket's (uploads, downloads) are different, and so are their grants and audit.
        self.bucket_key = kms.Key(
            self,
            "BucketKey",
            alias=f"alias/{names.prefix}-{spec.bucket.name}-bucket",
            description=f"{names.prefix}: server-side encryption of the backup bucket",
            enable_key_rotation=True,
            removal_policy=removal,
            pending_window=Duration.days(30 if config.production else 7),
        )
        bucket = spec.bucket
        self.bucket = s3.Bucket(
            self,
            "DataBucket",
            bucket_name=names.bucket_name,
            versioned=bucket.versioned,
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.bucket_key,
            # One data key per bucket instead of a KMS call per object.
            bucket_key_enabled=True,
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="tiering",
                    transitions=[
                        s3.Transition(
                            storage_class=_STORAGE_CLASSES[t.storage_class],
                            transition_after=Duration.days(t.days),
                        )
                        for t in bucket.transitions
                    ],
                    noncurrent_version_expiration=(
                        Duration.days(bucket.noncurrent_expiry_days)
                        if bucket.noncurrent_expiry_days
                        else None
                    ),
                    abort_incomplete_multipart_upload_after=(
                        Duration.days(bucket.abort_incomplete_upload_days)
                        if bucket.abort_incomplete_upload_days
                        else None
                    ),
                )
            ],
            # A bucket of backups is never deleted with its stack, whatever the stage.
            removal_policy=RemovalPolicy.RETAIN,
        )

    def _table(
        self, table: Table, name: str, config: DeployConfig, removal: RemovalPolicy
    ) -> dynamodb.Table:
        construct = dynamodb.Table(
            self,
            construct_id(table.name, "Table"),
            table_name=name,
            partition_key=_attribute(table.hash_key),
            sort_key=_attribute(table.range_key) if table.range_key else None,
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            time_to_live_attribute=table.ttl_attribute,
            stream=_STREAMS[table.stream] if table.stream else None,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=config.production
            ),
            deletion_protection=config.production,
            removal_policy=removal,
        )
        for index in table.indexes:
            construct.add_global_secondary_index(
                index_name=index.name,
                partition_key=_attribute(index.hash_key),
                sort_key=_attribute(index.range_key) if index.range_key else None,
                projection_type=_PROJECTIONS[index.projection],
            )
        return construct


def _attribute(key: Key) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=key.name, type=_ATTRIBUTE_TYPES[key.type])
