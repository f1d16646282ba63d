"""What we email, with the words ours and the names our users typed set apart.

A name (an account's, an inviter's) is whatever someone typed, and an email carrying
it under our sender reads as our word: "Your account is locked, call +1…" as an
account name must not pass for a message from us. So such text never reaches the
subject, and in the body it appears only quoted, on one line, stripped of control and
formatting characters, capped in length, with anything that looks like a link made
inert (``evil.example`` becomes ``evil[.]example``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from listbackup.models.accounts import Role

MAX_QUOTED = 60
#: Controls, format characters (bidi overrides, zero-width joiners), line and paragraph
#: separators, private-use and surrogate code points.
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Co", "Cs"})
_QUOTES = re.compile('["“”„‟«»]')
#: host.name-like text: dot-separated labels ending in letters (not "10.50" or "Inc.").
_HOST = re.compile(r"(?:[\w-]+\.)+[^\W\d_]{2,}")


@dataclass(frozen=True, slots=True)
class Email:
    subject: str
    body: str


def quoted(text: str, max_length: int = MAX_QUOTED) -> str:
    """User-typed text made safe to show inside our own words: “like this”."""
    kept = "".join(" " if unicodedata.category(c) in _DROPPED_CATEGORIES else c for c in text)
    flat = " ".join(_QUOTES.sub("'", kept).split())
    if len(flat) > max_length:
        flat = flat[: max_length - 1].rstrip() + "…"
    inert = _HOST.sub(lambda m: m.group(0).replace(".", "[.]"), flat.replace("://", "[:]//"))
    return f"“{inert}”"


def invitation(
    *, inviter_name: str, account_name: str, role: Role, expires_at: datetime, app_url: str
) -> Email:
    """The invitation: our subject, our sentences; the two names quoted, as data."""
    return Email(
        subject="You have been invited to an account on ListBackup",
        body=(
            f"You have been invited to join an account on ListBackup as {_ROLE_WORDS[role]}.\n"
            "\n"
            f"Account: {quoted(account_name)}\n"
            f"Invited by: {quoted(inviter_name)}\n"
            "(Both names are as the person who invited you typed them.)\n"
            "\n"
            "To accept, sign in or sign up with this email address at:\n"
            f"{app_url}\n"
            "\n"
            f"The invitation expires on {expires_at:%d %B %Y}. "
            "If you did not expect it, you can ignore this email."
        ),
    )


_ROLE_WORDS = {Role.OWNER: "an owner", Role.MANAGER: "a manager", Role.VIEWER: "a viewer"}
