"""Queues (with dead-letter queues), the event bus and its rules, from the spec."""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from deploy.config import DeployConfig
from deploy.stacks import construct_id
from listbackup.resources import Queue, ResourceSpec, Rule

# The spec writes patterns as EventBridge JSON; the L2 pattern takes them as keywords.
_PATTERN_KEYS = {
    "source": "source",
    "detail-type": "detail_type",
    "detail": "detail",
    "account": "account",
    "region": "region",
    "resources": "resources",
    "id": "id",
    "time": "time",
    "version": "version",
}


class MessagingStack(Stack):
    """Holds no data worth keeping (messages are transient), so it can be replaced freely."""

    def __init__(
        self, scope: Construct, id: str, *, config: DeployConfig, spec: ResourceSpec, **kw: Any
    ) -> None:
        super().__init__(scope, id, **kw)
        names = config.names
        self.queues: dict[str, sqs.Queue] = {}
        self.dead_letter_queues: dict[str, sqs.Queue] = {}
        for queue in spec.queues:
            self.queues[queue.name] = self._queue(queue, config)
        # The spec's job queues are its FIFO ones: one per job type, consumed by the worker.
        self.job_queues = [self.queues[q.name] for q in spec.queues if q.fifo]
        self.bus = events.EventBus(self, "Bus", event_bus_name=names.event_bus())
        self.rules = [self._rule(rule, config) for rule in spec.rules]

    def _queue(self, queue: Queue, config: DeployConfig) -> sqs.Queue:
        names = config.names
        fifo = True if queue.fifo else None
        dead_letter = None
        if queue.max_receive_count is not None:
            dlq = sqs.Queue(
                self,
                construct_id(queue.name, "DeadLetterQueue"),
                queue_name=names.dead_letter_queue(queue),
                fifo=fifo,
                retention_period=Duration.seconds(queue.retention_seconds),
                encryption=sqs.QueueEncryption.SQS_MANAGED,
                enforce_ssl=True,
            )
            self.dead_letter_queues[queue.name] = dlq
            dead_letter = sqs.DeadLetterQueue(max_receive_count=queue.max_receive_count, queue=dlq)
        return sqs.Queue(
            self,
            construct_id(queue.name, "Queue"),
            queue_name=names.queue(queue),
            fifo=fifo,
            # As the local bootstrap: producers need not invent deduplication ids.
            content_based_deduplication=True if queue.fifo else None,
            visibility_timeout=Duration.seconds(queue.visibility_timeout),
            retention_period=Duration.seconds(queue.retention_seconds),
            receive_message_wait_time=Duration.seconds(queue.receive_wait_seconds),
            dead_letter_queue=dead_letter,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
        )

    def _rule(self, rule: Rule, config: DeployConfig) -> events.Rule:
        pattern = None
        if rule.event_pattern:
            unknown = set(rule.event_pattern) - set(_PATTERN_KEYS)
            if unknown:
                raise ValueError(f"rule {rule.name}: unsupported pattern keys {sorted(unknown)}")
            pattern = events.EventPattern(
                **{_PATTERN_KEYS[key]: value for key, value in rule.event_pattern.items()}
            )
        construct = events.Rule(
            self,
            construct_id(rule.name, "Rule"),
            rule_name=config.names.rule(rule),
            description=rule.description,
            # Scheduled rules can only live on the account's default bus.
            event_bus=None if rule.schedule else self.bus,
            schedule=events.Schedule.expression(rule.schedule) if rule.schedule else None,
            event_pattern=pattern,
        )
        # The target also writes the queue policy letting this rule (and only it) send.
        construct.add_target(
            targets.SqsQueue(self.queues[rule.target_queue], message_group_id=rule.message_group_id)
        )
        return construct
