"""Google Drive: file storage.

Follows https://developers.google.com/workspace/drive/api/reference/rest/v3.

Lists page with ``pageSize`` + ``pageToken`` while the response names a ``nextPageToken``
(a page may be short, even empty, and still have one). ``files`` is ``files.list`` over every
drive the user can see (``corpora=allDrives``, ``supportsAllDrives``,
``includeItemsFromAllDrives``), 1,000 a page, with an explicit ``fields`` list; trashed files
are included and say so. Records are file metadata: downloading content (and exporting Google
Docs, Sheets and Slides, which have none) is the backup worker's job, from ``id``,
``mimeType``, ``md5Checksum`` and ``exportLinks``. ``drives`` is ``drives.list``.
``permissions`` reads the ``permissions`` field inside the same file listing (one pass, no
per-file call) plus ``permissions.list`` on each shared drive; Drive leaves that field empty
for items in shared drives, whose access comes from drive membership. ``revisions`` and
``comments`` need one call per file (folders and shortcuts skipped), so they cost a request
per file; a file whose revisions or comments the user may not read (403) or that vanished
(404) is skipped. Records of those three carry the ``fileId`` they belong to.

Incremental: ``since`` becomes ``q=modifiedTime > 'RFC 3339'`` on the file listing (for
``files`` and ``revisions``: a new revision updates the file) and ``startModifiedTime`` on
``comments.list`` (a comment does not touch the file, so every file is still asked).
``drives`` and ``permissions`` have no change time and are read in full. Auth is the OAuth
token as a Bearer token; ``GET /about?fields=user`` is the cheapest authenticated call.
Quota errors come as ``429`` or as ``403`` with reason ``userRateLimitExceeded`` /
``rateLimitExceeded``; the latter are retried like a 429 rather than read as a refusal.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime
from typing import Any

import httpx

from listbackup.integrations.base import Integration, OAuthSpec, Record
from listbackup.integrations.connector import HttpConnector, named
from listbackup.integrations.pagination import Cursor
from listbackup.integrations.streams import (
    Parent,
    Since,
    Stream,
    data_types,
    rfc3339_z,
    streams,
    where_not_in,
)
from listbackup.models.platforms import AuthType, DataType, Frequency, Platform

FILES_PAGE_SIZE = 1000
DRIVES_PAGE_SIZE = 100
PERMISSIONS_PAGE_SIZE = 100
REVISIONS_PAGE_SIZE = 1000
COMMENTS_PAGE_SIZE = 100
_USER = "displayName,emailAddress"
FILE_FIELDS = (
    "id,name,mimeType,description,parents,driveId,createdTime,modifiedTime,size,md5Checksum,"
    f"version,headRevisionId,trashed,starred,shared,owners({_USER}),"
    f"lastModifyingUser({_USER}),webViewLink,shortcutDetails,exportLinks"
)
PERMISSION_FIELDS = (
    "id,type,role,emailAddress,domain,displayName,allowFileDiscovery,expirationTime,deleted,"
    "permissionDetails"
)
REVISION_FIELDS = (
    f"id,mimeType,modifiedTime,size,md5Checksum,keepForever,originalFilename,"
    f"lastModifyingUser({_USER}),exportLinks"
)
COMMENT_FIELDS = (
    f"id,content,author({_USER}),createdTime,modifiedTime,resolved,deleted,anchor,"
    f"quotedFileContent,replies(id,content,action,author({_USER}),createdTime,modifiedTime,"
    "deleted)"
)
FOLDER = "application/vnd.google-apps.folder"
SHORTCUT = "application/vnd.google-apps.shortcut"
#: 403 reasons that mean "slow down", not "you may not".
RATE_LIMIT_REASONS = frozenset({"userRateLimitExceeded", "rateLimitExceeded"})

log = logging.getLogger(__name__)


def _next_token(body: Any, page: list[Record]) -> str | None:
    if body.get("incompleteSearch"):
        # allDrives could not search every shared drive; Drive says which it skipped
        # nowhere, so the listing may be short.
        log.warning("Google Drive reported an incomplete search")
    token = body.get("nextPageToken")
    return str(token) if token else None


#: Page-token pagination; a short or empty page is not the end, a missing token is.
PAGES = Cursor("pageToken", _next_token, more_after_empty=True)


def _files_fields(fields: str) -> str:
    return f"nextPageToken,incompleteSearch,files({fields})"


def _list_fields(name: str, fields: str) -> str:
    return f"nextPageToken,{name}({fields})"


def _of_each_file(
    data_type: DataType,
    name: str,
    size: int,
    fields: str,
    *,
    since: Since | None = None,
    **params: str,
) -> Stream:
    """``name`` (revisions, comments) of every file but folders and shortcuts."""
    return Stream(
        data_type,
        f"/files/{{parent}}/{name}",
        records=name,
        paginator=PAGES,
        params={"pageSize": size, "fields": _list_fields(name, fields), **params},
        since=since,
        parent=Parent(
            "files",
            params={"fields": _files_fields("id,mimeType")},
            # A new revision changes its file; a new comment does not.
            since=name == "revisions",
            where=where_not_in("mimeType", [FOLDER, SHORTCUT]),
            tag="fileId",
            skip=frozenset({403, 404}),
        ),
    )


STREAMS = streams(
    Stream(
        DataType(
            "drives",
            "Shared drives",
            "Shared drives the user is a member of.",
            Frequency.WEEKLY,
        ),
        "/drives",
        records="drives",
        paginator=PAGES,
        params={"pageSize": DRIVES_PAGE_SIZE, "fields": "nextPageToken,drives"},
    ),
    # Google Docs, Sheets and Slides have no binary content; they are exported.
    Stream(
        DataType(
            "files",
            "Files",
            "File and folder metadata plus content.",
            Frequency.DAILY,
            depends_on=("drives",),
        ),
        "/files",
        records="files",
        paginator=PAGES,
        params={
            "pageSize": FILES_PAGE_SIZE,
            "fields": _files_fields(FILE_FIELDS),
            "corpora": "allDrives",
            "supportsAllDrives": "true",
            "includeItemsFromAllDrives": "true",
        },
        since=Since("q", lambda moment: f"modifiedTime > '{rfc3339_z(moment)}'"),
    ),
    # Read by GoogleDriveConnector.permissions: shared drives' lists, then the files'.
    Stream(
        DataType(
            "permissions",
            "Permissions",
            "Who each file and shared drive is shared with.",
            Frequency.DAILY,
            depends_on=("drives", "files"),
        ),
        "/files/{parent}/permissions",
        records="permissions",
        id=("fileId", "id"),
        paginator=PAGES,
        params={
            "pageSize": PERMISSIONS_PAGE_SIZE,
            "supportsAllDrives": "true",
            "fields": _list_fields("permissions", PERMISSION_FIELDS),
        },
        parent=Parent("drives", params={"fields": "nextPageToken,drives(id)"}, tag="driveId"),
    ),
    _of_each_file(
        DataType(
            "revisions",
            "Revisions",
            "Earlier versions of each file.",
            Frequency.DAILY,
            depends_on=("files",),
        ),
        "revisions",
        REVISIONS_PAGE_SIZE,
        REVISION_FIELDS,
    ),
    _of_each_file(
        DataType(
            "comments",
            "Comments",
            "Comments and replies on files.",
            Frequency.DAILY,
            depends_on=("files",),
        ),
        "comments",
        COMMENTS_PAGE_SIZE,
        COMMENT_FIELDS,
        since=Since("startModifiedTime", rfc3339_z),
        includeDeleted="false",
    ),
)


def _quota_reason(response: httpx.Response) -> bool:
    try:
        error = response.json().get("error") or {}
    except (ValueError, AttributeError):
        return False
    if not isinstance(error, dict):
        return False
    reasons = {e.get("reason") for e in error.get("errors") or [] if isinstance(e, dict)}
    return bool(reasons & RATE_LIMIT_REASONS)


class GoogleDriveConnector(HttpConnector):
    streams = STREAMS

    def throttled(self, response: httpx.Response) -> bool:
        # Quota 403s mean "slow down": back off instead of reporting the credentials refused.
        return response.status_code == 403 and _quota_reason(response)

    async def check(self) -> str | None:
        about = await self.client.get_json("/about", params={"fields": "user"})
        user = about.get("user") or {}
        return named(user.get("emailAddress"), user.get("displayName"))

    def read(self, stream: Stream, since: datetime | None) -> AsyncIterator[list[Record]]:
        if stream.key == "permissions":
            return self._permissions(stream)
        return super().read(stream, since)

    async def _permissions(self, stream: Stream) -> AsyncIterator[list[Record]]:
        """Each shared drive's permissions (``driveId``, and its id as ``fileId``: a drive
        is the root folder of its files), then those the file listing carries inline."""
        async for page in super().read(stream, None):
            yield [{**permission, "fileId": permission["driveId"]} for permission in page]
        listing = replace(
            self.streams["files"],
            params={
                **self.streams["files"].params,
                "fields": _files_fields(f"id,permissions({PERMISSION_FIELDS})"),
            },
        )
        async for files in self.pages(listing):
            page = [
                {**permission, "fileId": file["id"]}
                for file in files
                for permission in file.get("permissions") or []
            ]
            if page:
                yield page


INTEGRATION = Integration(
    platform=Platform(
        slug="google-drive",
        name="Google Drive",
        category="file-storage",
        description="Files, shared drives and sharing settings from Google Drive.",
        auth_type=AuthType.OAUTH2,
        data_types=data_types(STREAMS),
    ),
    api_base_url="https://www.googleapis.com/drive/v3",
    docs_url="https://developers.google.com/workspace/drive/api/reference/rest/v3",
    oauth=OAuthSpec(
        authorize_url="https://accounts.google.com/o/oauth2/v2/auth",
        token_url="https://oauth2.googleapis.com/token",
        # drive.readonly is a restricted scope: a public app needs Google's verification and
        # a security assessment. openid + email put the account's address in the ID token.
        scopes=("openid", "email", "https://www.googleapis.com/auth/drive.readonly"),
        pkce=True,
        # offline: issue a refresh token; consent: issue it again on every reconnect.
        authorize_params={"access_type": "offline", "prompt": "consent"},
    ),
    connector=GoogleDriveConnector,
)
