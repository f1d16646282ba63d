"""Backup files in S3, against the local moto: round trips, aborts, clean-up, links."""

from __future__ import annotations

import asyncio
import base64
import gzip
import hashlib
import os
from collections.abc import AsyncIterator
from functools import cache
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NoReturn

import aioboto3
import httpx
import orjson
import pytest
from aiobotocore.config import AioConfig
from botocore.exceptions import ClientError, NoCredentialsError

from listbackup.adapters.objects import (
    MIN_PART_SIZE,
    NdjsonWriter,
    StoredObject,
    abort_incomplete_uploads,
    delete_prefix,
    download_url,
    put_json,
)
from listbackup.aws import AwsClients
from listbackup.config import Settings
from listbackup.errors import InfrastructureError

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client

Record = dict[str, Any]


@cache
def incompressible(count: int) -> list[Record]:
    """Records of random base64 (~4 KB each), which gzip barely shrinks: a few thousand
    fill S3's smallest parts."""
    blob = base64.b64encode(os.urandom(3 * count * 1024)).decode()
    return [{"n": n, "blob": blob[n * 4096 : (n + 1) * 4096]} for n in range(count)]


def contacts(count: int) -> list[Record]:
    return [{"id": f"contact-{n:07d}", "email": f"user{n}@example.test"} for n in range(count)]


async def read(s3: S3Client, bucket: str, key: str) -> bytes:
    response = await s3.get_object(Bucket=bucket, Key=key)
    return await response["Body"].read()


async def uploads(s3: S3Client, bucket: str) -> list[str]:
    listed = await s3.list_multipart_uploads(Bucket=bucket)
    return [upload["Key"] for upload in listed.get("Uploads", [])]


async def exists(s3: S3Client, bucket: str, key: str) -> bool:
    try:
        await s3.head_object(Bucket=bucket, Key=key)
    except ClientError:
        return False
    return True


class Refusing:
    """The real S3 client, but the named calls fail with ``error``."""

    def __init__(self, s3: S3Client, error: Exception, *calls: str) -> None:
        self._s3, self._error, self._calls = s3, error, calls

    def __getattr__(self, name: str) -> Any:
        if name not in self._calls:
            return getattr(self._s3, name)

        async def refuse(*_: Any, **__: Any) -> NoReturn:
            raise self._error

        return refuse


def aws_error(code: str, operation: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "quotes k=v"}}, operation)


def assert_stored(stored: StoredObject, body: bytes, records: list[Record]) -> None:
    assert stored.sha256 == hashlib.sha256(body).hexdigest()
    assert stored.size_bytes == len(body)
    assert stored.record_count == len(records)
    lines = gzip.decompress(body).splitlines()
    assert [orjson.loads(line) for line in lines] == records


async def test_a_file_of_several_parts_round_trips(aws: AwsClients, settings: Settings) -> None:
    s3, bucket, key = aws.s3, settings.bucket, "jobs/j1/blobs.ndjson.gz"
    records = incompressible(3000)  # ~9 MiB stored: one 5 MiB part and the rest
    kms_key = (await aws.kms.create_key())["KeyMetadata"]["Arn"]

    async with NdjsonWriter(
        s3, bucket=bucket, key=key, level=1, part_size=MIN_PART_SIZE, kms_key_id=kms_key
    ) as writer:
        for start in range(0, len(records), 500):
            await writer.write(records[start : start + 500])
        stored = await writer.complete()

    body = await read(s3, bucket, key)
    assert_stored(stored, body, records)
    head = await s3.head_object(Bucket=bucket, Key=key)
    assert head["ETag"].endswith('-2"')  # two parts
    assert head["ContentType"] == "application/gzip"
    assert "ContentEncoding" not in head  # or HTTP clients would unzip the download
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"] == kms_key
    assert await uploads(s3, bucket) == []


