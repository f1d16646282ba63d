"""Integrations: one module per platform (catalogue entry, OAuth endpoints, connector),
the shared HTTP machinery, and the registry that looks them up by slug.

Integrations are used by services, the bootstrap and the worker; they import only
models, errors and settings, never the layers that use them.
"""

from listbackup.integrations.registry import REGISTRY, Platforms, get

__all__ = ["REGISTRY", "Platforms", "get"]
