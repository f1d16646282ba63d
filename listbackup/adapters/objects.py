"""Backup files in S3: gzip-compressed NDJSON written by multipart upload as records
arrive, holding one part in memory whatever the file's size; and the few operations
around them (manifest, clean-up, download links). Size and sha256 are of the stored
bytes, so a manifest can be checked against a download byte for byte."""

from __future__ import annotations

import base64
import hashlib
import io
import logging
import zlib
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, TypeVar
from urllib.parse import parse_qs, urlsplit

import orjson
from botocore.exceptions import BotoCoreError, ClientError

from listbackup.aws import error_code
from listbackup.errors import InfrastructureError

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client
    from types_aiobotocore_s3 import type_defs as s3types

log = logging.getLogger(__name__)
T = TypeVar("T")

MIB = 1024 * 1024
DEFAULT_PART_SIZE = 8 * MIB
MIN_PART_SIZE = 5 * MIB  # S3's minimum, for every part but the last
#: By measurement (docs/performance.md, "Backup files"): 6 stores 18% less than 3 for
#: about 1 µs more CPU per demo record; 9 saves 12% more for over 4 times the CPU.
DEFAULT_LEVEL = 6
MAX_URL_SECONDS = 7 * 86_400  # the longest a SigV4 presigned URL may live
GZIP_TYPE = "application/gzip"
_GZIP_WBITS = 31  # zlib's gzip header and trailer: one gzip member, as zcat reads
_LINE = orjson.OPT_APPEND_NEWLINE


@dataclass(frozen=True, slots=True)
class StoredObject:
    key: str
    record_count: int
    size_bytes: int
    #: Hex sha256 of the bytes stored (the compressed file, not the records).
    sha256: str


