"""One synth of the whole app per test session: the first costs 10-15 s, so every
deploy test reads the same cloud assembly."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

# jsii (under aws-cdk-lib) prints a banner on every start while Node 20 runs it.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from aws_cdk import assertions, cx_api

from deploy.app import Stacks, add_stacks, new_app
from deploy.config import DeployConfig

CONFIG = DeployConfig(
    stage="production",
    domain_name="api.listbackup.example.com",
    hosted_zone_id="Z0123456789EXAMPLE",
    hosted_zone_name="listbackup.example.com",
    app_url="https://app.listbackup.example.com",
    email_from="no-reply@listbackup.example.com",
    alarm_email="ops@listbackup.example.com",
    data_bucket="acme-listbackup-production-data",
)
NAMES = CONFIG.names
PARTS = ("data", "messaging", "identity", "service", "monitoring")


@dataclass(frozen=True)
class Synth:
    stacks: Stacks
    assembly: cx_api.CloudAssembly
    templates: dict[str, dict[str, Any]]

    def template(self, part: str) -> assertions.Template:
        return assertions.Template.from_json(self.templates[part])

    def resources(self, part: str, kind: str) -> dict[str, dict[str, Any]]:
        """{logical id: properties} of one resource type in one stack."""
        return {
            logical_id: resource.get("Properties", {})
            for logical_id, resource in self.templates[part]["Resources"].items()
            if resource["Type"] == kind
        }

    def all_resources(self, kind: str) -> list[dict[str, Any]]:
        return [props for part in PARTS for props in self.resources(part, kind).values()]

    @property
    def outdir(self) -> Path:
        return Path(self.assembly.directory)


def synthesize(outdir: Path, **kw: Any) -> Synth:
    app = new_app(outdir=str(outdir))
    stacks = add_stacks(app, CONFIG, **kw)
    assembly = app.synth()
    templates = {
        part: assembly.get_stack_by_name(stack.stack_name).template
        for part, stack in zip(PARTS, stacks.all(), strict=True)
    }
    return Synth(stacks=stacks, assembly=assembly, templates=templates)


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return synthesize(tmp_path_factory.mktemp("cdk.out"))


def render(value: Any) -> str:
    """A CloudFormation value as one string, intrinsics written ``{Ref:X}`` and the like,
    so ARNs built with Fn::Join can be compared as text."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return ",".join(render(item) for item in value)
    if isinstance(value, dict) and len(value) == 1:
        ((function, argument),) = value.items()
        if function in _INTRINSICS:
            return _INTRINSICS[function](argument)
    return repr(value)


_INTRINSICS: dict[str, Callable[[Any], str]] = {
    "Fn::Join": lambda arg: str(arg[0]).join(render(part) for part in arg[1]),
    "Ref": lambda arg: f"{{Ref:{arg}}}",
    "Fn::GetAtt": lambda arg: "{GetAtt:" + ".".join(arg) + "}",
    "Fn::GetStackOutput": lambda arg: f"{{Output:{arg['StackName']}.{arg['OutputName']}}}",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under pytest-xdist (--dist loadgroup) every deploy test runs on one worker, so the
    costly synth happens once per run, not once per worker."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(pytest.mark.xdist_group("cdk-synth"))
