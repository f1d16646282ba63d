"""Job events from the bus to this process: its own queue, and a rule that feeds it.

Every API process must see every job event, whichever process holds a subscriber's
WebSocket. At start-up a process creates a standard SQS queue and an EventBridge rule
on the bus targeting it, both named ``{prefix}-live-{process id}``; it tags the queue
with a heartbeat while it runs and deletes both when it stops cleanly. A process that
died leaves them behind: every process's janitor deletes queues (and their rules) whose
heartbeat is older than ``SPEC.live.ttl_seconds``. The same calls run on moto and AWS.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from listbackup.aws import AwsClients, error_code
from listbackup.errors import InfrastructureError
from listbackup.resources import SPEC, Names

if TYPE_CHECKING:
    from types_aiobotocore_sqs.literals import QueueAttributeNameType

log = logging.getLogger(__name__)

HEARTBEAT_TAG = "listbackup:heartbeat"
_TARGET_ID = "process-queue"
_GONE = (
    "AWS.SimpleQueueService.NonExistentQueue",
    "QueueDoesNotExist",
    "ResourceNotFoundException",
)


@contextmanager
def _translate(action: str) -> Iterator[None]:
    try:
        yield
    except (ClientError, BotoCoreError) as exc:
        raise InfrastructureError(f"{action} failed: {error_code(exc)}") from exc


@dataclass(frozen=True, slots=True)
class Batch:
    """What one receive got: the events' ``detail``s, and the messages' receipt handles."""

    details: list[dict[str, Any]]
    receipts: list[str]


class LiveQueue:
    """This process's share of the job events."""

    def __init__(self, clients: AwsClients, names: Names, process_id: str) -> None:
        self._sqs = clients.sqs
        self._events = clients.events
        self._names = names
        self.process_id = process_id
        self.name = names.live_queue(process_id)
        self.rule = names.live_rule(process_id)
        self.bus = names.event_bus()
        self.url = ""

    async def open(self) -> None:
        """Create the queue and the rule that feeds it (idempotent)."""
        attributes: dict[QueueAttributeNameType, str] = {
            "MessageRetentionPeriod": str(SPEC.live.retention_seconds),
            "ReceiveMessageWaitTimeSeconds": "0",
        }
        with _translate("SQS CreateQueue"):
            created = await self._sqs.create_queue(
                QueueName=self.name, Attributes=attributes, tags=self._heartbeat()
            )
            self.url = created["QueueUrl"]
            arn = (
                await self._sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])
            )["Attributes"]["QueueArn"]
        with _translate("EventBridge PutRule"):
            rule_arn = (
                await self._events.put_rule(
                    Name=self.rule,
                    EventBusName=self.bus,
                    EventPattern=json.dumps({"source": [SPEC.live.event_source]}),
                    State="ENABLED",
                    Description=f"Job events to the API process {self.process_id}.",
                )
            )["RuleArn"]
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "events",
                    "Effect": "Allow",
                    "Principal": {"Service": "events.amazonaws.com"},
                    "Action": "sqs:SendMessage",
                    "Resource": arn,
                    "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
                }
            ],
        }
        with _translate("SQS SetQueueAttributes"):
            await self._sqs.set_queue_attributes(
                QueueUrl=self.url, Attributes={"Policy": json.dumps(policy)}
            )
        with _translate("EventBridge PutTargets"):
            await self._events.put_targets(
                Rule=self.rule, EventBusName=self.bus, Targets=[{"Id": _TARGET_ID, "Arn": arn}]
            )

    async def receive(self, wait_seconds: int) -> Batch:
        """The next batch of events, still on the queue: :meth:`delete` them once handed on
        (the caller need not wait for that before passing them to subscribers)."""
        with _translate("SQS ReceiveMessage"):
            response = await self._sqs.receive_message(
                QueueUrl=self.url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_seconds
            )
        messages = response.get("Messages", [])
        batch = Batch(details=[], receipts=[m["ReceiptHandle"] for m in messages])
        for message in messages:
            try:
                batch.details.append(json.loads(message["Body"])["detail"])
            except (KeyError, TypeError, ValueError):
                log.warning("live queue: a message that is not an event was dropped")
        return batch

    async def delete(self, receipts: list[str]) -> None:
        """Delete received messages (at most 10). One left behind comes back after the
        visibility timeout, and the broker drops it as a duplicate."""
        with _translate("SQS DeleteMessageBatch"):
            await self._sqs.delete_message_batch(
                QueueUrl=self.url,
                Entries=[{"Id": str(i), "ReceiptHandle": r} for i, r in enumerate(receipts)],
            )

    async def beat(self) -> None:
        with _translate("SQS TagQueue"):
            await self._sqs.tag_queue(QueueUrl=self.url, Tags=self._heartbeat())

    async def close(self) -> None:
        """Delete the rule, then the queue; whatever is already gone is fine."""
        await _remove(self._sqs, self._events, self.bus, self.rule, self.url)

    async def reap(self, *, ttl_seconds: int) -> int:
        """Delete the queues and rules of processes whose heartbeat stopped; how many."""
        with _translate("SQS ListQueues"):
            listed = await self._sqs.list_queues(QueueNamePrefix=self._names.live_prefix())
        reaped = 0
        for url in listed.get("QueueUrls", []):
            if url == self.url:
                continue
            try:
                tags = (await self._sqs.list_queue_tags(QueueUrl=url)).get("Tags", {})
            except (ClientError, BotoCoreError):
                continue
            beat = float(tags.get(HEARTBEAT_TAG, "0") or 0)
            if time.time() - beat < ttl_seconds:
                continue
            name = url.rsplit("/", 1)[-1]
            await _remove(self._sqs, self._events, self.bus, name, url)
            log.info("live fan-out: reaped %s (no heartbeat for %d s)", name, time.time() - beat)
            reaped += 1
        return reaped

    @staticmethod
    def _heartbeat() -> dict[str, str]:
        return {HEARTBEAT_TAG: str(int(time.time()))}


async def _remove(sqs: Any, events: Any, bus: str, rule: str, url: str) -> None:
    try:
        await events.remove_targets(Rule=rule, EventBusName=bus, Ids=[_TARGET_ID])
        await events.delete_rule(Name=rule, EventBusName=bus)
    except (ClientError, BotoCoreError) as exc:
        if error_code(exc) not in _GONE:
            log.warning("live fan-out: rule %s not removed: %s", rule, error_code(exc))
    try:
        if url:
            await sqs.delete_queue(QueueUrl=url)
    except (ClientError, BotoCoreError) as exc:
        if error_code(exc) not in _GONE:
            log.warning("live fan-out: queue of %s not removed: %s", rule, error_code(exc))
