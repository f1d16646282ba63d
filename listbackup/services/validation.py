"""Input checks shared by services; each failure names the offending field."""

from __future__ import annotations

import re
import unicodedata
import zoneinfo
from functools import cache

from listbackup.errors import BadUserInputError
from listbackup.resources import SPEC

PASSWORD_RULE = SPEC.user_pool.password_rule
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+[1-9]\d{6,14}$")
_MAX_EMAIL = 254
_MAX_PASSWORD = 256
_MIN_PASSWORD = SPEC.user_pool.password_min_length
#: Bidirectional overrides and isolates: they reorder how the text around them shows
#: (a name in an invitation email could read as something else).
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def email(value: str, field: str = "email") -> str:
    normalized = value.strip().lower()
    if len(normalized) > _MAX_EMAIL or not _EMAIL.match(normalized):
        raise BadUserInputError("Enter a valid email address.", field=field)
    return normalized


def password(value: str, field: str = "password") -> str:
    if not (
        _MIN_PASSWORD <= len(value) <= _MAX_PASSWORD
        and value == value.strip()
        and any(c.isupper() for c in value)
        and any(c.islower() for c in value)
        and any(c.isdigit() for c in value)
        and any(not c.isalnum() and not c.isspace() for c in value)
    ):
        raise BadUserInputError(PASSWORD_RULE, reason="WEAK_PASSWORD", field=field)
    return value


def text(value: str, field: str, *, max_length: int = 100) -> str:
    """One line of text (a name): runs of whitespace become one space; control and
    bidirectional-override characters are refused, since they show differently, or not
    at all, where the text is shown again."""
    cleaned = " ".join(value.split())
    if not cleaned:
        raise BadUserInputError(f"{field} must not be empty.", field=field)
    if any(c in _BIDI_CONTROLS or unicodedata.category(c) == "Cc" for c in cleaned):
        raise BadUserInputError(
            f"{field} must not contain control characters.", field=field, reason="CONTROL_CHARACTER"
        )
    if len(cleaned) > max_length:
        raise BadUserInputError(f"{field} must be at most {max_length} characters.", field=field)
    return cleaned


def phone(value: str, field: str = "phone") -> str:
    cleaned = re.sub(r"[\s().-]", "", value)
    if not _PHONE.match(cleaned):
        raise BadUserInputError(
            "Enter the phone number in international form, e.g. +14155550123.", field=field
        )
    return cleaned


def timezone(value: str, field: str = "timezone") -> str:
    if value not in _timezones():
        raise BadUserInputError("Use an IANA time zone name such as Europe/Paris.", field=field)
    return value


def code(value: str, field: str = "code") -> str:
    cleaned = value.strip()
    if not cleaned or len(cleaned) > 64 or any(c.isspace() for c in cleaned):
        raise BadUserInputError("The code is not correct.", reason="INVALID_CODE", field=field)
    return cleaned


@cache
def _timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())
