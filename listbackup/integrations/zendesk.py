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
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import httpx

from listbackup.integrations.base import Connector, ConnectorContext, Integration, Record
from listbackup.integrations.errors import CredentialsRejected, PlatformRequestFailed
from listbackup.integrations.http import PlatformClient
from listbackup.integrations.pagination import cursor_pages, key, next_url_pages
from listbackup.models.platforms import AuthType, CredentialField, DataType, Frequency, Platform

#: Zendesk's largest ``page[size]`` for most lists.
PAGE_SIZE = 100
#: Data type -> list endpoint (cursor pagination); records sit under the data type's name.
ENDPOINTS = {
    "organizations": "/organizations.json",
    "users": "/users.json",
    "groups": "/groups.json",
    "ticket_fields": "/ticket_fields.json",
    "satisfaction_ratings": "/satisfaction_ratings.json",
    "macros": "/macros.json",
    "views": "/views.json",
}
#: Data type -> cursor-based incremental export.
EXPORTS = {
    "tickets": "/incremental/tickets/cursor.json",
    "users": "/incremental/users/cursor.json",
}
#: The export leaves out changes of the last minute and refuses a later start time.
EXPORT_LAG = 60
_SUBDOMAIN = re.compile(r"^[a-z0-9][a-z0-9-]*$")


class ZendeskConnector(Connector):
    def __init__(self, context: ConnectorContext) -> None:
        super().__init__(context)
        self._client: PlatformClient | None = None

    @property
    def client(self) -> PlatformClient:
        """Built on first use, so bad credentials are refused by check/fetch, before a request."""
        if self._client is None:
            credentials = self.context.credentials
            subdomain = account_subdomain(credentials.get("subdomain"))
            email = (credentials.get("email") or "").strip()
            token = (credentials.get("apiToken") or "").strip()
            if not email or not token:
                raise PlatformRequestFailed("Zendesk needs the agent's email and an API token.")
            base_url = self.context.base_url.replace("{subdomain}", subdomain)
            self._client = PlatformClient(
                replace(self.context, base_url=base_url),
                auth=httpx.BasicAuth(f"{email}/token", token),
            )
        return self._client

    async def check(self) -> str | None:
        user = (await self.client.get_json("/users/me.json")).get("user") or {}
        if user.get("id") is None:  # Zendesk's answer to a request it did not authenticate
            raise CredentialsRejected("Zendesk did not accept the email and API token.")
        name = user.get("name") or user.get("email")
        return str(name) if name else None

    async def fetch(
        self, data_type: str, *, since: datetime | None = None
    ) -> AsyncIterator[list[Record]]:
        if data_type == "ticket_comments":
            pages = self._comments(since)
        elif data_type == "tickets" or (data_type == "users" and since is not None):
            pages = self._export(data_type, since)
        elif data_type in ENDPOINTS:
            pages = self._list(ENDPOINTS[data_type], data_type)
        else:
            raise self.unknown(data_type)
        async for page in pages:
            yield page

    def _list(self, url: str, name: str) -> AsyncIterator[list[Record]]:
        return cursor_pages(
            self.client,
            url,
            params={"page[size]": PAGE_SIZE},
            records=key(name),
            next_cursor=_after_cursor,
            cursor_param="page[after]",
        )

    def _export(self, name: str, since: datetime | None) -> AsyncIterator[list[Record]]:
        return next_url_pages(
            self.client,
            EXPORTS[name],
            params={"start_time": _start_time(since)},
            records=key(name),
            next_url=_after_url,
        )

    async def _comments(self, since: datetime | None) -> AsyncIterator[list[Record]]:
        async for tickets in self._export("tickets", since):
            for ticket in tickets:
                if ticket.get("status") == "deleted":
                    continue  # the export lists deleted tickets; their comments are gone
                pages = self._list(f"/tickets/{ticket['id']}/comments.json", "comments")
                try:
                    async for page in pages:
                        yield [{**comment, "ticket_id": ticket["id"]} for comment in page]
                except PlatformRequestFailed as exc:
                    if exc.status != 404:  # 404: deleted after the export listed it
                        raise

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()


def account_subdomain(value: str | None) -> str:
    """The ``subdomain`` credential, checked: it becomes part of the API host."""
    subdomain = (value or "").strip().lower()
    if len(subdomain) > 63 or not _SUBDOMAIN.fullmatch(subdomain):
        raise PlatformRequestFailed(
            "The Zendesk subdomain is the first part of your Zendesk address (the acme in "
            "acme.zendesk.com): letters, digits and hyphens only."
        )
    return subdomain


def _after_cursor(body: Any, page: list[Record]) -> str | None:
    meta = body.get("meta") or {}
    if meta.get("has_more"):
        return str(meta["after_cursor"])
    if body.get("next_page"):  # offset pages: the cursor walk would stop at the first one
        raise PlatformRequestFailed("Zendesk did not page this list by cursor.")
    return None


def _after_url(body: Any) -> str | None:
    return None if body.get("end_of_stream") else body.get("after_url")


def _start_time(since: datetime | None) -> int:
    if since is None:
        return 0
    aware = since if since.tzinfo else since.replace(tzinfo=UTC)  # naive means UTC
    return max(0, min(int(aware.timestamp()), int(time.time()) - EXPORT_LAG))


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
        data_types=(
            DataType("organizations", "Organizations", "Customer organizations.", Frequency.DAILY),
            DataType(
                "users",
                "Users",
                "End users, agents and admins.",
                Frequency.DAILY,
                depends_on=("organizations",),
            ),
            DataType("groups", "Groups", "Agent groups.", Frequency.WEEKLY),
            DataType(
                "ticket_fields",
                "Ticket fields",
                "System and custom ticket fields.",
                Frequency.WEEKLY,
            ),
            DataType(
                "tickets",
                "Tickets",
                "Tickets with their field values.",
                Frequency.DAILY,
                depends_on=("users", "organizations", "groups", "ticket_fields"),
            ),
            DataType(
                "ticket_comments",
                "Ticket comments",
                "Public replies and internal notes.",
                Frequency.DAILY,
                depends_on=("tickets",),
            ),
            DataType(
                "satisfaction_ratings",
                "Satisfaction ratings",
                "CSAT ratings on tickets.",
                Frequency.DAILY,
                depends_on=("tickets",),
            ),
            DataType("macros", "Macros", "Saved agent responses and actions.", Frequency.WEEKLY),
            DataType("views", "Views", "Saved ticket views.", Frequency.WEEKLY),
        ),
    ),
    api_base_url="https://{subdomain}.zendesk.com/api/v2",
    docs_url="https://developer.zendesk.com/api-reference/ticketing/introduction/",
    connector=ZendeskConnector,
)
