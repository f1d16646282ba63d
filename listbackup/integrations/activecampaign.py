"""ActiveCampaign: email marketing and CRM.

Follows https://developers.activecampaign.com/reference/overview (API v3).

Collections page with ``limit`` (at most 100) and ``offset``; each body holds its records
under the resource's name (``contacts``, ``dealGroups``...) and their count in
``meta.total``. Contacts are the exception the pagination page recommends for big accounts:
``orders[id]=ASC`` with ``id_greater`` (the last id read) instead of an offset. ``since``
becomes ``filters[updated_after]`` for contacts and deals, the two collections that document
it; the rest are read whole. The key goes in the ``Api-Token`` header, on the account's own
API URL (Settings > Developer). ``GET /users/me`` names the user the key belongs to. The
account allows 5 requests a second; a 429 carries ``Retry-After``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import httpx

from listbackup.integrations.base import Integration, Record
from listbackup.integrations.connector import HttpConnector, named
from listbackup.integrations.errors import PlatformRequestFailed
from listbackup.integrations.http import KeyHeader
from listbackup.integrations.pagination import Cursor, Offset
from listbackup.integrations.streams import Since, Stream, data_types, streams
from listbackup.models.platforms import AuthType, CredentialField, DataType, Frequency, Platform

#: ActiveCampaign's largest ``limit``.
PAGE_SIZE = 100
# The docs (reference/url) say to copy the API URL shown under Settings > Developer, which
# has the form https://<account>.api-us1.com, and warn that api-us1.com is not guaranteed to
# be the API host of every current and future account; some accounts show their
# https://<account>.activehosted.com address instead. The key is only ever sent to one of
# these two host families: an account on another one must be added here, deliberately.
_ACCOUNT_HOST = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.(?:api-us1\.com|activehosted\.com)$")
_BAD_URL = (
    "The ActiveCampaign API URL must be https://<account>.api-us1.com or "
    "https://<account>.activehosted.com, as shown under Settings > Developer."
)
_UPDATED_AFTER = Since("filters[updated_after]")


def _total(body: Any) -> int | None:
    total = (body.get("meta") or {}).get("total")  # a string in the API's answers
    return int(str(total)) if str(total).isdigit() else None


def _after_last_id(body: Any, page: list[Record]) -> str | None:
    # With id_greater, meta.total counts the contacts from this page on.
    total = _total(body)
    more = total > len(page) if total is not None else len(page) >= PAGE_SIZE
    return str(page[-1]["id"]) if page and more else None


def _collection(data_type: DataType, records: str, *, since: Since | None = None) -> Stream:
    """``/{records}``, paged by offset to ``meta.total``."""
    return Stream(
        data_type,
        f"/{records}",
        records=records,
        paginator=Offset(PAGE_SIZE, total=_total),
        since=since,
    )


STREAMS = streams(
    _collection(
        DataType("fields", "Custom fields", "Custom contact field definitions.", Frequency.WEEKLY),
        "fields",
    ),
    _collection(DataType("lists", "Lists", "Mailing lists.", Frequency.WEEKLY), "lists"),
    _collection(DataType("tags", "Tags", "Contact and deal tags.", Frequency.WEEKLY), "tags"),
    Stream(
        DataType(
            "contacts",
            "Contacts",
            "Contacts with field values, lists and tags.",
            Frequency.DAILY,
            depends_on=("fields", "lists", "tags"),
        ),
        "/contacts",
        records="contacts",
        paginator=Cursor("id_greater", _after_last_id),
        params={"limit": PAGE_SIZE, "orders[id]": "ASC"},
        since=_UPDATED_AFTER,
    ),
    _collection(
        DataType("accounts", "Accounts", "Companies that contacts belong to.", Frequency.DAILY),
        "accounts",
    ),
    _collection(
        DataType("deal_groups", "Pipelines", "Deal pipelines.", Frequency.WEEKLY), "dealGroups"
    ),
    _collection(
        DataType(
            "deal_stages",
            "Deal stages",
            "Stages of each pipeline.",
            Frequency.WEEKLY,
            depends_on=("deal_groups",),
        ),
        "dealStages",
    ),
    _collection(
        DataType(
            "deals",
            "Deals",
            "Deals with their contacts, accounts and stages.",
            Frequency.DAILY,
            depends_on=("contacts", "accounts", "deal_stages"),
        ),
        "deals",
        since=_UPDATED_AFTER,
    ),
    _collection(
        DataType(
            "campaigns",
            "Campaigns",
            "Email campaigns and their statistics.",
            Frequency.DAILY,
            depends_on=("lists",),
        ),
        "campaigns",
    ),
    _collection(
        DataType("automations", "Automations", "Automation workflows.", Frequency.WEEKLY),
        "automations",
    ),
)


def account_api_url(value: str | None) -> str:
    """The ``apiUrl`` credential as ``https://<host>``, checked: the key is sent there."""
    text = (value or "").strip().rstrip("/").removesuffix("/api/3").rstrip("/")
    try:
        url = httpx.URL(text)
    except httpx.InvalidURL:
        raise PlatformRequestFailed(_BAD_URL) from None
    host = url.host.lower()
    plain = not (url.userinfo or url.port or url.path.strip("/") or url.query or url.fragment)
    if url.scheme != "https" or not plain or not _ACCOUNT_HOST.fullmatch(host):
        raise PlatformRequestFailed(_BAD_URL)
    return f"https://{host}"


class ActiveCampaignConnector(HttpConnector):
    streams = STREAMS

    def placeholders(self) -> Mapping[str, str]:
        return {"api_url": account_api_url(self.context.credentials.get("apiUrl"))}

    def auth(self) -> httpx.Auth:
        api_key = (self.context.credentials.get("apiKey") or "").strip()
        if not api_key:
            raise PlatformRequestFailed("The ActiveCampaign API key is missing.")
        return KeyHeader("Api-Token", api_key)

    async def check(self) -> str | None:
        user = (await self.client.get_json("/users/me")).get("user") or {}
        return named(user.get("username"), user.get("email"))


INTEGRATION = Integration(
    platform=Platform(
        slug="activecampaign",
        name="ActiveCampaign",
        category="email-marketing",
        description="Contacts, lists, campaigns, automations and deals from ActiveCampaign.",
        auth_type=AuthType.API_KEY,
        # Both are under Settings > Developer; the key is sent in the `Api-Token` header.
        credential_fields=(
            CredentialField("apiUrl", "API URL", secret=False),
            CredentialField("apiKey", "API key"),
        ),
        data_types=data_types(STREAMS),
    ),
    # `{api_url}` is the account's API URL, e.g. "https://example.api-us1.com".
    api_base_url="{api_url}/api/3",
    docs_url="https://developers.activecampaign.com/reference/overview",
    connector=ActiveCampaignConnector,
)
