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
from collections.abc import Mapping
from typing import Any

import httpx

from listbackup.integrations.base import Integration, OAuthSpec
from listbackup.integrations.connector import HttpConnector, named
from listbackup.integrations.errors import (
    CredentialsRejected,
    PlatformRequestFailed,
    PlatformUnavailable,
)
from listbackup.integrations.oauth import TIMEOUT as METADATA_TIMEOUT
from listbackup.integrations.pagination import Offset
from listbackup.integrations.streams import Parent, Since, Stream, data_types, streams
from listbackup.models.platforms import AuthType, DataType, Frequency, Platform

#: Mailchimp's largest ``count``.
PAGE_SIZE = 1000
_SERVER_PREFIX = re.compile(r"^[a-z]+[0-9]+$")


def _total_items(body: Any) -> int | None:
    total = body.get("total_items")
    return total if isinstance(total, int) else None


def _collection(
    data_type: DataType,
    path: str,
    *,
    sort: str | None = None,
    since: Since | None = None,
    parent: Parent | None = None,
) -> Stream:
    """A collection under the data type's name, paged by offset to ``total_items``; oldest
    first where it can ``sort`` by creation, so new records land on the last page instead
    of shifting the offsets of the pages still to read."""
    params = {"exclude_fields": f"{data_type.key}._links"}  # hypermedia, not data
    if sort:
        params |= {"sort_field": sort, "sort_dir": "ASC"}
    return Stream(
        data_type,
        path,
        records=data_type.key,
        paginator=Offset(PAGE_SIZE, limit_param="count", total=_total_items),
        params=params,
        since=since,
        parent=parent,
    )


#: Per-audience collections walk the audiences' ids first.
_PER_LIST = Parent("lists", params={"fields": "lists.id,total_items", "exclude_fields": None})

STREAMS = streams(
    _collection(
        DataType("lists", "Audiences", "Audiences (lists) and their settings.", Frequency.DAILY),
        "/lists",
        sort="date_created",
    ),
    _collection(
        DataType(
            "merge_fields",
            "Merge fields",
            "Custom audience fields.",
            Frequency.WEEKLY,
            depends_on=("lists",),
        ),
        "/lists/{parent}/merge-fields",
        parent=_PER_LIST,
    ),
    _collection(
        DataType(
            "members",
            "Members",
            "Subscribers of each audience, with tags and status.",
            Frequency.DAILY,
            depends_on=("lists", "merge_fields"),
        ),
        "/lists/{parent}/members",
        since=Since("since_last_changed"),
        parent=_PER_LIST,
    ),
    _collection(
        DataType(
            "segments",
            "Segments",
            "Saved segments and tags of each audience.",
            Frequency.WEEKLY,
            depends_on=("lists",),
        ),
        "/lists/{parent}/segments",
        parent=_PER_LIST,
    ),
    _collection(
        DataType("templates", "Templates", "Email templates.", Frequency.WEEKLY),
        "/templates",
        sort="date_created",
    ),
    _collection(
        DataType(
            "campaigns",
            "Campaigns",
            "Campaigns with their settings and content.",
            Frequency.DAILY,
            depends_on=("lists", "segments", "templates"),
        ),
        "/campaigns",
        sort="create_time",
    ),
    _collection(
        DataType(
            "reports",
            "Reports",
            "Opens, clicks and bounces of sent campaigns.",
            Frequency.DAILY,
            depends_on=("campaigns",),
        ),
        "/reports",
    ),
    _collection(
        DataType(
            "automations",
            "Automations",
            "Classic automations and their emails.",
            Frequency.WEEKLY,
            depends_on=("lists",),
        ),
        "/automations",
    ),
)


def server_prefix(value: str | None) -> str:
    """The ``dc`` credential, checked: it becomes part of the API host."""
    dc = (value or "").strip().lower()
    if not _SERVER_PREFIX.fullmatch(dc):
        raise PlatformRequestFailed(
            "The Mailchimp connection has no valid server prefix (such as us6); reconnect it."
        )
    return dc


#: Where an OAuth token tells which data centre its account lives in.
METADATA_URL = "https://login.mailchimp.com/oauth2/metadata"


async def oauth_metadata(http: httpx.AsyncClient, access_token: str) -> Mapping[str, str]:
    """The account's server prefix (``dc``), which an OAuth connection's API host needs
    and Mailchimp's token response does not carry."""
    try:
        response = await http.get(
            METADATA_URL,
            headers={"Authorization": f"OAuth {access_token}", "Accept": "application/json"},
            timeout=METADATA_TIMEOUT,
        )
    except httpx.HTTPError as exc:
        raise PlatformUnavailable(
            f"Mailchimp could not be reached to find the account ({type(exc).__name__})."
        ) from None
    if response.status_code in (401, 403):
        raise CredentialsRejected("Mailchimp refused the new token.", status=response.status_code)
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code >= 400 or not isinstance(body, dict):
        raise PlatformRequestFailed(
            f"Mailchimp did not say where the account lives ({response.status_code}).",
            status=response.status_code,
        )
    dc = body.get("dc")
    return {"dc": server_prefix(dc if isinstance(dc, str) else None)}


class MailchimpConnector(HttpConnector):
    streams = STREAMS

    def placeholders(self) -> Mapping[str, str]:
        return {"dc": server_prefix(self.context.credentials.get("dc"))}

    async def check(self) -> str | None:
        root = await self.client.get_json("/")
        return named(root.get("account_name"), root.get("email"), root.get("account_id"))


INTEGRATION = Integration(
    platform=Platform(
        slug="mailchimp",
        name="Mailchimp",
        category="email-marketing",
        description="Audiences, subscribers, campaigns and reports from your Mailchimp account.",
        auth_type=AuthType.OAUTH2,
        data_types=data_types(STREAMS),
    ),
    # `{dc}` is the account's server prefix (e.g. "us21"): an API-key connection gives it,
    # an OAuth one reads it from the metadata endpoint once the code is exchanged.
    api_base_url="https://{dc}.api.mailchimp.com/3.0",
    docs_url="https://mailchimp.com/developer/marketing/api/",
    oauth=OAuthSpec(
        authorize_url="https://login.mailchimp.com/oauth2/authorize",
        token_url="https://login.mailchimp.com/oauth2/token",
        # Mailchimp has no OAuth scopes (a token can do whatever the user can) and its tokens
        # do not expire, so there is no refresh token.
        scopes=(),
        metadata=oauth_metadata,
    ),
    connector=MailchimpConnector,
)
