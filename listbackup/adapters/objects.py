"""Backup files in S3: gzip-compressed NDJSON written by multipart upload as records
arrive, and the few object operations around them (manifest, clean-up, download links).

Memory stays flat whatever a file holds: at most one part is buffered, plus the page
being encoded. Size and sha256 are of the stored (compressed) bytes, computed as they
are produced, so a manifest can be checked against a download byte for byte.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
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
    from types_aiobotocore_s3.type_defs import CompletedPartTypeDef, ObjectIdentifierTypeDef

log = logging.getLogger(__name__)
T = TypeVar("T")

MIB = 1024 * 1024
DEFAULT_PART_SIZE = 8 * MIB
#: S3's minimum for every part but the last.
MIN_PART_SIZE = 5 * MIB
#: By measurement (docs/performance.md, "Backup files"): 6 stores 18% less than 3 for
#: about 1 µs more CPU per demo record; 9 saves 12% more for over 4 times the CPU.
DEFAULT_LEVEL = 6
#: The longest a SigV4 presigned URL may live.
MAX_URL_SECONDS = 7 * 86_400
GZIP_TYPE = "application/gzip"
_GZIP_WBITS = 31  # zlib's gzip header and trailer: one gzip member, as zcat reads
_LINE = orjson.OPT_APPEND_NEWLINE
_DELETE_BATCH = 1000  # DeleteObjects' limit


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
        self._part_size = part_size
        self._kms_key_id = kms_key_id
        self._deflate = zlib.compressobj(level, zlib.DEFLATED, _GZIP_WBITS)
        self._sha256 = hashlib.sha256()
        self._buffer = io.BytesIO()
        self._upload_id: str | None = None
        self._parts: list[CompletedPartTypeDef] = []
        self._records = self._size = 0
        self._closed = False

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc is None:
            await self.abort()
        else:
            await self._abort_quietly()

    async def write(self, records: Sequence[Mapping[str, Any]]) -> None:
        """Append a page of records; upload a part when one is full."""
        self._check_open()
        if not records:
            return
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
            body, self._buffer = _rewound(self._buffer), io.BytesIO()
            args = _put_args(body, self._sha256.digest(), GZIP_TYPE, self._kms_key_id)
            await self._call(
                "PutObject", self._s3.put_object(Bucket=self.bucket, Key=self.key, **args)
            )
        else:
            await self._upload_part()
            done = self._s3.complete_multipart_upload(
                Bucket=self.bucket,
                Key=self.key,
                UploadId=self._upload_id,
                MultipartUpload={"Parts": self._parts},
            )
            await self._call("CompleteMultipartUpload", done)
        self._closed, self._upload_id = True, None
        return StoredObject(self.key, self._records, self._size, self._sha256.hexdigest())

    async def abort(self) -> None:
        """Drop the file and its uploaded parts. Idempotent; after ``complete()`` it does
        nothing (delete the object to undo that)."""
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
        body, self._buffer = _rewound(self._buffer), io.BytesIO()
        upload = self._s3.upload_part(
            Bucket=self.bucket,
            Key=self.key,
            UploadId=self._upload_id,
            PartNumber=number,
            Body=body,
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
        """Abort while another error is on its way: that one is the error to report."""
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
        args = _put_args(body, digest.digest(), "application/json", kms_key_id)
        await s3.put_object(Bucket=bucket, Key=key, **args)
    except (ClientError, BotoCoreError) as exc:
        raise _failed("PutObject", key, exc) from None
    return StoredObject(key, 1, len(body), digest.hexdigest())


async def abort_incomplete_uploads(s3: S3Client, *, bucket: str, prefix: str) -> int:
    """Abort every multipart upload under ``prefix`` (a crashed writer's parts); return
    how many. A live writer's upload is aborted too: call it on a prefix nobody else is
    writing, such as that of a job about to be retried."""
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
    """Delete everything under ``prefix`` for good and return how many versions went.

    Every version and delete marker goes, not only the current objects: in the versioned
    bucket a plain delete only hides the data behind a marker, and keeps it for the
    noncurrent-version lifetime (two years), after the customer asked for it to go.
    """
    _check_folder(prefix)
    deleted = 0
    try:
        pages = s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix)
        async for page in pages:
            versions: list[ObjectIdentifierTypeDef] = [
                {"Key": v["Key"], "VersionId": v["VersionId"]}
                for v in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
            ]
            for start in range(0, len(versions), _DELETE_BATCH):
                batch = versions[start : start + _DELETE_BATCH]
                response = await s3.delete_objects(
                    Bucket=bucket, Delete={"Objects": batch, "Quiet": True}
                )
                # DeleteObjects answers 200 and lists what it could not delete.
                if errors := response.get("Errors"):
                    code = errors[0].get("Code", "")
                    raise InfrastructureError(f"S3 DeleteObjects of {prefix} failed: {code}")
                deleted += len(batch)
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


def _rewound(buffer: io.BytesIO) -> io.BytesIO:
    """The buffer itself as the body, sent from its own memory: bytes would be copied on
    the way (botocore wraps them in a BytesIO, which aiohttp's getbuffer() unshares), and
    a second part would be in memory while the first is sent."""
    buffer.seek(0)
    return buffer


def _put_args(
    body: bytes | io.BytesIO, sha256: bytes, content_type: str, kms_key_id: str | None
) -> dict[str, Any]:
    return {
        "Body": body,
        "ContentType": content_type,
        # S3 checks the body against the hash we record: what is stored is what the
        # manifest describes.
        "ChecksumSHA256": base64.b64encode(sha256).decode(),
        **_encryption(kms_key_id),
    }


def _encryption(kms_key_id: str | None) -> dict[str, Any]:
    """SSE-KMS with that key, or nothing: the bucket's default encryption applies."""
    if kms_key_id is None:
        return {}
    # A bucket key: S3 asks KMS for a data key per bucket and period rather than per
    # object and part, sparing KMS's request quota (and cost) on large backups.
    return {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key_id, "BucketKeyEnabled": True}


def _failed(operation: str, target: str, exc: ClientError | BotoCoreError) -> InfrastructureError:
    # By code alone: S3's messages may quote our request.
    return InfrastructureError(f"S3 {operation} of {target} failed: {error_code(exc)}")


def _check_folder(prefix: str) -> None:
    # "acct-1" would also match "acct-10/...": whole folders only, never the bucket root.
    if not prefix.endswith("/") or prefix == "/":
        raise ValueError(f"the prefix must be a folder, ending in '/': {prefix!r}")


def _encode(records: Sequence[Mapping[str, Any]]) -> bytes:
    try:
        return b"".join([orjson.dumps(r, default=_plain, option=_LINE) for r in records])
    except orjson.JSONEncodeError:
        return b"".join([_encode_one(r) for r in records])


def _encode_one(record: Mapping[str, Any]) -> bytes:
    try:
        return orjson.dumps(record, default=_plain, option=_LINE)
    except orjson.JSONEncodeError:
        # orjson refuses integers beyond 64 bits, which JSON (and so some platforms' ids)
        # allows; the standard library writes them. What it refuses too is a bug.
        text = json.dumps(record, default=_plain, ensure_ascii=False, separators=(",", ":"))
        return text.encode() + b"\n"


def _plain(value: object) -> object:
    """A mapping that is not a dict, as a dict; the encoders know nothing else."""
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
