"""The integration registry: one module per platform, looked up by slug.

Integrations are used by services, the bootstrap and the worker; they import only
models and errors, never the layers that use them.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

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
