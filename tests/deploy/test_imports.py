"""deploy/ reads the resource spec (and settings constants) and nothing else of the app."""

from __future__ import annotations

import grimp

ALLOWED = {"listbackup.resources", "listbackup.config"}


def test_deploy_imports_no_application_layer() -> None:
    graph = grimp.build_graph("deploy", "listbackup", include_external_packages=False)

    reached = set(graph.find_upstream_modules("deploy", as_package=True))

    assert {m for m in reached if m.startswith("listbackup")} <= ALLOWED
    assert reached >= ALLOWED
