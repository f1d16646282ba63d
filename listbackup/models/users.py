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


@dataclass(frozen=True, slots=True)
class Principal:
    """The signed-in caller of an operation, as services see it."""

    user: User
    #: The caller's Cognito access token, for the Cognito calls made on its behalf.
    access_token: str = field(repr=False)

    @property
    def user_id(self) -> str:
        return self.user.id


@dataclass(frozen=True, slots=True)
class Tokens:
    access_token: str = field(repr=False)
    id_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    expires_in: int


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
