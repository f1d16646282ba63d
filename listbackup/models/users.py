"""People who sign in."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class User:
    #: The Cognito ``sub``: stable for the life of the Cognito user.
    id: str
    email: str
    name: str
    created_at: datetime
    phone: str | None = None
    timezone: str | None = None
    last_login_at: datetime | None = None
    current_account_id: str | None = None
    #: The account created with the user at sign-up: where they land when the current
    #: account goes away.
    root_account_id: str | None = None
    #: Epoch second of the last global sign-out or password change: access tokens
    #: issued in or before it are refused.
    tokens_valid_after: int | None = None

    def accepts_token_issued_at(self, issued_at: int) -> bool:
        return self.tokens_valid_after is None or issued_at > self.tokens_valid_after


@dataclass(frozen=True, slots=True)
class Principal:
    """The signed-in caller of an operation, as services see it."""

    user: User
    #: The caller's Cognito access token, for the Cognito calls made on its behalf.
    access_token: str = field(repr=False)
    #: When that token expires (epoch seconds); a long subscription re-checks it.
    token_expires_at: int | None = None

    @property
    def user_id(self) -> str:
        return self.user.id


@dataclass(frozen=True, slots=True)
class Tokens:
    access_token: str = field(repr=False)
    id_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    expires_in: int
    #: The access token's ``iat`` (epoch seconds).
    issued_at: int = 0


@dataclass(frozen=True, slots=True)
class SignUpData:
    email: str
    password: str = field(repr=False)
    name: str
    phone: str | None = None
    company: str | None = None


@dataclass(frozen=True, slots=True)
class Session:
    """What signing in (or refreshing) yields: tokens and the user they belong to."""

    tokens: Tokens
    user: User


@dataclass(frozen=True, slots=True)
class ProfileChanges:
    """Only the fields given change; ``None`` clears phone or time zone."""

    fields: dict[str, str | None]
