"""Every platform's connector under the worker, against the local fake of its documented
API (tests/integrations): a full job of two data types through pagination, one 429 with
a Retry-After honoured, one refresh of an OAuth token the platform no longer takes, and
the record counts exact."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from listbackup.deps import AppDeps, Deps
from listbackup.integrations import activecampaign, http, mailchimp, shopify, zendesk
from listbackup.models.connections import ConnectionStatus
from listbackup.models.jobs import JobStatus, JobTrigger, JobType
from listbackup.models.sources import Source
from listbackup.services import jobs
from tests.integrations import (
    test_activecampaign,
    test_dropbox,
    test_gohighlevel,
    test_google_drive,
    test_hubspot,
    test_keap,
    test_mailchimp,
    test_shopify,
    test_zendesk,
)
from tests.integrations.fakes import FakeApi
from tests.worker.helpers import job_ended, records_in, stored_source, worker_running
from tests.worker.platform_fakes import (
    FRESH,
    STALE,
    STRIPE_BASE,
    PlatformFake,
    behind,
    oauth_source,
    stripe_api,
)


@dataclass(frozen=True)
class Case:
    slug: str
    api: Callable[[], FakeApi]
    base_url: str
    #: Data type -> how many records the fake holds of it.
    counts: Mapping[str, int]
    #: API-key credentials, or an OAuth connection's non-secret extras.
    credentials: Mapping[str, str] | None = None
    oauth: bool = True

    def __str__(self) -> str:
        return self.slug


CASES = [
    Case(
        "activecampaign",
        lambda: test_activecampaign.activecampaign_api(throttle_once=False),
        activecampaign.INTEGRATION.api_base_url,
        {"deals": 250, "tags": 45},
        credentials=test_activecampaign.CREDENTIALS,
        oauth=False,
    ),
    Case(
        "dropbox",
        lambda: test_dropbox.dropbox_api(throttle_once=False),
        test_dropbox.BASE,
        {"files": len(test_dropbox.FILES), "shared_links": len(test_dropbox.LINKS)},
    ),
    Case(
        "gohighlevel",
        lambda: test_gohighlevel.FakeLeadConnector(throttle_once=False).api,
        test_gohighlevel.BASE,
        {"contacts": 250, "opportunities": 230},
        credentials={"locationId": test_gohighlevel.LOCATION},
    ),
    Case(
        "google-drive",
        lambda: test_google_drive.FakeDrive().api,
        test_google_drive.BASE,
        {"drives": 3, "files": len(test_google_drive.FILES)},
    ),
    Case(
        "hubspot",
        lambda: test_hubspot.HubSpotFake(throttle_once=False).api,
        test_hubspot.BASE,
        {"owners": 120, "contacts": 250},
    ),
    Case(
        "keap",
        lambda: test_keap.KeapFake(throttle_once=False).api,
        test_keap.BASE,
        {"companies": 3, "contacts": len(test_keap.CONTACTS)},
    ),
    Case(
        "mailchimp",
        lambda: test_mailchimp.mailchimp_api(throttle_once=False),
        mailchimp.INTEGRATION.api_base_url,
        {"lists": 2, "members": sum(len(m) for m in test_mailchimp.MEMBERS.values())},
        credentials=test_mailchimp.CREDENTIALS,
    ),
    Case(
        "shopify",
        lambda: test_shopify.ShopifyFake(throttle_once=False).api,
        shopify.INTEGRATION.api_base_url,
        {"products": 600, "locations": 60},
        credentials={"shop": test_shopify.SHOP},
    ),
    Case("stripe", stripe_api, STRIPE_BASE, {"customers": 250, "products": 30}),
    Case(
        "zendesk",
        lambda: test_zendesk.zendesk_api(throttle_once=False),
        zendesk.INTEGRATION.api_base_url,
        {"users": 250, "tickets": len(test_zendesk.TICKETS)},
        credentials=test_zendesk.CREDENTIALS,
        oauth=False,
    ),
]


async def source_for(deps: Deps, case: Case) -> Source:
    data_types = tuple(case.counts)
    if case.oauth:
        return await oauth_source(deps, case.slug, data_types, extras=case.credentials)
    secret: dict[str, Any] = dict(case.credentials or {})
    return await stored_source(deps, platform=case.slug, secret=secret, data_types=data_types)


def token_of(request: httpx.Request) -> str | None:
    for header in ("Authorization", "X-Shopify-Access-Token"):
        if header in request.headers:
            return request.headers[header].removeprefix("Bearer ")
    return None


@pytest.fixture(autouse=True)
def no_jitter(monkeypatch: pytest.MonkeyPatch) -> None:
    """The client's own backoff (random, up to 0.5 s on a first retry) made nil, so a
    short wait after the 429 can only be the platform's Retry-After, honoured."""
    monkeypatch.setattr(http, "_backoff", lambda attempt: 0.0)


@pytest.mark.parametrize("case", CASES, ids=str)
async def test_a_full_job_against_the_platform_s_fake(
    case: Case, app_deps: AppDeps, deps: Deps
) -> None:
    fake = PlatformFake(case.api(), throttle_at=3, retry_after=0.25)
    source = await source_for(deps, case)
    job = await jobs.enqueue(deps, source, job_type=JobType.BACKUP, trigger=JobTrigger.MANUAL)

    async with worker_running(behind(app_deps, case.slug, fake, base_url=case.base_url)):
        ended = await job_ended(deps, job.id)

    files = {f.data_type: f for f in await deps.store.backup_files.of_job(job.id)}
    assert ended.status is JobStatus.COMPLETED, ended.error
    assert ended.attempt == 1
    for data_type, count in case.counts.items():
        records = await records_in(deps, files[data_type].key)
        assert files[data_type].record_count == len(records) == count, data_type
        assert len({str(r["id"]) for r in records}) == count, data_type
    assert ended.progress.records_processed == sum(case.counts.values())
    assert fake.waited >= 0.25  # the Retry-After, honoured
    if case.oauth:
        tokens = [token_of(r) for r in fake.api.requests]
        assert tokens[0] == STALE
        assert set(tokens[1:]) == {FRESH}
        assert fake.refreshes == 1
        fresh = app_deps.for_operation()
        connection = await fresh.loaders.connection.load(source.connection_id)
        assert connection is not None
        assert connection.status is ConnectionStatus.ACTIVE
        secret = await deps.store.vault.open(
            account_id=source.account_id, connection_id=source.connection_id
        )
        assert secret["accessToken"] == FRESH
