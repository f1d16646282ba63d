"""Google Drive against a local fake of its documented v3 REST API (page tokens)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from listbackup.integrations.base import TokenSource
from listbackup.integrations.errors import CredentialsRejected
from listbackup.integrations.google_drive import (
    FOLDER,
    GoogleDriveConnector,
)
from tests.integrations.fakes import (
    Fake,
    FakeApi,
    Sleeps,
    StaticTokens,
    collect,
    context,
    too_many_requests,
)

BASE = "https://drive.googleapis.test/drive/v3"
START = datetime(2025, 1, 1, tzinfo=UTC)
Item = dict[str, Any]


def make_files(count: int) -> list[Item]:
    files = []
    for n in range(count):
        file: Item = {
            "id": f"file{n:05d}",
            "name": f"File {n}",
            "mimeType": FOLDER if n % 10 == 0 else "text/plain",
            "modifiedTime": (START + timedelta(minutes=n)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        }
        if n % 7 == 0:
            file["permissions"] = [{"id": "anyoneWithLink", "type": "anyone", "role": "reader"}]
        files.append(file)
    return files


FILES = make_files(2500)
DRIVES = [{"id": f"drive{n}", "name": f"Team {n}"} for n in range(3)]
QUOTA_403 = {
    "error": {
        "code": 403,
        "errors": [{"domain": "usageLimits", "reason": "userRateLimitExceeded"}],
        "message": "User rate limit exceeded.",
    }
}


class FakeDrive:
    """Serves ``files`` in the Drive's pages; ``trouble`` answers the first page-2 request."""

    def __init__(
        self,
        files: list[Item] = FILES,
        *,
        accepts: str = "token-1",
        trouble: httpx.Response | None = None,
    ) -> None:
        self.files = files
        self.token = accepts
        self.trouble = trouble
        self.api = FakeApi(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return httpx.Response(401, json={"error": {"code": 401, "status": "UNAUTHENTICATED"}})
        path = request.url.path.removeprefix("/drive/v3")
        params = request.url.params
        if path == "/about":
            assert params["fields"] == "user"
            return httpx.Response(
                200, json={"user": {"displayName": "Ada", "emailAddress": "ada@example.test"}}
            )
        if path == "/files":
            return self.list_files(params)
        if path == "/drives":
            return httpx.Response(200, json={"drives": DRIVES})
        file_id, _, kind = path.removeprefix("/files/").partition("/")
        return self.of_file(file_id, kind, params)

    def list_files(self, params: httpx.QueryParams) -> httpx.Response:
        assert params["supportsAllDrives"] == "true"
        assert params["includeItemsFromAllDrives"] == "true"
        assert params["corpora"] == "allDrives"
        assert params["fields"].startswith("nextPageToken,incompleteSearch,files(")
        token = params.get("pageToken")
        if token and self.trouble is not None:
            trouble, self.trouble = self.trouble, None
            return trouble
        files = self.files
        if "q" in params:
            after = params["q"].removeprefix("modifiedTime > '").removesuffix("'")
            files = [f for f in files if f["modifiedTime"][:19] > after[:19]]
        start = int(token or 0)
        size = int(params["pageSize"])
        body: Item = {"files": files[start : start + size]}
        if start + size < len(files):
            body["nextPageToken"] = str(start + size)
        return httpx.Response(200, json=body)

    def of_file(self, file_id: str, kind: str, params: httpx.QueryParams) -> httpx.Response:
        assert params["fields"].startswith(f"nextPageToken,{kind}(")
        if file_id.endswith("3"):
            reason = {"reason": "insufficientFilePermissions"}
            return httpx.Response(403, json={"error": {"code": 403, "errors": [reason]}})
        if file_id.endswith("5"):
            return httpx.Response(404, json={"error": {"code": 404}})
        token = params.get("pageToken")
        items = [{"id": f"{kind[:3]}-{file_id}-{n}"} for n in range(3)]
        if token is None:
            return httpx.Response(200, json={kind: items[:2], "nextPageToken": "2"})
        return httpx.Response(200, json={kind: items[2:]})


def connector(
    drive: FakeDrive, *, sleeps: Sleeps | None = None, tokens: TokenSource | None = None
) -> GoogleDriveConnector:
    return GoogleDriveConnector(
        context(drive.api, BASE, tokens=tokens or StaticTokens(), sleeps=sleeps)
    )


def platform_fake(accepts: str = "token-1") -> Fake:
    drive = FakeDrive(make_files(30), accepts=accepts)
    return Fake(lambda tokens: connector(drive, tokens=tokens), drive.api, "files")


def ids(pages: list[list[Item]]) -> list[str]:
    return [str(r["id"]) for page in pages for r in page]


async def test_every_file_once_in_order_through_a_429() -> None:
    drive, sleeps = FakeDrive(trouble=too_many_requests("5")), Sleeps()

    pages = await collect(connector(drive, sleeps=sleeps), "files")

    assert ids(pages) == [f["id"] for f in FILES]
    assert [len(p) for p in pages] == [1000, 1000, 500]
    assert sleeps.waits == [5.0]  # the Retry-After, honoured
    assert all(r.url.params["pageSize"] == "1000" for r in drive.api.requests)
    assert [r.url.params.get("pageToken") for r in drive.api.requests] == [
        None,
        "1000",
        "1000",
        "2000",
    ]


async def test_a_quota_403_is_throttling_not_a_refusal() -> None:
    drive, sleeps = FakeDrive(trouble=httpx.Response(403, json=QUOTA_403)), Sleeps()

    pages = await collect(connector(drive, sleeps=sleeps), "files")

    assert ids(pages) == [f["id"] for f in FILES]
    assert len(sleeps.waits) == 1  # backed off once (no Retry-After: jittered backoff)


async def test_any_other_403_is_credentials_rejected() -> None:
    forbidden = {"error": {"code": 403, "errors": [{"reason": "insufficientPermissions"}]}}
    drive = FakeDrive(trouble=httpx.Response(403, json=forbidden))

    with pytest.raises(CredentialsRejected):
        await collect(connector(drive), "files")


async def test_check_names_the_user_by_email() -> None:
    assert await connector(FakeDrive()).check() == "ada@example.test"


async def test_since_becomes_a_modified_time_query() -> None:
    drive = FakeDrive()
    since = START + timedelta(minutes=2000, seconds=30)

    pages = await collect(connector(drive), "files", since=since)

    assert drive.api.requests[0].url.params["q"] == "modifiedTime > '2025-01-02T09:20:30Z'"
    assert ids(pages) == [f["id"] for f in FILES[2001:]]


async def test_drives_are_listed() -> None:
    pages = await collect(connector(FakeDrive()), "drives")

    assert ids(pages) == ["drive0", "drive1", "drive2"]


async def test_permissions_of_shared_drives_and_of_listed_files() -> None:
    drive = FakeDrive(make_files(30))

    pages = await collect(connector(drive), "permissions")

    records = [r for page in pages for r in page]
    of_drives = [r for r in records if "driveId" in r]
    assert [(r["driveId"], r["fileId"]) for r in of_drives] == [
        (d, d) for d in ("drive0", "drive1", "drive2") for _ in range(3)
    ]
    of_files = [r["fileId"] for r in records if "driveId" not in r]
    assert of_files == [f"file{n:05d}" for n in range(0, 30, 7)]  # from the listing itself
    per_file_calls = [r for r in drive.api.requests if r.url.path.count("/") > 4]
    assert {r.url.path.split("/")[4] for r in per_file_calls} == {"drive0", "drive1", "drive2"}


async def test_revisions_of_every_file_but_folders_skipping_unreadable_ones() -> None:
    drive = FakeDrive(make_files(30))

    pages = await collect(connector(drive), "revisions")

    expected = [
        (f"rev-file{n:05d}-{i}", f"file{n:05d}")
        for n in range(30)
        if n % 10 != 0 and n % 10 not in (3, 5)  # folders; a 403 and a 404 file
        for i in range(3)
    ]
    assert [(r["id"], r["fileId"]) for page in pages for r in page] == expected


async def test_revisions_since_only_ask_files_modified_since() -> None:
    drive = FakeDrive(make_files(30))

    await collect(connector(drive), "revisions", since=START + timedelta(minutes=20))

    assert drive.api.requests[0].url.params["q"] == "modifiedTime > '2025-01-01T00:20:00Z'"
    asked = {r.url.path.split("/")[4] for r in drive.api.requests[1:]}
    assert asked == {f"file{n:05d}" for n in range(21, 30)}


async def test_comments_since_use_start_modified_time_on_every_file() -> None:
    drive = FakeDrive(make_files(12))

    pages = await collect(connector(drive), "comments", since=START)

    listing, *per_file = drive.api.requests
    assert "q" not in listing.url.params  # a new comment does not touch the file
    assert {r.url.params["startModifiedTime"] for r in per_file} == {"2025-01-01T00:00:00Z"}
    assert {r["fileId"] for page in pages for r in page} == {
        "file00001",
        "file00002",
        "file00004",
        "file00006",
        "file00007",
        "file00008",
        "file00009",
        "file00011",
    }
