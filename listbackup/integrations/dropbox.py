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
from datetime import datetime
from typing import Any

from listbackup.integrations.base import Integration, OAuthSpec, Record
from listbackup.integrations.connector import HttpConnector, named
from listbackup.integrations.http import Request, json_of
from listbackup.integrations.pagination import PostCursor
from listbackup.integrations.streams import Since, Stream, data_types, streams, where_equal
from listbackup.models.platforms import AuthType, DataType, Frequency, Platform

LIST_LIMIT = 2000
SHARING_LIMIT = 1000
FILE_REQUEST_LIMIT = 1000


def _has_more_cursor(body: Any) -> str | None:
    """The cursor of the next page, for listings that say ``has_more``."""
    return str(body["cursor"]) if body.get("has_more") and body.get("cursor") else None


def _cursor(body: Any) -> str | None:
    """The cursor of the next page, for sharing listings: present only when there is more."""
    cursor = body.get("cursor")
    return str(cursor) if cursor else None


def _entries(data_type: DataType, tag: str, since: Since | None = None) -> Stream:
    """The ``tag`` entries ("file" or "folder") of the one recursive listing."""
    return Stream(
        data_type,
        "/files/list_folder",
        records="entries",
        paginator=PostCursor(_has_more_cursor, "/files/list_folder/continue"),
        method="POST",
        body={"path": "", "recursive": True, "limit": LIST_LIMIT},
        where=where_equal(".tag", tag),
        since=since,
    )


STREAMS = streams(
    _entries(DataType("folders", "Folders", "The folder tree.", Frequency.DAILY), "folder"),
    _entries(
        DataType(
            "files",
            "Files",
            "File metadata plus content.",
            Frequency.DAILY,
            depends_on=("folders",),
        ),
        "file",
        since=Since(field="server_modified"),
    ),
    Stream(
        DataType(
            "shared_folders",
            "Shared folders",
            "Shared folders and their members.",
            Frequency.DAILY,
            depends_on=("folders",),
        ),
        "/sharing/list_folders",
        records="entries",
        id="shared_folder_id",
        paginator=PostCursor(_cursor, "/sharing/list_folders/continue"),
        method="POST",
        body={"limit": SHARING_LIMIT},
    ),
    Stream(
        DataType(
            "shared_links",
            "Shared links",
            "Links shared to files and folders.",
            Frequency.DAILY,
            depends_on=("files", "folders"),
        ),
        "/sharing/list_shared_links",
        records="links",
        paginator=PostCursor(_has_more_cursor),
        method="POST",
        body={},
    ),
    Stream(
        DataType(
            "file_requests",
            "File requests",
            "Requests for others to upload files.",
            Frequency.WEEKLY,
            depends_on=("folders",),
        ),
        "/file_requests/list_v2",
        records="file_requests",
        paginator=PostCursor(_has_more_cursor, "/file_requests/list/continue"),
        method="POST",
        body={"limit": FILE_REQUEST_LIMIT},
    ),
)
_MEMBERS = PostCursor(_cursor, "/sharing/list_folder_members/continue")


class DropboxConnector(HttpConnector):
    streams = STREAMS

    async def check(self) -> str | None:
        response = await self.client.request(
            "POST",
            "/users/get_current_account",
            content=b"null",
            headers={"Content-Type": "application/json"},
        )
        account = json_of(response)
        return named((account.get("name") or {}).get("display_name"), account.get("email"))

    def read(self, stream: Stream, since: datetime | None) -> AsyncIterator[list[Record]]:
        if stream.key == "shared_folders":
            return self._shared_folders(stream, since)
        return super().read(stream, since)

    async def _shared_folders(
        self, stream: Stream, since: datetime | None
    ) -> AsyncIterator[list[Record]]:
        """Shared folders, each with its ``members`` (users, groups, invitees)."""
        async for page in super().read(stream, since):
            for folder in page:
                folder["members"] = await self._members(str(folder["shared_folder_id"]))
            yield page

    async def _members(self, shared_folder_id: str) -> dict[str, list[Record]]:
        members: dict[str, list[Record]] = {"users": [], "groups": [], "invitees": []}
        first = Request(
            "/sharing/list_folder_members",
            method="POST",
            body={"shared_folder_id": shared_folder_id, "limit": SHARING_LIMIT},
        )
        # Each page is one body holding the three kinds of member.
        async for (page,) in _MEMBERS.pages(self.client, first, lambda body: [body]):
            for kind, found in members.items():
                found.extend(page.get(kind) or [])
        return members


INTEGRATION = Integration(
    platform=Platform(
        slug="dropbox",
        name="Dropbox",
        category="file-storage",
        description="Files, folders and sharing settings from your Dropbox.",
        auth_type=AuthType.OAUTH2,
        data_types=data_types(STREAMS),
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