class NdjsonWriter:
    """One object of gzip-compressed NDJSON, uploaded in parts as pages are written.

    ``async with NdjsonWriter(s3, bucket=b, key=k) as w: await w.write(page); ...;
    stored = await w.complete()``. The object exists only once ``complete()`` has
    returned: leaving the block without it (by an exception or not) aborts, and so does
    any S3 failure. One task per writer: ``write`` and ``complete`` never overlap.
    """

    def __init__(
        self,
        s3: S3Client,
        *,
        bucket: str,
        key: str,
        level: int = DEFAULT_LEVEL,
        part_size: int = DEFAULT_PART_SIZE,
        kms_key_id: str | None = None,
    ) -> None:
        if part_size < MIN_PART_SIZE:
            raise ValueError(f"part_size must be at least {MIN_PART_SIZE} bytes (S3's minimum)")
        self._s3, self.bucket, self.key = s3, bucket, key
        self._part_size, self._kms_key_id = part_size, kms_key_id
        self._deflate = zlib.compressobj(level, zlib.DEFLATED, _GZIP_WBITS)
        self._sha256 = hashlib.sha256()
        self._buffer = io.BytesIO()
        self._upload_id: str | None = None
        self._parts: list[s3types.CompletedPartTypeDef] = []
        self._records = self._size = 0
        self._closed = False

    @property
    def size_bytes(self) -> int:
        """Compressed bytes produced so far (uploaded or waiting for the next part)."""
        return self._size

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._abort_quietly()  # after complete(), a no-op

    async def write(self, records: Sequence[Mapping[str, Any]]) -> None:
        """Append a page of records; upload a part when one is full."""
        self._check_open()
        # One compress call per page: CPU per call is bounded by the page, not the file.
        self._take(self._deflate.compress(_encode(records)))
        self._records += len(records)
        if self._buffer.tell() >= self._part_size:
            await self._upload_part()

    async def complete(self) -> StoredObject:
        """Finish the file: its last part and CompleteMultipartUpload, or one PutObject
        when it is smaller than a part (0 records make an empty gzip member)."""
        self._check_open()
        self._take(self._deflate.flush())
        if self._upload_id is None:
            args = _put_args(self._sha256.digest(), GZIP_TYPE, self._kms_key_id)
            put = self._s3.put_object(Bucket=self.bucket, Key=self.key, Body=self._body(), **args)
            await self._call("PutObject", put)
        else:
            await self._upload_part()
            parts: s3types.CompletedMultipartUploadTypeDef = {"Parts": self._parts}
            done = self._s3.complete_multipart_upload(
                Bucket=self.bucket, Key=self.key, UploadId=self._upload_id, MultipartUpload=parts
            )
            await self._call("CompleteMultipartUpload", done)
        self._closed, self._upload_id = True, None
        return StoredObject(self.key, self._records, self._size, self._sha256.hexdigest())

    async def abort(self) -> None:
        """Drop the file and its uploaded parts; idempotent, and a no-op after complete()."""
        self._closed, self._buffer = True, io.BytesIO()
        if self._upload_id is not None:
            await _abort(self._s3, self.bucket, self.key, self._upload_id)
            self._upload_id = None

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError(f"the writer of {self.key} is closed")

    def _take(self, chunk: bytes) -> None:
        self._sha256.update(chunk)
        self._size += len(chunk)
        self._buffer.write(chunk)

    def _body(self) -> io.BytesIO:
        # The buffer itself, sent from its own memory: bytes would be copied on the way
        # (botocore wraps them in a BytesIO, which aiohttp's getbuffer() unshares).
        body, self._buffer = self._buffer, io.BytesIO()
        body.seek(0)
        return body

    async def _upload_part(self) -> None:
        if self._upload_id is None:
            create = self._s3.create_multipart_upload(
                Bucket=self.bucket,
                Key=self.key,
                ContentType=GZIP_TYPE,
                # S3 then checks every part against the CRC32 botocore sends with it,
                # and refuses a part without one.
                ChecksumAlgorithm="CRC32",
                **_encryption(self._kms_key_id),
            )
            self._upload_id = (await self._call("CreateMultipartUpload", create))["UploadId"]
        number = len(self._parts) + 1
        upload = self._s3.upload_part(
            Bucket=self.bucket,
            Key=self.key,
            UploadId=self._upload_id,
            PartNumber=number,
            Body=self._body(),
            ChecksumAlgorithm="CRC32",
        )
        part = await self._call("UploadPart", upload)
        self._parts.append(
            {"PartNumber": number, "ETag": part["ETag"], "ChecksumCRC32": part["ChecksumCRC32"]}
        )

    async def _call(self, operation: str, call: Awaitable[T]) -> T:
        try:
            return await call
        except (ClientError, BotoCoreError) as exc:
            await self._abort_quietly()
            raise _failed(operation, self.key, exc) from None

    async def _abort_quietly(self) -> None:
        """Abort, logging a failure: another error is on its way, or nothing was asked."""
        try:
            await self.abort()
        except InfrastructureError as exc:
            log.warning("%s; abort_incomplete_uploads will find the upload", exc)


async def put_json(
    s3: S3Client, *, bucket: str, key: str, value: object, kms_key_id: str | None = None
) -> StoredObject:
    """One JSON document (a manifest), indented with sorted keys so that it reads and
    diffs well. Its record count is 1."""
    body = orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS | _LINE)
    digest = hashlib.sha256(body)
    try:
        args = _put_args(digest.digest(), "application/json", kms_key_id)
        await s3.put_object(Bucket=bucket, Key=key, Body=body, **args)
    except (ClientError, BotoCoreError) as exc:
        raise _failed("PutObject", key, exc) from None
    return StoredObject(key, 1, len(body), digest.hexdigest())


async def abort_incomplete_uploads(s3: S3Client, *, bucket: str, prefix: str) -> int:
    """Abort every multipart upload under ``prefix`` (a crashed writer's parts); return
    how many. A live writer's is aborted too: use it on a prefix nobody is writing."""
    _check_folder(prefix)
    aborted = 0
    try:
        pages = s3.get_paginator("list_multipart_uploads").paginate(Bucket=bucket, Prefix=prefix)
        async for page in pages:
            for upload in page.get("Uploads", []):
                await _abort(s3, bucket, upload["Key"], upload["UploadId"])
                aborted += 1
    except (ClientError, BotoCoreError) as exc:
        raise _failed("ListMultipartUploads", prefix, exc) from None
    return aborted


