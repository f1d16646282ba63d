"""What every integration module declares: its catalogue entry and how to reach its API."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from listbackup.models.platforms import Platform


@dataclass(frozen=True, slots=True)
class OAuthSpec:
    """The provider's OAuth2 endpoints and the quirks the authorization step needs."""

    authorize_url: str
    token_url: str
    scopes: tuple[str, ...] = ()
    #: Whether the provider accepts PKCE (S256) on the authorization-code flow.
    pkce: bool = False
    #: Extra query parameters on the authorization URL (offline access, consent...).
    authorize_params: Mapping[str, str] = field(default_factory=dict)
    #: Separator the provider expects between scopes.
    scope_separator: str = " "


@dataclass(frozen=True, slots=True)
class Integration:
    """One platform: catalogue metadata plus the facts its connector is built on."""

    platform: Platform
    #: Base URL of the platform's REST API; placeholders such as ``{shop}`` are per connection.
    api_base_url: str
    #: The public API documentation the integration follows.
    docs_url: str
    oauth: OAuthSpec | None = None

    @property
    def slug(self) -> str:
        return self.platform.slug
