"""A backup end to end over HTTP: runSource on a demo source, the worker runs it, and
every file downloads, checks out against its sha256 and holds every record once."""

from __future__ import annotations

import gzip
import hashlib
import json

import httpx

from listbackup.worker import Worker
from tests.helpers import tenant
from tests.worker.helpers import CANCEL, RUN, demo_source, finished


async def test_a_demo_backup_completes_and_every_file_checks_out(
    client: httpx.AsyncClient, worker: Worker
) -> None:
    ada = await tenant(client, "ada@example.com")
    source_id = await demo_source(ada, 250)

    started = await ada.call(RUN, id=source_id)
    job_id = started["data"]["runSource"]["id"]
    again = await ada.call(RUN, id=source_id)
    job = await finished(ada, job_id)
    cancel_finished = await ada.call(CANCEL, id=job_id)

    assert started["data"]["runSource"] == {
        "id": job_id,
        "status": "QUEUED",
        "trigger": "MANUAL",
        "attempt": 1,
    }
    assert again["errors"][0]["extensions"]["reason"] == "JOB_ALREADY_ACTIVE"
    assert again["errors"][0]["extensions"]["jobId"] == job_id
    assert job["status"] == "COMPLETED", job
    [refused] = cancel_finished["errors"]
    assert (refused["extensions"]["code"], refused["extensions"]["reason"]) == (
        "CONFLICT",
        "JOB_FINISHED",
    )
    assert job["progress"]["stepsCompleted"] == job["progress"]["stepsTotal"] == 3
    assert job["progress"]["percent"] == 100.0
    assert job["progress"]["recordsProcessed"] == 750
    assert job["source"]["lastJob"] == {"id": job_id}
    files = {f["dataType"]: f for f in job["files"]}
    assert set(files) == {"contacts", "companies", "deals", "manifest"}
    async with httpx.AsyncClient() as http:
        bodies = {k: (await http.get(f["downloadUrl"])).content for k, f in files.items()}
    for data_type in ("contacts", "companies", "deals"):
        stored = bodies[data_type]
        assert hashlib.sha256(stored).hexdigest() == files[data_type]["sha256"]
        assert len(stored) == files[data_type]["sizeBytes"]
        lines = gzip.decompress(stored).decode().splitlines()
        records = [json.loads(line) for line in lines]
        assert len(records) == files[data_type]["recordCount"] == 250
        assert len({r["id"] for r in records}) == 250
    manifest = json.loads(bodies["manifest"])
    assert manifest["formatVersion"] == 1
    assert [f["dataType"] for f in manifest["files"]] == ["contacts", "companies", "deals"]
    for entry in manifest["files"]:
        assert entry["sha256"] == files[entry["dataType"]]["sha256"]
        assert entry["recordCount"] == 250
    messages = [line["message"] for line in job["logs"]["nodes"]]
    assert messages[0].startswith("Attempt 1 started")
    assert messages[-1] == "Completed: 750 records."
