"""The backup floor: encoding, compressing and uploading demo records, with no pipeline.

    .venv/bin/python bench/backup_floor.py [--records 1000000,3000000] [--level 6]
                                           [--part-mib 8] [--levels 1,3,6,9] [--sample 300000]

(``--levels ''`` skips the table, ``--records ''`` the floor.)

First a gzip-level table: ``--sample`` demo records (contacts, companies and deals in
equal parts, pages of 100 as the demo platform yields them) encoded with orjson, then
compressed page by page at each level, in memory: input MB/s and compression ratio.

Then the floor: for each N, a fresh child process streams N demo records through one
NdjsonWriter into the local AWS (moto, started here) and reports records/s over the
time spent inside the writer (record generation is not counted), the bytes stored,
the compression ratio and its peak RSS (VmHWM). Each N has its own process so that
its high-water mark is its own. The file is then read back and checked (sha256, line
count) by streaming it through zlib, outside the timing.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import subprocess
import sys
import time
import zlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import orjson

from listbackup import devstack
from listbackup.adapters.objects import DEFAULT_LEVEL, DEFAULT_PART_SIZE, NdjsonWriter
from listbackup.aws import open_clients
from listbackup.config import load_settings
from listbackup.integrations.base import ConnectorContext, Record
from listbackup.integrations.demo import MAX_RECORDS, DemoConnector

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client

DATA_TYPES = ("contacts", "companies", "deals")
MB = 1_000_000
MIB = 1024 * 1024


async def demo_pages(total: int) -> AsyncIterator[list[Record]]:
    """``total`` demo records, a third of each data type, in the demo's own pages."""
    left = total
    while left:
        per_type = min(MAX_RECORDS, -(-left // len(DATA_TYPES)))
        for data_type in DATA_TYPES:
            context = ConnectorContext(
                base_url="demo://local",
                credentials={"apiKey": "bench", "recordsPerType": str(per_type)},
            )
            async for page in DemoConnector(context).fetch(data_type):
                taken = page[:left]
                left -= len(taken)
                yield taken
                if not left:
                    return


def memory_kib(field: str) -> int:
    """VmHWM (peak) or VmRSS (now) of this process, in KiB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    raise LookupError(field)


async def level_table(sample: int, levels: list[int], runs: int = 3) -> None:
    """Encoding, then compression at each level: the best of ``runs``, in CPU time,
    which others' load on the shared box disturbs less than wall time."""
    records = [page async for page in demo_pages(sample)]
    pages: list[bytes] = []
    encoding = float("inf")
    for _ in range(runs):
        started = time.process_time()
        pages = [
            b"".join([orjson.dumps(r, option=orjson.OPT_APPEND_NEWLINE) for r in page])
            for page in records
        ]
        encoding = min(encoding, time.process_time() - started)
    raw = sum(map(len, pages))
    print(f"{sample:,} demo records, {raw / MB:.1f} MB of NDJSON, in pages of 100")
    print(f"orjson: {raw / MB / encoding:.0f} MB/s, {sample / encoding:,.0f} records/s")
    print(f"{'level':>5} {'MB/s in':>8} {'ratio':>6} {'records/s':>10} {'MB per 1M':>10}")
    for level in levels:
        elapsed = float("inf")
        for _ in range(runs):
            deflate = zlib.compressobj(level, zlib.DEFLATED, 31)
            started = time.process_time()
            stored = sum(len(deflate.compress(page)) for page in pages) + len(deflate.flush())
            elapsed = min(elapsed, time.process_time() - started)
        print(
            f"{level:>5} {raw / MB / elapsed:>8.1f} {raw / stored:>6.2f} "
            f"{sample / elapsed:>10,.0f} {stored / MB * 1_000_000 / sample:>10.1f}"
        )


async def one_file(records: int, level: int, part_mib: int) -> dict[str, Any]:
    """In the child: write ``records`` demo records to one object; measure; check it."""
    settings = load_settings()
    key = f"bench/floor-{records}.ndjson.gz"
    async with open_clients(settings) as clients:
        s3 = clients.s3
        rss_before = memory_kib("VmRSS")
        in_writer = cpu_in_writer = 0.0
        started, cpu_started = time.perf_counter(), time.process_time()
        async with NdjsonWriter(
            s3, bucket=settings.bucket, key=key, level=level, part_size=part_mib * MIB
        ) as writer:
            async for page in demo_pages(records):
                t, cpu = time.perf_counter(), time.process_time()
                await writer.write(page)
                in_writer += time.perf_counter() - t
                cpu_in_writer += time.process_time() - cpu
            t, cpu = time.perf_counter(), time.process_time()
            stored = await writer.complete()
            in_writer += time.perf_counter() - t
            cpu_in_writer += time.process_time() - cpu
        wall, cpu_wall = time.perf_counter() - started, time.process_time() - cpu_started
        peak = memory_kib("VmHWM")
        raw, lines, digest = await read_back(s3, settings.bucket, key)
        assert digest == stored.sha256
        assert lines == records == stored.record_count
    return {
        "records": records,
        "seconds_in_writer": in_writer,
        "cpu_seconds_in_writer": cpu_in_writer,
        "seconds_wall": wall,
        "cpu_seconds_wall": cpu_wall,
        "stored_bytes": stored.size_bytes,
        "ratio": raw / stored.size_bytes,
        "rss_before_mib": rss_before / 1024,
        "peak_rss_mib": peak / 1024,
    }


async def read_back(s3: S3Client, bucket: str, key: str) -> tuple[int, int, str]:
    """(NDJSON bytes, lines, sha256 of the stored bytes), streamed: memory stays flat."""
    response = await s3.get_object(Bucket=bucket, Key=key)
    inflate = zlib.decompressobj(31)
    digest = hashlib.sha256()
    raw = lines = 0
    async for chunk in response["Body"].iter_chunks(MIB):
        digest.update(chunk)
        text = inflate.decompress(chunk)
        raw += len(text)
        lines += text.count(b"\n")
    assert inflate.eof  # one gzip member, and nothing after it
    assert not inflate.unused_data
    return raw, lines, digest.hexdigest()


def floor(sizes: list[int], level: int, part_mib: int) -> None:
    with devstack.local_aws() as endpoint:
        devstack.apply_dev_environment(endpoint)
        settings = load_settings()

        async def create_bucket() -> None:
            async with open_clients(settings) as clients:
                await clients.s3.create_bucket(Bucket=settings.bucket)

        asyncio.run(create_bucket())
        print(f"\nfloor: one NdjsonWriter, level {level}, {part_mib} MiB parts, local moto")
        print(
            f"{'records':>10} {'records/s':>10} {'per CPU s':>10} {'wall s':>7} "
            f"{'stored MB':>10} {'ratio':>6} {'RSS start MiB':>14} {'peak RSS MiB':>13}"
        )
        for records in sizes:
            options = ["--child", str(records), "--level", str(level), "--part-mib", str(part_mib)]
            child = subprocess.run(  # noqa: S603 - our own interpreter and script
                [sys.executable, __file__, *options],
                env=os.environ,
                capture_output=True,
                text=True,
                check=True,
            )
            r = json.loads(child.stdout)
            print(
                f"{r['records']:>10,} {r['records'] / r['seconds_in_writer']:>10,.0f} "
                f"{r['records'] / r['cpu_seconds_in_writer']:>10,.0f} {r['seconds_wall']:>7.1f} "
                f"{r['stored_bytes'] / MB:>10.1f} {r['ratio']:>6.2f} "
                f"{r['rss_before_mib']:>14.0f} {r['peak_rss_mib']:>13.0f}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", default="1000000", help="comma-separated counts")
    parser.add_argument("--level", type=int, default=DEFAULT_LEVEL)
    parser.add_argument("--part-mib", type=int, default=DEFAULT_PART_SIZE // MIB)
    parser.add_argument("--levels", default="1,3,6,9")
    parser.add_argument("--sample", type=int, default=300_000)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(asyncio.run(one_file(args.child, args.level, args.part_mib))))
        return
    if args.levels:
        asyncio.run(level_table(args.sample, [int(n) for n in args.levels.split(",")]))
    if args.records:
        floor([int(n) for n in args.records.split(",")], args.level, args.part_mib)


if __name__ == "__main__":
    main()
