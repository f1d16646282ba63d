"""Dropbox: file storage.

Follows https://www.dropbox.com/developers/documentation/http/documentation (API v2).

Every call is an RPC: a POST with a JSON body, the OAuth token as a Bearer token. Listings
page by cursor: ``files/list_folder`` with ``{"path": "", "recursive": true, "limit": 2000}``,
then ``files/list_folder/continue`` with ``{"cursor": ...}`` while ``has_more`` (a page may be
empty and still have more). ``folders`` and ``files`` are the folder and file entries of that
one recursive listing of the user's home namespace (team-space folders outside it need the
``Dropbox-API-Path-Root`` header and are not read yet). Records are metadata only: downloading
file content (``files/download`` on content.dropboxapi.com) is the backup worker's job.

Incremental: Dropbox has no server-side modified-since filter (its cursors track changes, but
only from a cursor we kept), so with ``since`` the connector still lists everything and keeps
the files whose ``server_modified`` is later, client-side; folders carry no timestamp and are
always all returned. Shared folders (with their members), shared links and file requests are
small lists with no change time and are always read in full. Rate limits are per token and
unpublished; a 429 carries ``Retry-After``, which the client honours. ``users/get_current_account``
(body ``null``) is the cheapest authenticated call.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from listbackup.integrations.base import Connector, ConnectorContext, Integration, OAuthSpec, Record
from listbackup.integrations.http import PlatformClient, json_of
from listbackup.integrations.pagination import key, post_cursor_pages
from listbackup.models.platforms import AuthType, DataType, Frequency, Platform

LIST_LIMIT = 2000
SHARING_LIMIT = 1000
FILE_REQUEST_LIMIT = 1000


class DropboxConnector(Connector):
    def __init__(self, context: ConnectorContext) -> None:
        super().__init__(context)
        self.client = PlatformClient(context)

    async def check(self) -> str | None:
        response = await self.client.request(
            "POST",
            "/users/get_current_account",
            content=b"null",
            headers={"Content-Type": "application/json"},
        )
        account = json_of(response)
        name = (account.get("name") or {}).get("display_name") or account.get("email")
        return str(name) if name else None

    async def fetch(
        self, data_type: str, *, since: datetime | None = None
    ) -> AsyncIterator[list[Record]]:
        if data_type == "files":
            pages = self._entries("file", since)
        elif data_type == "folders":
            pages = self._entries("folder", None)
        elif data_type == "shared_folders":
            pages = self._shared_folders()
        elif data_type == "shared_links":
            pages = post_cursor_pages(
                self.client,
                "/sharing/list_shared_links",
                body={},
                records=key("links"),
                next_cursor=_has_more_cursor,
            )
        elif data_type == "file_requests":
            pages = post_cursor_pages(
                self.client,
                "/file_requests/list_v2",
                body={"limit": FILE_REQUEST_LIMIT},
                records=key("file_requests"),
                next_cursor=_has_more_cursor,
                continue_url="/file_requests/list/continue",
            )
        else:
            raise self.unknown(data_type)
        async for page in pages:
            yield page

    async def _entries(self, tag: str, since: datetime | None) -> AsyncIterator[list[Record]]:
        """The ``tag`` entries ("file" or "folder") of the recursive listing."""
        cutoff = _utc(since) if since is not None else None
        async for page in post_cursor_pages(
            self.client,
            "/files/list_folder",
            body={"path": "", "recursive": True, "limit": LIST_LIMIT},
            records=key("entries"),
            next_cursor=_has_more_cursor,
            continue_url="/files/list_folder/continue",
        ):
            kept = [entry for entry in page if entry.get(".tag") == tag]
            if cutoff is not None:
                kept = [entry for entry in kept if _modified_after(entry, cutoff)]
            if kept:
                yield kept

    async def _shared_folders(self) -> AsyncIterator[list[Record]]:
        """Shared folders, each with its ``members`` (users, groups, invitees)."""
        async for page in post_cursor_pages(
            self.client,
            "/sharing/list_folders",
            body={"limit": SHARING_LIMIT},
            records=key("entries"),
            next_cursor=_cursor,
            continue_url="/sharing/list_folders/continue",
        ):
            for folder in page:
                folder["members"] = await self._members(str(folder["shared_folder_id"]))
            yield page

    async def _members(self, shared_folder_id: str) -> dict[str, list[Record]]:
        members: dict[str, list[Record]] = {"users": [], "groups": [], "invitees": []}
        async for page in post_cursor_pages(
            self.client,
            "/sharing/list_folder_members",
            body={"shared_folder_id": shared_folder_id, "limit": SHARING_LIMIT},
            records=lambda body: [body],
            next_cursor=_cursor,
            continue_url="/sharing/list_folder_members/continue",
        ):
            for kind, found in members.items():
                found.extend(page[0].get(kind) or [])
        return members

    async def aclose(self) -> None:
        await self.client.aclose()


def _has_more_cursor(body: Any) -> str | None:
    """The cursor of the next page, for listings that say ``has_more``."""
    return str(body["cursor"]) if body.get("has_more") and body.get("cursor") else None


def _cursor(body: Any) -> str | None:
    """The cursor of the next page, for sharing listings: present only when there is more."""
    cursor = body.get("cursor")
    return str(cursor) if cursor else None


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _modified_after(entry: Record, cutoff: datetime) -> bool:
    """Whether a file changed after ``cutoff``; one without a usable time is kept."""
    stamp = entry.get("server_modified")
    if not isinstance(stamp, str):
        return True
    try:
        modified = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return True
    return _utc(modified) > cutoff


INTEGRATION = Integration(
    platform=Platform(
        slug="dropbox",
        name="Dropbox",
        category="file-storage",
        description="Files, folders and sharing settings from your Dropbox.",
        auth_type=AuthType.OAUTH2,
        data_types=(
            DataType("folders", "Folders", "The folder tree.", Frequency.DAILY),
            DataType(
                "files",
                "Files",
                "File metadata plus content.",
                Frequency.DAILY,
                depends_on=("folders",),
            ),
            DataType(
                "shared_folders",
                "Shared folders",
                "Shared folders and their members.",
                Frequency.DAILY,
                depends_on=("folders",),
            ),
            DataType(
                "shared_links",
                "Shared links",
                "Links shared to files and folders.",
                Frequency.DAILY,
                depends_on=("files", "folders"),
            ),
            DataType(
                "file_requests",
                "File requests",
                "Requests for others to upload files.",
                Frequency.WEEKLY,
                depends_on=("folders",),
            ),
        ),
    ),
    # RPC endpoints; file downloads go to https://content.dropboxapi.com/2.
    api_base_url="https://api.dropboxapi.com/2",
    docs_url="https://www.dropbox.com/developers/documentation/http/documentation",
    oauth=OAuthSpec(
        authorize_url="https://www.dropbox.com/oauth2/authorize",
        token_url="https://api.dropboxapi.com/oauth2/token",
        # Must match the scopes enabled on the app's Permissions tab.
        scopes=(
            "account_info.read",
            "files.metadata.read",
            "files.content.read",
            "sharing.read",
            "file_requests.read",
        ),
        pkce=True,
        # offline: issue a refresh token alongside the short-lived access token.
        authorize_params={"token_access_type": "offline"},
    ),
    connector=DropboxConnector,
)