async def test_a_small_file_is_one_put_that_zcat_reads(aws: AwsClients, settings: Settings) -> None:
    s3, bucket, key = aws.s3, settings.bucket, "jobs/j1/contacts.ndjson.gz"
    records = contacts(1000)

    async with NdjsonWriter(s3, bucket=bucket, key=key) as writer:
        await writer.write(records[:400])
        await writer.write(records[400:])
        stored = await writer.complete()
        await writer.abort()  # after complete(): nothing to undo

    body = await read(s3, bucket, key)
    assert_stored(stored, body, records)
    head = await s3.head_object(Bucket=bucket, Key=key)
    assert "-" not in head["ETag"]  # a single PutObject
    assert head["ServerSideEncryption"] == "AES256"  # the bucket's default
    zcat = await asyncio.create_subprocess_exec(
        "zcat", stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
    )
    text, _ = await zcat.communicate(body)
    assert text == gzip.decompress(body)
    with pytest.raises(RuntimeError):
        await writer.write(records)


async def test_an_empty_file_is_an_empty_gzip_member(aws: AwsClients, settings: Settings) -> None:
    async with NdjsonWriter(aws.s3, bucket=settings.bucket, key="jobs/j1/none.gz") as writer:
        await writer.write([])
        stored = await writer.complete()

    body = await read(aws.s3, settings.bucket, "jobs/j1/none.gz")
    assert gzip.decompress(body) == b""
    assert stored == StoredObject("jobs/j1/none.gz", 0, len(body), hashlib.sha256(body).hexdigest())


async def test_any_mapping_is_a_record(aws: AwsClients, settings: Settings) -> None:
    records = [MappingProxyType({"name": "Ada", "tags": ("a",), "extra": MappingProxyType({})})]

    async with NdjsonWriter(aws.s3, bucket=settings.bucket, key="jobs/j1/odd.gz") as writer:
        await writer.write(records)
        await writer.complete()

    body = gzip.decompress(await read(aws.s3, settings.bucket, "jobs/j1/odd.gz"))
    assert body == b'{"name":"Ada","tags":["a"],"extra":{}}\n'


async def test_abort_leaves_neither_object_nor_upload(aws: AwsClients, settings: Settings) -> None:
    s3, bucket = aws.s3, settings.bucket
    writer = NdjsonWriter(s3, bucket=bucket, key="jobs/j1/a.gz", level=1, part_size=MIN_PART_SIZE)
    await writer.write(incompressible(2000))  # > 5 MiB: the upload has begun
    assert await uploads(s3, bucket) == ["jobs/j1/a.gz"]

    await writer.abort()
    await writer.abort()

    assert await uploads(s3, bucket) == []
    assert not await exists(s3, bucket, "jobs/j1/a.gz")
    with pytest.raises(RuntimeError):
        await writer.complete()


async def test_leaving_the_block_by_an_exception_aborts(
    aws: AwsClients, settings: Settings
) -> None:
    s3, bucket = aws.s3, settings.bucket

    async def back_up() -> None:
        async with NdjsonWriter(
            s3, bucket=bucket, key="jobs/j1/b.gz", level=1, part_size=MIN_PART_SIZE
        ) as writer:
            await writer.write(incompressible(2000))
            raise KeyError("the platform failed")

    with pytest.raises(KeyError):
        await back_up()
    async with NdjsonWriter(s3, bucket=bucket, key="jobs/j1/c.gz") as writer:
        await writer.write(contacts(10))  # and no complete(): nothing is stored either

    assert await uploads(s3, bucket) == []
    assert not await exists(s3, bucket, "jobs/j1/b.gz")
    assert not await exists(s3, bucket, "jobs/j1/c.gz")


async def test_an_s3_failure_mid_file_is_infrastructure_and_aborts(
    aws: AwsClients, settings: Settings
) -> None:
    refusing = Refusing(aws.s3, aws_error("SlowDown", "UploadPart"), "upload_part")
    writer = NdjsonWriter(
        refusing,  # type: ignore[arg-type]
        bucket=settings.bucket,
        key="jobs/j1/d.gz",
        level=1,
        part_size=MIN_PART_SIZE,
    )
    with pytest.raises(InfrastructureError) as failed:
        await writer.write(incompressible(2000))

    assert str(failed.value) == "S3 UploadPart of jobs/j1/d.gz failed: SlowDown"
    assert failed.value.__cause__ is None
    assert await uploads(aws.s3, settings.bucket) == []
    with pytest.raises(ValueError, match="part_size"):
        NdjsonWriter(aws.s3, bucket=settings.bucket, key="k", part_size=MIN_PART_SIZE - 1)


