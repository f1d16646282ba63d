"""Jobs, their logs, files and download links stay in their tenant: another tenant's job
answers exactly like a missing one everywhere, and a member without VIEW_ALL_DATA sees
the job and its log but not its files."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from listbackup import ids
from listbackup.worker import Worker
from tests.helpers import Tenant, error_codes, join, tenant
from tests.worker.helpers import CANCEL, demo_source, finished, run_source

JOB = "query($id: ID!) { job(id: $id) { id status logs { nodes { message } } } }"
FILES = "query($id: ID!) { job(id: $id) { files { dataType downloadUrl } } }"
NODE = "query($id: ID!) { node(id: $id) { id ... on Job { status } } }"
JOBS_OF_SOURCE = """
query($account: ID!, $source: ID!) {
  account(id: $account) { jobs(sourceId: $source) { nodes { id } } }
}
"""
UPDATE_MEMBER = """
mutation($account: ID!, $user: ID!) {
  updateMember(accountId: $account, userId: $user, role: VIEWER, permissions: []) {
    permissions
  }
}
"""


async def both(caller: Tenant, query: str, theirs: str, missing: str) -> list[dict[str, Any]]:
    return [await caller.call(query, id=job_id) for job_id in (theirs, missing)]


async def test_another_tenant_s_job_answers_like_a_missing_one(
    client: httpx.AsyncClient, worker: Worker
) -> None:
    ada = await tenant(client, "ada@example.com")
    eve = await tenant(client, "eve@example.com")
    source_id = await demo_source(ada, 10, data_types=["contacts"])
    job_id = await run_source(ada, source_id)
    done = await finished(ada, job_id)
    missing = ids.encode(ids.JOB, str(uuid.uuid4()))

    for query in (JOB, FILES, NODE, CANCEL):
        theirs, nothing = await both(eve, query, job_id, missing)
        assert theirs == nothing, query
        assert error_codes(theirs) == ["NOT_FOUND"], theirs
    listed_by_eve = await eve.call(JOBS_OF_SOURCE, account=eve.root, source=source_id)
    listed_by_ada = await ada.call(JOBS_OF_SOURCE, account=ada.root, source=source_id)

    assert done["status"] == "COMPLETED"
    assert listed_by_eve == {"data": {"account": {"jobs": {"nodes": []}}}}
    assert listed_by_ada == {"data": {"account": {"jobs": {"nodes": [{"id": job_id}]}}}}
    assert (await ada.call(JOB, id=job_id))["data"]["job"]["status"] == "COMPLETED"


async def test_a_member_without_view_all_data_sees_the_job_but_not_its_files(
    client: httpx.AsyncClient, worker: Worker
) -> None:
    ada = await tenant(client, "ada@example.com")
    vic = await tenant(client, "vic@example.com")
    await join(ada, ada.root, vic, "VIEWER")
    job_id = await run_source(ada, await demo_source(ada, 10, data_types=["contacts"]))
    await finished(ada, job_id)

    as_viewer = await vic.call(FILES, id=job_id)
    viewer_cancels = await vic.call(CANCEL, id=job_id)
    updated = await ada.call(UPDATE_MEMBER, account=ada.root, user=vic.user_id)
    job = await vic.call(JOB, id=job_id)
    files = await vic.call(FILES, id=job_id)

    # A VIEWER has VIEW_ALL_DATA by default: files and their links, but no cancelling.
    assert [f["dataType"] for f in as_viewer["data"]["job"]["files"]] == ["contacts", "manifest"]
    assert all(f["downloadUrl"].startswith("http") for f in as_viewer["data"]["job"]["files"])
    assert error_codes(viewer_cancels) == ["FORBIDDEN"]
    assert updated == {"data": {"updateMember": {"permissions": []}}}
    assert job["data"]["job"]["status"] == "COMPLETED"
    assert job["data"]["job"]["logs"]["nodes"][-1] == {"message": "Completed: 10 records."}
    assert error_codes(files) == ["FORBIDDEN"]
    assert files["errors"][0]["path"] == ["job", "files"]
    assert "downloadUrl" not in str(files.get("data"))
