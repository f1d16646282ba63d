"""HubSpot's CRM search, for incremental reads: records modified at or after a time,
oldest first, 200 a page with ``after`` in the body. One search query answers at most
10,000 results however it is paged, so past that a new query starts from the latest
modified time reached, skipping the records at that time already yielded.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from listbackup.integrations.base import Record
from listbackup.integrations.errors import PlatformRequestFailed
from listbackup.integrations.http import PlatformClient, json_of

SEARCH_PAGE_SIZE = 200
#: A search query answers at most this many results, however it is paged.
SEARCH_CAP = 10_000


async def search(
    client: PlatformClient, path: str, field: str, lower: int, names: list[str]
) -> AsyncIterator[list[Record]]:
    """Records of the object at ``path`` whose ``field`` is ``lower`` (epoch ms) or later,
    each once, oldest first, with every property in ``names``."""
    # Ids already yielded whose modified time is ``lower`` (after a restart), and
    # the latest modified time yielded with the ids that have it.
    done_at_lower: set[str] = set()
    latest = lower
    at_latest: set[str] = set()
    after: str | None = None
    while True:
        body = _search_body(field, lower, names, after)
        answer = json_of(await client.request("POST", f"{path}/search", json=body))
        page = []
        for record in answer.get("results") or []:
            modified = _modified_ms(record, field, default=lower)
            if modified == lower and str(record["id"]) in done_at_lower:
                continue
            page.append(record)
            if modified > latest:
                latest, at_latest = modified, set()
            if modified == latest:
                at_latest.add(str(record["id"]))
        if page:
            yield page
        after = next_after(answer)
        if not after or not answer.get("results"):
            return
        if after.isdigit() and int(after) + SEARCH_PAGE_SIZE > SEARCH_CAP:
            if latest == lower:
                raise PlatformRequestFailed(
                    "More HubSpot records changed at the same instant than one search "
                    "can return; run a full backup instead."
                )
            # Start a new query at the latest time reached, skipping what was yielded.
            lower, done_at_lower, after = latest, set(at_latest), None


def next_after(body: Any, page: list[Record] | None = None) -> str | None:
    """The cursor of the next page, ``paging.next.after``: lists and searches alike."""
    after = ((body.get("paging") or {}).get("next") or {}).get("after")
    return str(after) if after else None


def _search_body(field: str, lower: int, names: list[str], after: str | None) -> dict[str, Any]:
    """Records modified at or after ``lower`` (epoch ms), oldest first, every property."""
    body: dict[str, Any] = {
        "filterGroups": [
            {"filters": [{"propertyName": field, "operator": "GTE", "value": str(lower)}]}
        ],
        "sorts": [{"propertyName": field, "direction": "ASCENDING"}],
        "properties": names,
        "limit": SEARCH_PAGE_SIZE,
    }
    if after:
        body["after"] = after
    return body


def _modified_ms(record: Record, field: str, *, default: int) -> int:
    value = (record.get("properties") or {}).get(field)
    if not value:
        return default
    if str(value).isdigit():
        return int(value)
    return int(datetime.fromisoformat(str(value)).timestamp() * 1000)
