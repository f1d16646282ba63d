"""Mailchimp: email marketing. Follows https://mailchimp.com/developer/marketing/api/.

Collections page with ``count`` (at most 1000) and ``offset``; each body holds its records
under the resource's name (``lists``, ``members``, ``campaigns``...) next to ``total_items``.
Members, merge fields and segments belong to an audience (``/lists/{id}/members``), so they
walk the lists first. ``since`` filters members by ``since_last_changed``; the other
resources only filter by creation or send time, so they are read whole. The base URL carries
the account's server prefix ``{dc}`` (``us6``), from the connection's ``dc`` credential
(an OAuth connection learns it from the metadata endpoint). The OAuth token goes in
``Authorization: Bearer``; Mailchimp tokens never expire, so a 401 that survives the one
refresh means the user revoked the app. ``GET /`` (the API root) names the account.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from listbackup.integrations.base import Connector, ConnectorContext, Integration, OAuthSpec, Record
from listbackup.integrations.errors import PlatformRequestFailed
from listbackup.integrations.http import PlatformClient
from listbackup.integrations.pagination import key, offset_pages
from listbackup.models.platforms import AuthType, DataType, Frequency, Platform

#: Mailchimp's largest ``count``.
PAGE_SIZE = 1000
#: Data type -> account-wide collection.
ENDPOINTS = {
    "lists": "/lists",
    "templates": "/templates",
    "campaigns": "/campaigns",
    "reports": "/reports",
    "automations": "/automations",
}
#: Data type -> collection under each list (``/lists/{id}/...``).
PER_LIST = {"members": "members", "merge_fields": "merge-fields", "segments": "segments"}
#: Oldest first where the collection can sort by creation, so new records land on the last
#: page instead of shifting the offsets of the pages still to read.
SORT = {"lists": "date_created", "templates": "date_created", "campaigns": "create_time"}
_SERVER_PREFIX = re.compile(r"^[a-z]+[0-9]+$")


class MailchimpConnector(Connector):
    def __init__(self, context: ConnectorContext) -> None:
        super().__init__(context)
        self._client: PlatformClient | None = None

    @property
    def client(self) -> PlatformClient:
        """Built on first use, so a bad ``dc`` is refused by check/fetch, before a request."""
        if self._client is None:
            dc = server_prefix(self.context.credentials.get("dc"))
            base_url = self.context.base_url.replace("{dc}", dc)
            self._client = PlatformClient(replace(self.context, base_url=base_url))
        return self._client

    async def check(self) -> str | None:
        root = await self.client.get_json("/")
        name = root.get("account_name") or root.get("email") or root.get("account_id")
        return str(name) if name else None

    async def fetch(
        self, data_type: str, *, since: datetime | None = None
    ) -> AsyncIterator[list[Record]]:
        if data_type in ENDPOINTS:
            async for page in self._collection(ENDPOINTS[data_type], data_type):
                yield page
        elif data_type in PER_LIST:
            params: dict[str, Any] = {}
            if data_type == "members" and since is not None:
                params["since_last_changed"] = _iso(since)
            async for lists in self._collection("/lists", "lists", fields="lists.id,total_items"):
                for audience in lists:
                    url = f"/lists/{audience['id']}/{PER_LIST[data_type]}"
                    async for page in self._collection(url, data_type, **params):
                        yield page
        else:
            raise self.unknown(data_type)

    def _collection(self, url: str, name: str, **params: Any) -> AsyncIterator[list[Record]]:
        if "fields" not in params:
            params["exclude_fields"] = f"{name}._links"  # hypermedia, not data
        if name in SORT:
            params |= {"sort_field": SORT[name], "sort_dir": "ASC"}
        return offset_pages(
            self.client,
            url,
            params=params,
            records=key(name),
            limit=PAGE_SIZE,
            limit_param="count",
            total=_total_items,
        )

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()


def server_prefix(value: str | None) -> str:
    """The ``dc`` credential, checked: it becomes part of the API host."""
    dc = (value or "").strip().lower()
    if not _SERVER_PREFIX.fullmatch(dc):
        raise PlatformRequestFailed(
            "The Mailchimp connection has no valid server prefix (such as us6); reconnect it."
        )
    return dc


def _total_items(body: Any) -> int | None:
    total = body.get("total_items")
    return total if isinstance(total, int) else None


def _iso(moment: datetime) -> str:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat(timespec="seconds")


INTEGRATION = Integration(
    platform=Platform(
        slug="mailchimp",
        name="Mailchimp",
        category="email-marketing",
        description="Audiences, subscribers, campaigns and reports from your Mailchimp account.",
        auth_type=AuthType.OAUTH2,
        data_types=(
            DataType(
                "lists", "Audiences", "Audiences (lists) and their settings.", Frequency.DAILY
            ),
            DataType(
                "merge_fields",
                "Merge fields",
                "Custom audience fields.",
                Frequency.WEEKLY,
                depends_on=("lists",),
            ),
            DataType(
                "members",
                "Members",
                "Subscribers of each audience, with tags and status.",
                Frequency.DAILY,
                depends_on=("lists", "merge_fields"),
            ),
            DataType(
                "segments",
                "Segments",
                "Saved segments and tags of each audience.",
                Frequency.WEEKLY,
                depends_on=("lists",),
            ),
            DataType("templates", "Templates", "Email templates.", Frequency.WEEKLY),
            DataType(
                "campaigns",
                "Campaigns",
                "Campaigns with their settings and content.",
                Frequency.DAILY,
                depends_on=("lists", "segments", "templates"),
            ),
            DataType(
                "reports",
                "Reports",
                "Opens, clicks and bounces of sent campaigns.",
                Frequency.DAILY,
                depends_on=("campaigns",),
            ),
            DataType(
                "automations",
                "Automations",
                "Classic automations and their emails.",
                Frequency.WEEKLY,
                depends_on=("lists",),
            ),
        ),
    ),
    # `{dc}` is the account's server prefix (e.g. "us21"): after the code exchange, read `dc`
    # from https://login.mailchimp.com/oauth2/metadata (Authorization: OAuth <token>).
    api_base_url="https://{dc}.api.mailchimp.com/3.0",
    docs_url="https://mailchimp.com/developer/marketing/api/",
    oauth=OAuthSpec(
        authorize_url="https://login.mailchimp.com/oauth2/authorize",
        token_url="https://login.mailchimp.com/oauth2/token",
        # Mailchimp has no OAuth scopes (a token can do whatever the user can) and its tokens
        # do not expire, so there is no refresh token.
        scopes=(),
    ),
    connector=MailchimpConnector,
)
