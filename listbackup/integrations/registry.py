"""The registry: every platform's integration by slug, and this deployment's settings
for them (our OAuth apps, URL overrides); it builds the connectors."""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

import httpx

from listbackup.config import PlatformSettings
from listbackup.errors import NotFoundError
from listbackup.integrations.base import Connector, ConnectorContext, Integration, TokenSource

#: The platform modules of this package, one line each; each declares an ``INTEGRATION``.
PLATFORMS = (
    "activecampaign",
    "demo",
    "dropbox",
    "gohighlevel",
    "google_drive",
    "hubspot",
    "keap",
    "mailchimp",
    "shopify",
    "stripe",
    "zendesk",
)


def _integration(module: str) -> Integration:
    found = getattr(importlib.import_module(f"{__package__}.{module}"), "INTEGRATION", None)
    if not isinstance(found, Integration) or found.connector is None:
        raise TypeError(f"{module} declares no INTEGRATION with a connector.")
    return found


REGISTRY: Mapping[str, Integration] = MappingProxyType(
    {integration.slug: integration for integration in map(_integration, PLATFORMS)}
)


def get(slug: str) -> Integration | None:
    return REGISTRY.get(slug)


@dataclass(frozen=True, slots=True)
class Platforms:
    """The registry plus this deployment's per-platform settings."""

    settings: Mapping[str, PlatformSettings]
    #: Tests route platform traffic to local fakes; production leaves it None.
    transport: httpx.AsyncBaseTransport | None = None

    def integration(self, slug: str) -> Integration:
        found = get(slug)
        if found is None:
            raise NotFoundError(f"No platform {slug!r}.")
        return found

    def config(self, slug: str) -> PlatformSettings:
        return self.settings.get(slug, PlatformSettings())

    def connector(
        self,
        integration: Integration,
        *,
        credentials: Mapping[str, str],
        tokens: TokenSource | None = None,
        http: httpx.AsyncClient | None = None,
        throttle: Callable[[], Awaitable[None]] | None = None,
    ) -> Connector:
        """A connector for one connection. ``http``, the process's shared client, serves
        short uses; without it (a backup job's hours of reading) the connector opens a
        client of its own. Raises a ConnectorError when the credentials cannot work."""
        assert integration.connector is not None  # noqa: S101 - the registry checks
        context = ConnectorContext(
            base_url=self.config(integration.slug).api_base_url or integration.api_base_url,
            credentials=credentials,
            tokens=tokens,
            transport=self.transport,
            # The shared client cannot reach a test's fake: then the connector's own does.
            http=http if self.transport is None else None,
            pace=integration.pace,
            throttle=throttle,
        )
        return integration.connector(context)
