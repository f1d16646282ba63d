"""Demo: a built-in offline platform. Follows docs/integrations.md#demo.

It generates deterministic synthetic records (the same credentials always give the same
records), so the embedded local stack can run a complete backup with no internet.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

from listbackup.integrations.base import Connector, Integration, Record
from listbackup.integrations.errors import CredentialsRejected, PlatformRequestFailed
from listbackup.models.platforms import AuthType, CredentialField, DataType, Frequency, Platform

DEFAULT_RECORDS = 1000
MAX_RECORDS = 1_000_000
PAGE_SIZE = 100
EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
_FIRST = ("Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken")
_LAST = ("Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson")
_FIRST_LOWER = tuple(name.lower() for name in _FIRST)
_LAST_LOWER = tuple(name.lower() for name in _LAST)
_EPOCH_DAY = EPOCH.toordinal()


def records_per_type(value: str | None) -> int:
    """The ``recordsPerType`` credential, checked."""
    if value in (None, ""):
        return DEFAULT_RECORDS
    if not value.isdigit() or not 1 <= int(value) <= MAX_RECORDS:
        raise PlatformRequestFailed(
            f"recordsPerType must be a whole number from 1 to {MAX_RECORDS}."
        )
    return int(value)


class DemoConnector(Connector):
    async def check(self) -> str | None:
        key = self.context.credentials.get("apiKey", "")
        if not key.strip():
            raise CredentialsRejected("The demo platform needs a non-empty API key.")
        records_per_type(self.context.credentials.get("recordsPerType"))
        return f"Demo workspace {self._seed()[:6]}"

    async def fetch(
        self, data_type: str, *, since: datetime | None = None
    ) -> AsyncIterator[list[Record]]:
        make = _MAKERS.get(data_type)
        if make is None:
            raise self.unknown(data_type)
        await self.check()
        total = records_per_type(self.context.credentials.get("recordsPerType"))
        seed = self._seed()
        for start in range(0, total, PAGE_SIZE):
            page = [make(seed, n, total) for n in range(start, min(start + PAGE_SIZE, total))]
            if since is not None:
                page = [r for r in page if datetime.fromisoformat(r["updatedAt"]) > since]
            if page:
                yield page

    def _seed(self) -> str:
        key = self.context.credentials.get("apiKey", "")
        return hashlib.sha256(key.encode()).hexdigest()


def _stamp(n: int) -> tuple[str, str]:
    """Created n hours after EPOCH (midnight UTC), updated n % 30 days later, written as
    ``datetime.isoformat()`` writes them, from the day's date and the hour: building and
    formatting two aware datetimes was a third of a record's cost in a backup."""
    days, hour = divmod(n, 24)
    time = f"T{hour:02d}:00:00+00:00"
    return _day(days) + time, _day(days + n % 30) + time


@functools.lru_cache(maxsize=64)  # records come in order: 24 share a day, 30 its updates
def _day(days: int) -> str:
    return date.fromordinal(_EPOCH_DAY + days).isoformat()


def _contact(seed: str, n: int, total: int) -> Record:
    created, updated = _stamp(n)
    i, j = n % len(_FIRST), (n // len(_FIRST)) % len(_LAST)
    return {
        "id": f"contact-{n:07d}",
        "firstName": _FIRST[i],
        "lastName": _LAST[j],
        # The seed is lowercase hex: only the names needed lowering.
        "email": f"{_FIRST_LOWER[i]}.{_LAST_LOWER[j]}.{n}@{seed[:8]}.demo.invalid",
        "createdAt": created,
        "updatedAt": updated,
    }


def _company(seed: str, n: int, total: int) -> Record:
    created, updated = _stamp(n)
    return {
        "id": f"company-{n:07d}",
        "name": f"{_LAST[n % len(_LAST)]} & Co {n}",
        "domain": f"company{n}.{seed[:8]}.demo.invalid",
        "createdAt": created,
        "updatedAt": updated,
    }


def _deal(seed: str, n: int, total: int) -> Record:
    created, updated = _stamp(n)
    return {
        "id": f"deal-{n:07d}",
        "title": f"Deal {n}",
        "amount": (n * 7919) % 100_000 / 100,
        "contactId": f"contact-{(n * 31) % total:07d}",
        "companyId": f"company-{(n * 17) % total:07d}",
        "createdAt": created,
        "updatedAt": updated,
    }


_MAKERS = {"contacts": _contact, "companies": _company, "deals": _deal}

INTEGRATION = Integration(
    platform=Platform(
        slug="demo",
        name="Demo",
        category="demo",
        description=(
            "Generates deterministic synthetic records, so the local stack can run a backup "
            "without internet access."
        ),
        auth_type=AuthType.API_KEY,
        credential_fields=(
            CredentialField("apiKey", "API key"),
            CredentialField(
                "recordsPerType", "Records per data type", secret=False, required=False
            ),
        ),
        data_types=(
            DataType("contacts", "Contacts", "Synthetic contacts.", Frequency.DAILY),
            DataType("companies", "Companies", "Synthetic companies.", Frequency.DAILY),
            DataType(
                "deals",
                "Deals",
                "Synthetic deals linking contacts and companies.",
                Frequency.DAILY,
                depends_on=("contacts", "companies"),
            ),
        ),
    ),
    api_base_url="demo://local",
    docs_url="docs/integrations.md#demo",
    connector=DemoConnector,
)
