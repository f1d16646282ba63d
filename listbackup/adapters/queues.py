"""The job queues: one FIFO queue per job type, with a dead-letter queue each.

A job's message is in the message group of its source, so one source's jobs run in
order, and is deduplicated by job id and attempt. Its body names the job and nothing
else: the job's state lives in the jobs table, never in a message.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from listbackup.aws import error_code
from listbackup.errors import InfrastructureError
from listbackup.models.jobs import JobType
from listbackup.resources import SPEC, Names

if TYPE_CHECKING:
    from types_aiobotocore_sqs import SQSClient

#: The queue of each job type (resources.py), in the order workers serve them: short
#: incremental syncs before long full backups.
QUEUE_OF = {JobType.SYNC: "sync", JobType.BACKUP: "backup"}
PRIORITY = (JobType.SYNC, JobType.BACKUP)
#: Receives of one message before SQS moves it to the dead-letter queue.
MAX_RECEIVES = {
    job_type: next(q.max_receive_count or 1 for q in SPEC.queues if q.name == name)
    for job_type, name in QUEUE_OF.items()
}


@dataclass(frozen=True, slots=True)
class Delivery:
    """One received job message."""

    job_type: JobType
    job_id: str
    receipt: str
    #: How many times SQS has delivered this message: the job's attempt.
    receive_count: int
    #: From a dead-letter queue: no worker finished the job.
    dead: bool = False


class JobQueues:
    def __init__(self, client: SQSClient, names: Names) -> None:
        self._client = client
        self._names = names
        self._urls: dict[str, str] = {}

    async def _url(self, job_type: JobType, *, dead: bool = False) -> str:
        queue = next(q for q in SPEC.queues if q.name == QUEUE_OF[job_type])
        name = self._names.dead_letter_queue(queue) if dead else self._names.queue(queue)
        if name not in self._urls:
            with _translate("GetQueueUrl"):
                response = await self._client.get_queue_url(QueueName=name)
            self._urls[name] = response["QueueUrl"]
        return self._urls[name]

    async def send(self, job_type: JobType, *, job_id: str, source_id: str, attempt: int) -> None:
        with _translate("SendMessage"):
            await self._client.send_message(
                QueueUrl=await self._url(job_type),
                MessageBody=json.dumps({"jobId": job_id}),
                MessageGroupId=source_id,
                MessageDeduplicationId=f"{job_id}-{attempt}",
            )

    async def receive(
        self, job_type: JobType, *, most: int, wait_seconds: int, dead: bool = False
    ) -> list[Delivery]:
        with _translate("ReceiveMessage"):
            response = await self._client.receive_message(
                QueueUrl=await self._url(job_type, dead=dead),
                MaxNumberOfMessages=max(1, min(most, 10)),
                WaitTimeSeconds=wait_seconds,
                MessageSystemAttributeNames=["ApproximateReceiveCount"],
            )
        return [
            Delivery(
                job_type=job_type,
                job_id=_job_id(message.get("Body", "")),
                receipt=message["ReceiptHandle"],
                receive_count=int(message.get("Attributes", {}).get("ApproximateReceiveCount", 1)),
                dead=dead,
            )
            for message in response.get("Messages", [])
        ]

    async def done(self, delivery: Delivery) -> None:
        """The job needs this message no more."""
        with _translate("DeleteMessage"):
            await self._client.delete_message(
                QueueUrl=await self._url(delivery.job_type, dead=delivery.dead),
                ReceiptHandle=delivery.receipt,
            )

    async def hold(self, delivery: Delivery, seconds: int) -> None:
        """Keep the message from other workers for ``seconds`` more (0: release it now)."""
        with _translate("ChangeMessageVisibility"):
            await self._client.change_message_visibility(
                QueueUrl=await self._url(delivery.job_type, dead=delivery.dead),
                ReceiptHandle=delivery.receipt,
                VisibilityTimeout=max(0, min(seconds, 43_200)),
            )

    async def depth(self, job_types: Sequence[JobType] = PRIORITY) -> Mapping[JobType, int]:
        """Messages waiting in each queue (for metrics and tests)."""
        found: dict[JobType, int] = {}
        for job_type in job_types:
            with _translate("GetQueueAttributes"):
                response = await self._client.get_queue_attributes(
                    QueueUrl=await self._url(job_type),
                    AttributeNames=["ApproximateNumberOfMessages"],
                )
            found[job_type] = int(response["Attributes"].get("ApproximateNumberOfMessages", 0))
        return found


def _job_id(body: str) -> str:
    try:
        value = json.loads(body).get("jobId")
    except (ValueError, AttributeError):
        return ""
    return value if isinstance(value, str) else ""


@contextmanager
def _translate(action: str) -> Iterator[None]:
    try:
        yield
    except (ClientError, BotoCoreError) as exc:
        raise InfrastructureError(f"SQS {action} failed: {error_code(exc)}") from exc
