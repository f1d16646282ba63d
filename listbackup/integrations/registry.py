"""The registry: every platform's integration by slug, and this deployment's settings
for them (our OAuth apps, URL overrides)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import httpx

from listbackup.config import PlatformSettings
from listbackup.errors import NotFoundError
from listbackup.integrations import (
    activecampaign,
    demo,
    dropbox,
    gohighlevel,
    google_drive,
    hubspot,
    keap,
    mailchimp,
    shopify,
    stripe,
    zendesk,
)
from listbackup.integrations.base import Integration

_MODULES = (
    activecampaign,
    demo,
    dropbox,
    gohighlevel,
    google_drive,
    hubspot,
    keap,
    mailchimp,
    shopify,
    stripe,
    zendesk,
)

REGISTRY: Mapping[str, Integration] = MappingProxyType(
    {module.INTEGRATION.slug: module.INTEGRATION for module in _MODULES}
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

    def base_url(self, integration: Integration, extras: Mapping[str, str]) -> str:
        url = self.config(integration.slug).api_base_url or integration.api_base_url
        try:
            return url.format(**extras)
        except (KeyError, IndexError):
            return url
