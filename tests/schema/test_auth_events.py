"""Identity events reach the EventBridge bus, without secrets."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from listbackup.aws import AwsClients
from listbackup.config import Settings
from tests.helpers import PASSWORD, gql, new_user

CAPTURE = "lbtest-capture-auth-events"


@pytest.fixture
async def captured(aws: AwsClients, settings: Settings) -> AsyncIterator[list[dict[str, Any]]]:
    """Every listbackup.auth event on the bus, through a rule to a queue of the test's own."""
    bus = settings.names.event_bus()
    url = (await aws.sqs.create_queue(QueueName=CAPTURE))["QueueUrl"]
    arn = (await aws.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"]))[
        "Attributes"
    ]["QueueArn"]
    await aws.events.put_rule(
        Name=CAPTURE, EventBusName=bus, EventPattern=json.dumps({"source": ["listbackup.auth"]})
    )
    await aws.events.put_targets(
        Rule=CAPTURE, EventBusName=bus, Targets=[{"Id": "capture", "Arn": arn}]
    )
    events: list[dict[str, Any]] = []
    yield events
    await aws.events.remove_targets(Rule=CAPTURE, EventBusName=bus, Ids=["capture"])
    await aws.events.delete_rule(Name=CAPTURE, EventBusName=bus)
    await aws.sqs.delete_queue(QueueUrl=url)


async def drain(aws: AwsClients, into: list[dict[str, Any]]) -> list[dict[str, Any]]:
    url = (await aws.sqs.get_queue_url(QueueName=CAPTURE))["QueueUrl"]
    while True:
        got = await aws.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
        if not got.get("Messages"):
            return into
        into.extend(json.loads(m["Body"]) for m in got["Messages"])


async def test_sign_up_in_and_out_are_published(
    client: httpx.AsyncClient, aws: AwsClients, captured: list[dict[str, Any]]
) -> None:
    session = await new_user(client, "events@example.com")
    await gql(client, "mutation { signOut }", token=session["accessToken"])

    events = await drain(aws, captured)

    kinds = [e["detail-type"] for e in events]
    assert kinds == ["User Registered", "User Login", "User Logout"]
    assert all(e["source"] == "listbackup.auth" for e in events)
    assert {e["detail"]["userId"] for e in events} == {events[0]["detail"]["userId"]}
    assert events[0]["detail"]["accountId"]
    text = json.dumps(events)
    assert PASSWORD not in text
    assert session["accessToken"] not in text
    assert session["refreshToken"] not in text
