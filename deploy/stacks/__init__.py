"""One stack per lifecycle: data, messaging, identity, service, monitoring."""

from __future__ import annotations


def construct_id(name: str, kind: str) -> str:
    """``job-logs`` -> ``JobLogsTable``: stable logical ids derived from the spec's names."""
    return "".join(part.capitalize() for part in name.replace("_", "-").split("-")) + kind
