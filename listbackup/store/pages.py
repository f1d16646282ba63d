"""Cursor pagination over DynamoDB queries: opaque cursors wrap LastEvaluatedKey."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from listbackup.errors import BadUserInputError
from listbackup.models.pages import MAX_PAGE_SIZE


@dataclass(frozen=True, slots=True)
class PageRequest:
    first: int
    #: The decoded ``after`` cursor: a LastEvaluatedKey of plain string attributes.
    start: dict[str, str] | None


def check_first(first: int) -> None:
    """Every paged list takes 0 (an empty page) to MAX_PAGE_SIZE items."""
    if not 0 <= first <= MAX_PAGE_SIZE:
        raise BadUserInputError(f"first must be between 0 and {MAX_PAGE_SIZE}.", field="first")


def page_request(first: int, after: str | None, key_names: Sequence[str]) -> PageRequest:
    """Validate ``first``/``after``; the cursor must name exactly the expected key attributes."""
    check_first(first)
    if after is None:
        return PageRequest(first, None)
    try:
        start = json.loads(base64.urlsafe_b64decode(after.encode("ascii") + b"==="))
    except (binascii.Error, UnicodeError, ValueError):
        start = None
    if (
        not isinstance(start, dict)
        or sorted(start) != sorted(key_names)
        or not all(isinstance(v, str) and v for v in start.values())
    ):
        raise BadUserInputError("after is not a cursor from this list.", field="after")
    return PageRequest(first, start)


def encode_cursor(last_key: dict[str, Any] | None) -> str | None:
    if not last_key:
        return None
    raw = json.dumps(last_key, sort_keys=True, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")
