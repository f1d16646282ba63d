"""Abuse limits on the public operations, counted in DynamoDB across server processes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from listbackup.errors import RateLimitedError
from listbackup.store.rate_limits import RateLimitStore

_TTL_SLACK_SECONDS = 3600


@dataclass(frozen=True, slots=True)
class Limit:
    name: str
    limit: int
    window_seconds: int
    message: str = "Too many attempts; try again later."
    reason: str | None = None


SIGN_IN_FAILURES_PER_EMAIL = Limit("sign-in-failures-email", 5, 15 * 60)
#: High enough that an office behind one NAT survives its people's typos.
SIGN_IN_FAILURES_PER_IP = Limit("sign-in-failures-ip", 50, 15 * 60)
SIGN_UPS_PER_IP = Limit("sign-ups-ip", 5, 60 * 60)
PASSWORD_RESETS_PER_EMAIL = Limit("password-resets-email", 3, 60 * 60)
CODE_ATTEMPTS_PER_EMAIL = Limit("code-attempts-email", 10, 60 * 60)
#: Invitations sent per UTC day: per account, so nobody mails strangers in bulk from one
#: account, and per inviter, so someone in many accounts cannot multiply that.
_TOO_MANY_INVITATIONS = "Too many invitations sent today; try again later."
INVITATIONS_PER_ACCOUNT = Limit(
    "invitations-account", 50, 86_400, _TOO_MANY_INVITATIONS, "INVITATION_LIMIT"
)
INVITATIONS_PER_INVITER = Limit(
    "invitations-inviter", 100, 86_400, _TOO_MANY_INVITATIONS, "INVITATION_LIMIT"
)


def _window(limit: Limit, now: datetime) -> tuple[int, int]:
    """(window index, seconds until it ends)."""
    epoch = int(now.timestamp())
    index = epoch // limit.window_seconds
    return index, (index + 1) * limit.window_seconds - epoch


def _key(limit: Limit, identifier: str, now: datetime) -> tuple[str, int]:
    index, remaining = _window(limit, now)
    return RateLimitStore.key(limit.name, identifier, index), remaining


def _refuse(limit: Limit, retry_after: int) -> RateLimitedError:
    return RateLimitedError(limit.message, retry_after=max(retry_after, 1), reason=limit.reason)


async def hit(store: RateLimitStore, limit: Limit, identifier: str, now: datetime) -> None:
    """Count one attempt, then refuse it when it is over the limit.

    Counting first is what makes the limit hold under concurrency: each of forty
    simultaneous attempts gets its own count, and only the first ``limit`` pass.
    """
    key, remaining = _key(limit, identifier, now)
    count = await store.increment(
        key, expires_at=int(now.timestamp()) + remaining + _TTL_SLACK_SECONDS
    )
    if count > limit.limit:
        raise _refuse(limit, remaining)


async def release(store: RateLimitStore, limit: Limit, identifier: str, now: datetime) -> None:
    """Take back one counted attempt that turned out not to be a failure."""
    key, _ = _key(limit, identifier, now)
    await store.decrement(key)


async def clear(store: RateLimitStore, limit: Limit, identifier: str, now: datetime) -> None:
    key, _ = _key(limit, identifier, now)
    await store.clear(key)
