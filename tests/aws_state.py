"""Wipe what tests write (items, users, objects, messages) while keeping the resources."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import httpx

from listbackup.aws import AwsClients
from listbackup.config import Settings
from listbackup.devstack import reset_local_aws
from listbackup.localaws import CODE_PATH, OUTBOX_PATH
from listbackup.resources import SPEC
from listbackup.store.dynamo import paginate

#: The seeded catalogue is read-only to the app; tests that change it use another prefix.
_KEPT_TABLES = ("platforms",)
#: Tables a refused request must leave alone: all but the seeded catalogue and the abuse
#: counters (which count the sign-ups that built the test's world).
WATCHED_TABLES = [t.name for t in SPEC.tables if t.name not in {"platforms", "rate-limits"}]


async def wipe(endpoint: str, settings: Settings) -> None:
    """Empty the local AWS in place (one request, inside its process)."""
    await reset_local_aws(
        endpoint,
        prefix=settings.names.table(""),
        keep_tables=[settings.names.table(name) for name in _KEPT_TABLES],
    )


async def snapshot(aws: AwsClients, settings: Settings) -> dict[str, list[dict[str, Any]]]:
    """Every item of every watched table, and how many emails have gone out."""
    state: dict[str, list[dict[str, Any]]] = {}
    for name in WATCHED_TABLES:
        table = settings.names.table(name)
        items = [item async for item in paginate(aws.dynamodb, "scan", TableName=table)]
        state[name] = sorted(items, key=repr)
    quota = await aws.ses.get_send_quota()
    state["emails"] = [{"sent": quota["SentLast24Hours"]}]
    return state


@dataclass(frozen=True, slots=True)
class Email:
    source: str
    to: list[str]
    subject: str
    body: str


def _endpoint() -> str:
    return os.environ["AWS_ENDPOINT_URL"]


async def sent_emails() -> list[Email]:
    """Every email the local AWS's SES accepted this session, oldest first."""
    async with httpx.AsyncClient() as http:
        response = await http.get(f"{_endpoint()}{OUTBOX_PATH}")
    return [Email(**message) for message in response.raise_for_status().json()]


async def confirmation_code(pool_id: str, username: str) -> str | None:
    """The code Cognito would have mailed (sign-up or password reset)."""
    async with httpx.AsyncClient() as http:
        response = await http.get(
            f"{_endpoint()}{CODE_PATH}", params={"pool": pool_id, "username": username}
        )
    code: str | None = response.raise_for_status().json()["code"]
    return code
