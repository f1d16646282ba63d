"""The declarative spec of every AWS resource ListBackup needs.

Both the local bootstrap (``listbackup.bootstrap``) and the CDK app in ``deploy/`` read
this module, so the embedded stack and production cannot drift apart. Names here are
logical; :class:`Names` turns them into physical names under a stage's prefix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

AttrType = Literal["S", "N", "B"]
StreamView = Literal["NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY"]

DAY = 86_400


@dataclass(frozen=True, slots=True)
class Key:
    name: str
    type: AttrType = "S"


@dataclass(frozen=True, slots=True)
class Index:
    name: str
    hash_key: Key
    range_key: Key | None = None
    projection: Literal["ALL", "KEYS_ONLY"] = "ALL"


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    hash_key: Key
    range_key: Key | None = None
    indexes: tuple[Index, ...] = ()
    #: Epoch-seconds attribute after which DynamoDB deletes the item.
    ttl_attribute: str | None = None
    stream: StreamView | None = None


@dataclass(frozen=True, slots=True)
class Queue:
    """An SQS queue; with ``max_receive_count`` it gets a dead-letter queue and a redrive."""

    name: str
    fifo: bool = True
    visibility_timeout: int = 300
    retention_seconds: int = 14 * DAY
    receive_wait_seconds: int = 20
    max_receive_count: int | None = 3


@dataclass(frozen=True, slots=True)
class Transition:
    days: int
    storage_class: Literal["STANDARD_IA", "GLACIER", "DEEP_ARCHIVE"]


@dataclass(frozen=True, slots=True)
class Bucket:
    name: str
    versioned: bool = True
    transitions: tuple[Transition, ...] = ()
    noncurrent_expiry_days: int | None = None
    #: Parts of a multipart upload that never completed (a worker killed mid-file whose
    #: job nobody resumed) are deleted after this many days; they are billed until then.
    abort_incomplete_upload_days: int = 1


@dataclass(frozen=True, slots=True)
class UserPool:
    name: str
    client_name: str
    password_min_length: int = 8
    mfa: Literal["OFF", "OPTIONAL", "ON"] = "OPTIONAL"
    access_token_minutes: int = 60
    id_token_minutes: int = 60
    refresh_token_days: int = 30
    auth_flows: tuple[str, ...] = ("ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH")

    @property
    def password_rule(self) -> str:
        """The password policy in words, as users are told it."""
        return (
            f"Passwords need at least {self.password_min_length} characters, with an "
            "upper-case letter, a lower-case letter, a digit and a symbol."
        )


@dataclass(frozen=True, slots=True)
class LiveFanout:
    """Job events to every API process, for live subscriptions.

    Each API process creates, at start-up, its own standard queue and a rule on the bus
    that targets it (``{prefix}-{name_prefix}-{process id}``), and deletes both at a clean
    shutdown. A process tags its queue with a heartbeat; a janitor in every process deletes
    the queue and rule of any process whose heartbeat is older than ``ttl_seconds``.
    """

    name_prefix: str = "live"
    event_source: str = "listbackup.jobs"
    retention_seconds: int = 300
    heartbeat_seconds: int = 60
    ttl_seconds: int = 600


@dataclass(frozen=True, slots=True)
class ResourceSpec:
    tables: tuple[Table, ...]
    queues: tuple[Queue, ...]
    bucket: Bucket
    event_bus: str
    user_pool: UserPool
    kms_alias: str
    live: LiveFanout = LiveFanout()
    #: CloudWatch namespace of the metrics the worker publishes (embedded metric format).
    metrics_namespace: str = "ListBackup"
    _by_name: dict[str, Table] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {t.name: t for t in self.tables})

    def table(self, name: str) -> Table:
        return self._by_name[name]


@dataclass(frozen=True, slots=True)
class Names:
    """Physical names of the spec's resources for one stage."""

    prefix: str
    bucket_name: str

    def table(self, name: str) -> str:
        return f"{self.prefix}-{name}"

    def queue(self, queue: Queue) -> str:
        return f"{self.prefix}-{queue.name}" + (".fifo" if queue.fifo else "")

    def dead_letter_queue(self, queue: Queue) -> str:
        return f"{self.prefix}-{queue.name}-dlq" + (".fifo" if queue.fifo else "")

    def event_bus(self) -> str:
        return f"{self.prefix}-{SPEC.event_bus}"

    def user_pool(self) -> str:
        return f"{self.prefix}-{SPEC.user_pool.name}"

    def user_pool_client(self) -> str:
        return f"{self.prefix}-{SPEC.user_pool.client_name}"

    def kms_alias(self) -> str:
        return f"alias/{self.prefix}-{SPEC.kms_alias}"

    def live_prefix(self) -> str:
        """What every per-process live queue and rule name starts with."""
        return f"{self.prefix}-{SPEC.live.name_prefix}-"

    def live_queue(self, process_id: str) -> str:
        return f"{self.live_prefix()}{process_id}"

    def live_rule(self, process_id: str) -> str:
        return f"{self.live_prefix()}{process_id}"


