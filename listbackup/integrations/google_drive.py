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

import dataclasses
import json
import logging
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

from listbackup.integrations.base import Connector, ConnectorContext, Integration, OAuthSpec, Record
from listbackup.integrations.errors import ConnectorError
from listbackup.integrations.http import PlatformClient
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
_ALL_DRIVES = {"supportsAllDrives": "true", "includeItemsFromAllDrives": "true"}

log = logging.getLogger(__name__)


class GoogleDriveConnector(Connector):
    def __init__(self, context: ConnectorContext) -> None:
        super().__init__(context)
        inner = context.transport or httpx.AsyncHTTPTransport()
        self.client = PlatformClient(
            dataclasses.replace(context, transport=QuotaErrorsAsThrottling(inner))
        )

    async def check(self) -> str | None:
        about = await self.client.get_json("/about", params={"fields": "user"})
        user = about.get("user") or {}
        name = user.get("emailAddress") or user.get("displayName")
        return str(name) if name else None

    async def fetch(
        self, data_type: str, *, since: datetime | None = None
    ) -> AsyncIterator[list[Record]]:
        if data_type == "files":
            pages = self._files(FILE_FIELDS, since)
        elif data_type == "drives":
            pages = self._pages(
                "/drives",
                {"pageSize": DRIVES_PAGE_SIZE, "fields": "nextPageToken,drives"},
                "drives",
            )
        elif data_type == "permissions":
            pages = self._permissions()
        elif data_type == "revisions":
            pages = self._per_file(
                "revisions",
                {
                    "pageSize": REVISIONS_PAGE_SIZE,
                    "fields": _list_fields("revisions", REVISION_FIELDS),
                },
                since,
            )
        elif data_type == "comments":
            params: dict[str, Any] = {
                "pageSize": COMMENTS_PAGE_SIZE,
                "fields": _list_fields("comments", COMMENT_FIELDS),
                "includeDeleted": "false",
            }
            if since is not None:
                params["startModifiedTime"] = _rfc3339(since)
            pages = self._per_file("comments", params, None)
        else:
            raise self.unknown(data_type)
        async for page in pages:
            yield page

    def _files(self, fields: str, since: datetime | None) -> AsyncIterator[list[Record]]:
        params: dict[str, Any] = {
            "pageSize": FILES_PAGE_SIZE,
            "fields": f"nextPageToken,incompleteSearch,files({fields})",
            "corpora": "allDrives",
            **_ALL_DRIVES,
        }
        if since is not None:
            params["q"] = f"modifiedTime > '{_rfc3339(since)}'"
        return self._pages("/files", params, "files")

    async def _pages(
        self, url: str, params: Mapping[str, Any], name: str
    ) -> AsyncIterator[list[Record]]:
        """Page-token pagination; a short or empty page is not the end, a missing token is."""
        query = dict(params)
        while True:
            body = await self.client.get_json(url, params=query)
            if body.get("incompleteSearch"):
                # allDrives could not search every shared drive; Drive says which it skipped
                # nowhere, so the listing may be short.
                log.warning("Google Drive reported an incomplete search of %s", url)
            page: list[Record] = body.get(name) or []
            if page:
                yield page
            token = body.get("nextPageToken")
            if not token or token == query.get("pageToken"):
                return
            query["pageToken"] = token

    async def _permissions(self) -> AsyncIterator[list[Record]]:
        async for drives in self._pages(
            "/drives",
            {"pageSize": DRIVES_PAGE_SIZE, "fields": "nextPageToken,drives(id)"},
            "drives",
        ):
            for drive in drives:
                async for page in self._of_file(
                    str(drive["id"]),
                    "permissions",
                    {
                        "pageSize": PERMISSIONS_PAGE_SIZE,
                        "supportsAllDrives": "true",
                        "fields": _list_fields("permissions", PERMISSION_FIELDS),
                    },
                ):
                    yield [{**p, "driveId": drive["id"]} for p in page]
        async for files in self._files(f"id,permissions({PERMISSION_FIELDS})", None):
            page = [
                {**permission, "fileId": file["id"]}
                for file in files
                for permission in file.get("permissions") or []
            ]
            if page:
                yield page

    async def _per_file(
        self, name: str, params: Mapping[str, Any], since: datetime | None
    ) -> AsyncIterator[list[Record]]:
        """``name`` (revisions, comments) of every file but folders and shortcuts."""
        async for files in self._files("id,mimeType", since):
            for file in files:
                if file.get("mimeType") in (FOLDER, SHORTCUT):
                    continue
                try:
                    async for page in self._of_file(str(file["id"]), name, params):
                        yield page
                except ConnectorError as exc:
                    if exc.status not in (403, 404):
                        raise

    async def _of_file(
        self, file_id: str, name: str, params: Mapping[str, Any]
    ) -> AsyncIterator[list[Record]]:
        async for page in self._pages(f"/files/{file_id}/{name}", params, name):
            yield [{**item, "fileId": file_id} for item in page]

    async def aclose(self) -> None:
        await self.client.aclose()


class QuotaErrorsAsThrottling(httpx.AsyncBaseTransport):
    """Turns Drive's quota 403s (``userRateLimitExceeded``, ``rateLimitExceeded``) into the 429
    they mean, so the client backs off instead of reporting the credentials refused."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        if response.status_code != 403:
            return response
        content = await response.aread()
        await response.aclose()
        status = 429 if _quota_reason(content) else 403
        headers = [
            (name, value)
            for name, value in response.headers.multi_items()
            if name.lower() not in ("content-encoding", "content-length", "transfer-encoding")
        ]
        return httpx.Response(status, headers=headers, content=content, request=request)

    async def aclose(self) -> None:
        await self._inner.aclose()


def _quota_reason(content: bytes) -> bool:
    try:
        error = json.loads(content).get("error") or {}
    except (ValueError, AttributeError):
        return False
    if not isinstance(error, dict):
        return False
    reasons = {e.get("reason") for e in error.get("errors") or [] if isinstance(e, dict)}
    return bool(reasons & RATE_LIMIT_REASONS)


def _list_fields(name: str, fields: str) -> str:
    return f"nextPageToken,{name}({fields})"


def _rfc3339(moment: datetime) -> str:
    utc = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%SZ")


INTEGRATION = Integration(
    platform=Platform(
        slug="google-drive",
        name="Google Drive",
        category="file-storage",
        description="Files, shared drives and sharing settings from Google Drive.",
        auth_type=AuthType.OAUTH2,
        data_types=(
            DataType(
                "drives",
                "Shared drives",
                "Shared drives the user is a member of.",
                Frequency.WEEKLY,
            ),
            # Google Docs, Sheets and Slides have no binary content; they are exported.
            DataType(
                "files",
                "Files",
                "File and folder metadata plus content.",
                Frequency.DAILY,
                depends_on=("drives",),
            ),
            DataType(
                "permissions",
                "Permissions",
                "Who each file and shared drive is shared with.",
                Frequency.DAILY,
                depends_on=("drives", "files"),
            ),
            DataType(
                "revisions",
                "Revisions",
                "Earlier versions of each file.",
                Frequency.DAILY,
                depends_on=("files",),
            ),
            DataType(
                "comments",
                "Comments",
                "Comments and replies on files.",
                Frequency.DAILY,
                depends_on=("files",),
            ),
        ),
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