async def delete_prefix(s3: S3Client, *, bucket: str, prefix: str) -> int:
    """Delete every version and delete marker under ``prefix``; return how many. In the
    versioned bucket a plain delete only hides data behind a marker, for two years."""
    _check_folder(prefix)
    deleted = 0
    try:
        # Pages of at most 1000 versions and markers: what one DeleteObjects takes.
        pages = s3.get_paginator("list_object_versions").paginate(
            Bucket=bucket, Prefix=prefix, PaginationConfig={"PageSize": 1000}
        )
        async for page in pages:
            versions: list[s3types.ObjectIdentifierTypeDef] = [
                {"Key": v["Key"], "VersionId": v["VersionId"]}
                for v in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
            ]
            if not versions:
                continue
            deleting: s3types.DeleteTypeDef = {"Objects": versions, "Quiet": True}
            response = await s3.delete_objects(Bucket=bucket, Delete=deleting)
            # DeleteObjects answers 200 and lists what it could not delete.
            if errors := response.get("Errors"):
                code = errors[0].get("Code", "")
                raise InfrastructureError(f"S3 DeleteObjects of {prefix} failed: {code}")
            deleted += len(versions)
    except (ClientError, BotoCoreError) as exc:
        raise _failed("DeleteObjects", prefix, exc) from None
    return deleted


async def download_url(s3: S3Client, *, bucket: str, key: str, expires_seconds: int = 900) -> str:
    """A presigned GET of the object, signed with SigV4 or refused."""
    if not 1 <= expires_seconds <= MAX_URL_SECONDS:
        raise ValueError(f"expires_seconds must be from 1 to {MAX_URL_SECONDS}")
    try:
        url = await s3.generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=expires_seconds
        )
    except (ClientError, BotoCoreError) as exc:
        raise _failed("presigning", key, exc) from None
    # botocore presigns S3 URLs with SigV2 in the regions that still accept it, unless
    # the client's config says signature_version="s3v4".
    if parse_qs(urlsplit(url).query).get("X-Amz-Algorithm") != ["AWS4-HMAC-SHA256"]:
        raise InfrastructureError("the S3 client presigns without SigV4: configure s3v4")
    return url


async def _abort(s3: S3Client, bucket: str, key: str, upload_id: str) -> None:
    try:
        await s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
    except (ClientError, BotoCoreError) as exc:
        if error_code(exc) != "NoSuchUpload":  # else aborted already: what was asked
            raise _failed("AbortMultipartUpload", key, exc) from None


def _put_args(sha256: bytes, content_type: str, kms_key_id: str | None) -> dict[str, Any]:
    # S3 checks the body against the sha256 we record: what is stored is what we describe.
    checksum = base64.b64encode(sha256).decode()
    return {"ContentType": content_type, "ChecksumSHA256": checksum, **_encryption(kms_key_id)}


def _encryption(kms_key_id: str | None) -> dict[str, Any]:
    """SSE-KMS with that key, or nothing: the bucket's default encryption applies."""
    if kms_key_id is None:
        return {}
    # A bucket key: S3 asks KMS for a data key per bucket and period, not per object and
    # part, sparing KMS's request quota (and cost) on large backups.
    return {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key_id, "BucketKeyEnabled": True}


def _failed(operation: str, target: str, exc: ClientError | BotoCoreError) -> InfrastructureError:
    # By code alone: S3's messages may quote our request.
    return InfrastructureError(f"S3 {operation} of {target} failed: {error_code(exc)}")


def _check_folder(prefix: str) -> None:
    # "acct-1" would also match "acct-10/...": whole folders only, never the bucket root.
    if not prefix.endswith("/") or prefix == "/":
        raise ValueError(f"the prefix must be a folder, ending in '/': {prefix!r}")


def _encode(records: Sequence[Mapping[str, Any]]) -> bytes:
    # default=dict writes a mapping that is not a dict as one. What orjson refuses (an
    # integer beyond 64 bits) raises orjson.JSONEncodeError, a TypeError.
    return b"".join([orjson.dumps(r, default=dict, option=_LINE) for r in records])
