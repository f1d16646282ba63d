"""Opaque global IDs: ``base64url("Kind:key")``, so ``node(id:)`` knows where to look.

Clients must treat IDs as opaque strings; the kind prefix is an implementation detail.
"""

from __future__ import annotations

import base64
import binascii
import re

_MAX_ID_LENGTH = 512
_ALPHABET = re.compile(r"^[A-Za-z0-9_-]+$")

# The kinds of object a global ID can name.
PLATFORM = "Platform"
USER = "User"
ACCOUNT = "Account"
INVITATION = "Invitation"
CONNECTION = "PlatformConnection"
SOURCE = "Source"
JOB = "Job"


def encode(kind: str, key: str) -> str:
    raw = f"{kind}:{key}".encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode(global_id: str) -> tuple[str, str] | None:
    """Return ``(kind, key)``, or None for anything that is not one of our IDs."""
    # One ID per object: no padding, whitespace or characters base64 would skip.
    if len(global_id) > _MAX_ID_LENGTH or not _ALPHABET.match(global_id):
        return None
    try:
        padded = global_id + "=" * (-len(global_id) % 4)
        raw = base64.urlsafe_b64decode(padded.encode("ascii")).decode()
    except (binascii.Error, UnicodeError, ValueError):
        return None
    kind, sep, key = raw.partition(":")
    if not sep or not kind or not key:
        return None
    return kind, key


def decode_as(kind: str, global_id: str) -> str | None:
    """The key of an ID of the given kind, or None when it is not one."""
    decoded = decode(global_id)
    if decoded is None or decoded[0] != kind:
        return None
    return decoded[1]