def _by_account(name: str = "account-index") -> Index:
    return Index(name, Key("accountId"), Key("createdAt"))


SPEC = ResourceSpec(
    tables=(
        Table("users", Key("id"), indexes=(Index("email-index", Key("email")),)),
        Table(
            "accounts",
            Key("id"),
            indexes=(
                # Direct children of an account, oldest first.
                Index("parent-index", Key("parentId"), Key("createdAt")),
                # Every descendant: the tree's root plus a materialised path prefix.
                Index("root-path-index", Key("rootId"), Key("path")),
            ),
        ),
        # Journal of subtree moves too large for one transaction, so they can be resumed.
        Table("account-moves", Key("accountId")),
        Table(
            "memberships",
            Key("accountId"),
            Key("userId"),
            indexes=(Index("user-index", Key("userId"), Key("accountId")),),
        ),
        Table(
            "invitations",
            Key("id"),
            indexes=(_by_account(), Index("email-index", Key("email"), Key("createdAt"))),
            ttl_attribute="purgeAt",
        ),
        Table(
            "platforms",
            Key("slug"),
            indexes=(Index("category-index", Key("category"), Key("name")),),
        ),
        Table("connections", Key("id"), indexes=(_by_account(),)),
        # The token vault: envelope-encrypted credentials, one item per connection.
        Table("credentials", Key("connectionId")),
        Table("oauth-states", Key("state"), ttl_attribute="expiresAt"),
        Table(
            "sources",
            Key("id"),
            indexes=(
                _by_account(),
                Index("connection-index", Key("connectionId"), Key("createdAt")),
                # Due schedules by time, sparse (only scheduled, active sources carry a
                # shard) and sharded so no one partition is hot.
                Index("due-index", Key("dueShard"), Key("nextRunAt")),
            ),
        ),
        Table(
            "jobs",
            Key("id"),
            indexes=(
                _by_account(),
                Index("source-index", Key("sourceId"), Key("createdAt")),
                # Completed jobs by when their files may go, sparse and sharded: the
                # retention sweep reads only what is due.
                Index("retention-index", Key("retentionShard"), Key("keepUntil")),
            ),
            stream="NEW_AND_OLD_IMAGES",
        ),
        Table("job-logs", Key("jobId"), Key("seq"), ttl_attribute="expiresAt"),
        Table("backup-files", Key("jobId"), Key("key")),
        # Atomic counters for abuse limits and the schedules of platforms' per-app quotas,
        # shared by every process.
        Table("rate-limits", Key("key"), ttl_attribute="expiresAt"),
    ),
    queues=(
        # One FIFO queue per job type; a source's jobs share a message group, so run in order.
        # A worker holds a message by extending its visibility while the job runs, so the
        # timeout is short: a worker that died gives its job up within two minutes. Each
        # delivery is one attempt of the job; the third failure sends it to the DLQ.
        Queue("sync", visibility_timeout=120, max_receive_count=3),
        Queue("backup", visibility_timeout=120, max_receive_count=3),
    ),
    bucket=Bucket(
        "data",
        transitions=(
            Transition(30, "STANDARD_IA"),
            Transition(90, "GLACIER"),
            Transition(365, "DEEP_ARCHIVE"),
        ),
        noncurrent_expiry_days=730,
    ),
    event_bus="events",
    user_pool=UserPool("users", client_name="web"),
    kms_alias="credentials",
)
