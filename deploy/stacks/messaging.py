"""The job queues (with dead-letter queues) and the event bus, from the spec.

The bus's only rules are the live fan-out's, one per API process, which each process makes
and removes itself (``listbackup.adapters.fanout``); the service stack grants it that."""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from deploy.config import DeployConfig
from deploy.stacks import construct_id
from listbackup.resources import Queue, ResourceSpec


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
