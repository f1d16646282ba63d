"""Zendesk: customer support.

Follows https://developer.zendesk.com/api-reference/ticketing/introduction/ (Support API v2).

Lists use cursor pagination: ``page[size]=100``, then ``page[after]`` set to
``meta.after_cursor`` while ``meta.has_more`` (``links.next`` names the same page). Tickets
always come from the cursor-based incremental export (``/incremental/tickets/cursor.json``,
following ``after_url`` until ``end_of_stream``), because the ticket list leaves out archived
tickets; ``start_time`` is 0 for a full read. ``since`` becomes that start time (no later than
a minute ago: the export leaves out the last minute) and moves users to their incremental
export too; the other resources cannot filter and are read whole. Comments are read per
ticket, each given its ``ticket_id``. Auth is HTTP Basic, ``{email}/token`` and the API
token; ``GET /users/me.json`` names the user. Incremental exports allow 10 requests a
minute; Zendesk's 429s carry ``Retry-After``.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

import httpx

from listbackup.integrations.base import Integration, Record
from listbackup.integrations.connector import HttpConnector, named
from listbackup.integrations.errors import CredentialsRejected, PlatformRequestFailed
from listbackup.integrations.pagination import Cursor, NextUrl
from listbackup.integrations.streams import (
    Parent,
    Since,
    Stream,
    data_types,
    epoch_seconds,
    streams,
    where_not_in,
)
from listbackup.models.platforms import AuthType, CredentialField, DataType, Frequency, Platform

#: Zendesk's largest ``page[size]`` for most lists.
PAGE_SIZE = 100
#: The export leaves out changes of the last minute and refuses a later start time.
EXPORT_LAG = 60
_SUBDOMAIN = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def _after_cursor(body: Any, page: list[Record]) -> str | None:
    meta = body.get("meta") or {}
    if meta.get("has_more"):
        return str(meta["after_cursor"])
    if body.get("next_page"):  # offset pages: the cursor walk would stop at the first one
        raise PlatformRequestFailed("Zendesk did not page this list by cursor.")
    return None


def _after_url(body: Any) -> str | None:
    return None if body.get("end_of_stream") else body.get("after_url")


def _start_time(since: datetime) -> int:
    return max(0, min(epoch_seconds(since), int(time.time()) - EXPORT_LAG))


def _list(data_type: DataType, path: str, records: str = "") -> Stream:
    """A cursor-paged list, its records under the data type's name."""
    return Stream(
        data_type,
        path,
        records=records or data_type.key,
        paginator=Cursor("page[after]", _after_cursor),
        params={"page[size]": PAGE_SIZE},
    )


def _export(data_type: DataType, path: str) -> Stream:
    """A cursor-based incremental export, from the start of time unless ``since``."""
    return Stream(
        data_type,
        path,
        records=data_type.key,
        paginator=NextUrl(_after_url),
        params={"start_time": 0},
        since=Since("start_time", _start_time),
    )


STREAMS = streams(
    _list(
        DataType("organizations", "Organizations", "Customer organizations.", Frequency.DAILY),
        "/organizations.json",
    ),
    _list(
        DataType(
            "users",
            "Users",
            "End users, agents and admins.",
            Frequency.DAILY,
            depends_on=("organizations",),
        ),
        "/users.json",
    ),
    _list(DataType("groups", "Groups", "Agent groups.", Frequency.WEEKLY), "/groups.json"),
    _list(
        DataType(
            "ticket_fields", "Ticket fields", "System and custom ticket fields.", Frequency.WEEKLY
        ),
        "/ticket_fields.json",
    ),
    _export(
        DataType(
            "tickets",
            "Tickets",
            "Tickets with their field values.",
            Frequency.DAILY,
            depends_on=("users", "organizations", "groups", "ticket_fields"),
        ),
        "/incremental/tickets/cursor.json",
    ),
    replace(
        _list(
            DataType(
                "ticket_comments",
                "Ticket comments",
                "Public replies and internal notes.",
                Frequency.DAILY,
                depends_on=("tickets",),
            ),
            "/tickets/{parent}/comments.json",
            records="comments",
        ),
        parent=Parent(
            "tickets",
            since=True,
            # The export lists deleted tickets; their comments are gone.
            where=where_not_in("status", ["deleted"]),
            tag="ticket_id",
            skip=frozenset({404}),  # deleted after the export listed it
        ),
    ),
    _list(
        DataType(
            "satisfaction_ratings",
            "Satisfaction ratings",
            "CSAT ratings on tickets.",
            Frequency.DAILY,
            depends_on=("tickets",),
        ),
        "/satisfaction_ratings.json",
    ),
    _list(
        DataType("macros", "Macros", "Saved agent responses and actions.", Frequency.WEEKLY),
        "/macros.json",
    ),
    _list(DataType("views", "Views", "Saved ticket views.", Frequency.WEEKLY), "/views.json"),
)
#: Users changed since a time come from their incremental export.
USERS_EXPORT = _export(STREAMS["users"].data_type, "/incremental/users/cursor.json")


def account_subdomain(value: str | None) -> str:
    """The ``subdomain`` credential, checked: it becomes part of the API host."""
    subdomain = (value or "").strip().lower()
    if len(subdomain) > 63 or not _SUBDOMAIN.fullmatch(subdomain):
        raise PlatformRequestFailed(
            "The Zendesk subdomain is the first part of your Zendesk address (the acme in "
            "acme.zendesk.com): letters, digits and hyphens only."
        )
    return subdomain


class ZendeskConnector(HttpConnector):
    streams = STREAMS

    def placeholders(self) -> Mapping[str, str]:
        return {"subdomain": account_subdomain(self.context.credentials.get("subdomain"))}

    def auth(self) -> httpx.Auth:
        email = (self.context.credentials.get("email") or "").strip()
        token = (self.context.credentials.get("apiToken") or "").strip()
        if not email or not token:
            raise PlatformRequestFailed("Zendesk needs the agent's email and an API token.")
        return httpx.BasicAuth(f"{email}/token", token)

    async def check(self) -> str | None:
        user = (await self.client.get_json("/users/me.json")).get("user") or {}
        if user.get("id") is None:  # Zendesk's answer to a request it did not authenticate
            raise CredentialsRejected("Zendesk did not accept the email and API token.")
        return named(user.get("name"), user.get("email"))

    def read(self, stream: Stream, since: datetime | None) -> AsyncIterator[list[Record]]:
        if stream.key == "users" and since is not None:
            return self.pages(USERS_EXPORT, since)
        return super().read(stream, since)


INTEGRATION = Integration(
    platform=Platform(
        slug="zendesk",
        name="Zendesk",
        category="support",
        description="Tickets with their comments, users and organizations from Zendesk Support.",
        auth_type=AuthType.API_KEY,
        # API token auth: HTTP Basic with "{email}/token" as user name and the token as password.
        credential_fields=(
            CredentialField("subdomain", "Zendesk subdomain", secret=False),
            CredentialField("email", "Agent email", secret=False),
            CredentialField("apiToken", "API token"),
        ),
        data_types=data_types(STREAMS),
    ),
    api_base_url="https://{subdomain}.zendesk.com/api/v2",
    docs_url="https://developer.zendesk.com/api-reference/ticketing/introduction/",
    connector=ZendeskConnector,
)
