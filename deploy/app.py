"""The CDK app: ``python -m deploy.app`` (what ``make synth`` and the cdk CLI run).

Stacks follow lifecycles: data outlives everything; messaging and identity change
rarely; the service changes with every release; monitoring watches them all.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_cdk import App, Environment, Stack, Tags
from aws_cdk import aws_ecs as ecs

from deploy import config as deploy_config
from deploy.config import DeployConfig
from deploy.stacks.data import DataStack
from deploy.stacks.identity import IdentityStack
from deploy.stacks.messaging import MessagingStack
from deploy.stacks.monitoring import MonitoringStack
from deploy.stacks.permissions import Resources
from deploy.stacks.service import ServiceStack, container_image
from listbackup.resources import SPEC, ResourceSpec

#: The cdk CLI's project file: the app command and the feature flags of `cdk init`.
CDK_JSON = Path(__file__).resolve().parents[1] / "cdk.json"


def new_app(outdir: str | None = None) -> App:
    """An app with cdk.json's feature flags, so a plain synth (``make synth``, the tests)
    builds the same templates as the cdk CLI, which reads that file itself."""
    flags = json.loads(CDK_JSON.read_text())["context"]
    return App(context=flags, outdir=outdir)


@dataclass(frozen=True, slots=True)
class Stacks:
    data: DataStack
    messaging: MessagingStack
    identity: IdentityStack
    service: ServiceStack
    monitoring: MonitoringStack

    def all(self) -> tuple[Stack, ...]:
        return (self.data, self.messaging, self.identity, self.service, self.monitoring)


def add_stacks(
    app: App,
    config: DeployConfig,
    spec: ResourceSpec = SPEC,
    image: ecs.ContainerImage | None = None,
) -> Stacks:
    """Every stack of one stage, built from ``spec`` (the application's, unless told)."""
    common: dict[str, Any] = {
        "env": Environment(account=config.account, region=config.region),
        "termination_protection": config.production,
        "config": config,
        "spec": spec,
    }
    data = DataStack(app, config.stack_name("Data"), **common)
    messaging = MessagingStack(app, config.stack_name("Messaging"), **common)
    identity = IdentityStack(app, config.stack_name("Identity"), **common)
    service = ServiceStack(
        app,
        config.stack_name("Service"),
        resources=Resources(data=data, messaging=messaging, identity=identity),
        image=image or container_image(),
        **common,
    )
    monitoring = MonitoringStack(
        app,
        config.stack_name("Monitoring"),
        data=data,
        messaging=messaging,
        service=service,
        **common,
    )
    stacks = Stacks(data, messaging, identity, service, monitoring)
    for stack in stacks.all():
        Tags.of(stack).add("listbackup:stage", config.stage)
    return stacks


def main(environ: Mapping[str, str] = os.environ) -> int:
    # The cdk CLI names its output directory; a plain synth writes where the CLI would.
    app = new_app(outdir=environ.get("CDK_OUTDIR") or str(CDK_JSON.parent / "cdk.out"))
    try:
        config = deploy_config.load(app.node.try_get_context, environ)
    except deploy_config.DeployConfigError as exc:
        print(f"deploy: {exc}", file=sys.stderr)
        return 2
    # The cdk CLI passes the credentials' account and region; a plain synth has neither
    # and writes environment-agnostic templates.
    config = dataclasses.replace(
        config,
        account=config.account or environ.get("CDK_DEFAULT_ACCOUNT") or None,
        region=config.region or environ.get("CDK_DEFAULT_REGION") or None,
    )
    add_stacks(app, config)
    assembly = app.synth()
    print(f"deploy: wrote {len(assembly.stacks)} stacks to {assembly.directory}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
