"""docs/integrations.md describes every platform in the registry, so it cannot drift."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from listbackup.integrations import REGISTRY
from listbackup.integrations.demo import DEFAULT_RECORDS

DOC = Path(__file__).resolve().parents[2] / "docs" / "integrations.md"


def sections() -> dict[str, str]:
    """The page's ``## <slug>`` sections, by slug."""
    parts = re.split(r"^## (\S+)[ \t]*$", DOC.read_text(encoding="utf-8"), flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_every_platform_has_a_section_and_no_other() -> None:
    assert set(sections()) == set(REGISTRY)


@pytest.mark.parametrize("slug", sorted(REGISTRY))
def test_a_section_names_every_data_type_and_the_docs_it_follows(slug: str) -> None:
    section = sections().get(slug, "")
    integration = REGISTRY[slug]

    missing = [d.key for d in integration.platform.data_types if f"`{d.key}`" not in section]
    assert not missing, f"{slug}: data types missing from docs/integrations.md: {missing}"
    assert integration.docs_url in section
    assert integration.platform.name in section
    for label in ("**Auth:**", "**Pagination:**", "**Incremental (`since`):**", "**Rate limits:**"):
        assert label in section, f"{slug}: no {label} paragraph"


def test_the_demo_section_explains_its_credentials() -> None:
    demo = sections()["demo"]

    assert "`apiKey`" in demo
    assert "`recordsPerType`" in demo
    assert f"default {DEFAULT_RECORDS}" in demo


def test_the_demo_docs_url_points_at_its_section() -> None:
    path, _, anchor = REGISTRY["demo"].docs_url.partition("#")

    assert (DOC.parents[1] / path).resolve() == DOC
    assert anchor in sections()