async def test_an_upload_whose_abort_failed_is_logged_and_found_later(
    aws: AwsClients, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    calls = ("complete_multipart_upload", "abort_multipart_upload")
    refusing = Refusing(aws.s3, aws_error("InternalError", "x"), *calls)
    writer = NdjsonWriter(
        refusing,  # type: ignore[arg-type]
        bucket=settings.bucket,
        key="jobs/j1/h.gz",
        level=1,
        part_size=MIN_PART_SIZE,
    )
    await writer.write(incompressible(2000))

    with pytest.raises(InfrastructureError, match="CompleteMultipartUpload"):
        await writer.complete()

    assert "S3 AbortMultipartUpload of jobs/j1/h.gz failed: InternalError" in caplog.text
    assert await uploads(aws.s3, settings.bucket) == ["jobs/j1/h.gz"]
    prefix = "jobs/j1/"
    assert await abort_incomplete_uploads(aws.s3, bucket=settings.bucket, prefix=prefix) == 1


async def test_a_missing_bucket_is_infrastructure(aws: AwsClients, settings: Settings) -> None:
    missing = f"{settings.bucket}-missing"
    async with NdjsonWriter(aws.s3, bucket=missing, key="jobs/j1/e.gz") as writer:
        await writer.write(contacts(3))
        with pytest.raises(InfrastructureError) as failed:
            await writer.complete()
    assert str(failed.value) == "S3 PutObject of jobs/j1/e.gz failed: NoSuchBucket"
    with pytest.raises(InfrastructureError, match="NoSuchBucket"):
        await put_json(aws.s3, bucket=missing, key="m.json", value={})
    with pytest.raises(InfrastructureError, match="NoSuchBucket"):
        await delete_prefix(aws.s3, bucket=missing, prefix="jobs/")
    with pytest.raises(InfrastructureError, match="NoSuchBucket"):
        await abort_incomplete_uploads(aws.s3, bucket=missing, prefix="jobs/")


async def test_abort_incomplete_uploads_finds_a_crashed_writer(
    aws: AwsClients, settings: Settings
) -> None:
    s3, bucket = aws.s3, settings.bucket
    crashed = NdjsonWriter(s3, bucket=bucket, key="jobs/j1/f.gz", level=1, part_size=MIN_PART_SIZE)
    await crashed.write(incompressible(2000))  # then the process dies: no abort
    other = await s3.create_multipart_upload(Bucket=bucket, Key="jobs/j10/f.gz")

    assert await abort_incomplete_uploads(s3, bucket=bucket, prefix="jobs/j1/") == 1

    assert await uploads(s3, bucket) == ["jobs/j10/f.gz"]
    await s3.abort_multipart_upload(Bucket=bucket, Key="jobs/j10/f.gz", UploadId=other["UploadId"])
    assert await abort_incomplete_uploads(s3, bucket=bucket, prefix="jobs/j1/") == 0


async def test_delete_prefix_removes_every_version_under_it_only(
    aws: AwsClients, settings: Settings
) -> None:
    s3, bucket = aws.s3, settings.bucket
    for key in ("a/1/x.gz", "a/1/x.gz", "a/1/deep/y.gz", "a/10/x.gz", "a/1.json"):
        await s3.put_object(Bucket=bucket, Key=key, Body=b"data")
    await s3.delete_object(Bucket=bucket, Key="a/1/deep/y.gz")  # a delete marker

    assert await delete_prefix(s3, bucket=bucket, prefix="a/1/") == 4

    left = await s3.list_object_versions(Bucket=bucket, Prefix="a/")
    assert sorted(v["Key"] for v in left.get("Versions", [])) == ["a/1.json", "a/10/x.gz"]
    assert left.get("DeleteMarkers", []) == []
    assert await delete_prefix(s3, bucket=bucket, prefix="a/1/") == 0

    class Undeletable:
        def __getattr__(self, name: str) -> Any:
            return getattr(s3, name)

        async def delete_objects(self, **_: Any) -> dict[str, Any]:
            return {"Errors": [{"Key": "a/10/x.gz", "Code": "AccessDenied", "Message": "m"}]}

    with pytest.raises(InfrastructureError) as failed:
        await delete_prefix(Undeletable(), bucket=bucket, prefix="a/10/")  # type: ignore[arg-type]
    assert str(failed.value) == "S3 DeleteObjects of a/10/ failed: AccessDenied"
    for prefix in ("a/1", "", "/"):
        with pytest.raises(ValueError, match="folder"):
            await delete_prefix(s3, bucket=bucket, prefix=prefix)


@pytest.fixture(scope="module")
async def s3v4(base_settings: Settings) -> AsyncIterator[S3Client]:
    """An S3 client that presigns with SigV4, as production's must be configured."""
    session = aioboto3.Session(region_name=base_settings.region)
    async with session.client("s3", config=AioConfig(signature_version="s3v4")) as s3:
        yield s3


async def test_a_download_url_is_a_plain_sigv4_get(
    aws: AwsClients, settings: Settings, s3v4: S3Client
) -> None:
    records = contacts(5)
    async with NdjsonWriter(aws.s3, bucket=settings.bucket, key="jobs/j1/g.gz") as writer:
        await writer.write(records)
        await writer.complete()

    url = await download_url(s3v4, bucket=settings.bucket, key="jobs/j1/g.gz", expires_seconds=60)
    async with httpx.AsyncClient() as http:
        response = await http.get(url)

    assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in url
    assert "X-Amz-Expires=60" in url
    assert response.status_code == 200
    assert [orjson.loads(line) for line in gzip.decompress(response.content).splitlines()] == (
        records
    )
    with pytest.raises(ValueError, match="expires_seconds"):
        await download_url(s3v4, bucket=settings.bucket, key="k", expires_seconds=8 * 86_400)


async def test_links_are_sigv4_and_a_client_that_would_sign_v2_is_refused(
    aws: AwsClients, settings: Settings
) -> None:
    # The process's client (listbackup.aws) is configured for SigV4.
    link = await download_url(aws.s3, bucket=settings.bucket, key="jobs/j1/g.gz")
    assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in link
    session = aioboto3.Session(region_name=settings.region)
    async with session.client("s3", config=AioConfig(signature_version="s3")) as sigv2:
        with pytest.raises(InfrastructureError, match="SigV4"):
            await download_url(sigv2, bucket=settings.bucket, key="jobs/j1/g.gz")
    unsigned = Refusing(aws.s3, NoCredentialsError(), "generate_presigned_url")
    with pytest.raises(InfrastructureError) as failed:
        await download_url(unsigned, bucket=settings.bucket, key="g.gz")  # type: ignore[arg-type]
    assert str(failed.value) == "S3 presigning of g.gz failed: NoCredentialsError"


async def test_put_json_writes_a_sorted_pretty_document(
    aws: AwsClients, settings: Settings
) -> None:
    manifest = {"version": 1, "files": [{"sha256": "ab", "key": "x.gz"}]}

    stored = await put_json(aws.s3, bucket=settings.bucket, key="jobs/j1/m.json", value=manifest)

    body = await read(aws.s3, settings.bucket, "jobs/j1/m.json")
    assert body == (
        b'{\n  "files": [\n    {\n      "key": "x.gz",\n      "sha256": "ab"\n    }\n  ],\n'
        b'  "version": 1\n}\n'
    )
    assert stored == StoredObject("jobs/j1/m.json", 1, len(body), hashlib.sha256(body).hexdigest())
    head = await aws.s3.head_object(Bucket=settings.bucket, Key="jobs/j1/m.json")
    assert head["ContentType"] == "application/json"
