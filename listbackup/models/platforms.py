"""The platform catalogue: what a platform is, how it authenticates, what it backs up."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class AuthType(StrEnum):
    OAUTH2 = "OAUTH2"
    API_KEY = "API_KEY"


class Frequency(StrEnum):
    HOURLY = "HOURLY"
    DAILY = "DAILY"
    WEEKLY = "WEEKLY"
    MONTHLY = "MONTHLY"


@dataclass(frozen=True, slots=True)
class CredentialField:
    """One value a user types in to connect an API-key platform."""

    key: str
    label: str
    secret: bool = True
    required: bool = True


@dataclass(frozen=True, slots=True)
class DataType:
    """One kind of record a platform holds (contacts, invoices, files...)."""

    key: str
    name: str
    description: str | None = None
    default_frequency: Frequency = Frequency.DAILY
    default_retention_days: int = 90
    depends_on: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Platform:
    """A catalogue entry, as stored in the platforms table and shown to users."""

    slug: str
    name: str
    category: str
    auth_type: AuthType
    description: str | None = None
    credential_fields: tuple[CredentialField, ...] = ()
    data_types: tuple[DataType, ...] = field(default_factory=tuple)
