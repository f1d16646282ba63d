"""The service stack: containers, their settings, health checks and autoscaling."""

from __future__ import annotations

import os
from typing import Any

import pytest

from deploy.stacks.service import PORT
from listbackup.config import ENV_PREFIX, Settings, load_settings
from listbackup.resources import SPEC
from tests.deploy.conftest import CONFIG, NAMES, Synth, render


def _containers(synth: Synth) -> dict[str, dict[str, Any]]:
    return {
        container["Name"]: container
        for task in synth.resources("service", "AWS::ECS::TaskDefinition").values()
        for container in task["ContainerDefinitions"]
    }


def _environment(container: dict[str, Any]) -> dict[str, Any]:
    return {pair["Name"]: pair["Value"] for pair in container["Environment"]}


def test_one_image_runs_as_the_api_and_as_the_worker(synth: Synth) -> None:
    containers = _containers(synth)

    assert set(containers) == {"api", "worker"}
    assert containers["api"]["Image"] == containers["worker"]["Image"]
    assert containers["api"]["Command"][:2] == ["listbackup", "serve"]
    assert containers["worker"]["Command"] == ["listbackup", "worker"]
    assert containers["api"]["PortMappings"][0]["ContainerPort"] == PORT


# Deploy-time values of the template's references, as CloudFormation would fill them in.
_RESOLVED = {
    "region": "us-west-2",
    "cognito_user_pool_id": "us-west-2_AbC123xyz",
    "cognito_client_id": "4tqj7example2cl1ent",
    "platform_secrets": "arn:aws:secretsmanager:us-west-2:123456789012:secret:x-AbCdEf",
}


@pytest.mark.parametrize("name", ["api", "worker"])
def test_container_environment_is_valid_listbackup_settings(
    synth: Synth, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    environment = _environment(_containers(synth)[name])
    known = {ENV_PREFIX + field.upper() for field in Settings.model_fields}
    assert set(environment) <= known, "a variable the application does not read"
    for variable in [name for name in os.environ if name.startswith(ENV_PREFIX)]:
        monkeypatch.delenv(variable)
    for variable, value in environment.items():
        field = variable.removeprefix(ENV_PREFIX).lower()
        monkeypatch.setenv(variable, _RESOLVED[field] if not isinstance(value, str) else value)

    settings = load_settings()

    assert settings.stage == CONFIG.stage
    assert settings.names == NAMES
    assert settings.public_url == f"https://{CONFIG.domain_name}"
    assert settings.app_url == CONFIG.app_url
    assert settings.trusted_proxies == (CONFIG.vpc_cidr,)
    assert settings.email_from == CONFIG.email_from
    assert settings.graphiql is False
    assert render(environment[f"{ENV_PREFIX}REGION"]) == "{Ref:AWS::Region}"
    assert "PlatformSecret" in render(environment[f"{ENV_PREFIX}PLATFORM_SECRETS"])
    assert "UserPool" in render(environment[f"{ENV_PREFIX}COGNITO_USER_POOL_ID"])


def test_the_load_balancer_checks_healthz_and_the_container_readyz(synth: Synth) -> None:
    (group,) = synth.resources("service", "AWS::ElasticLoadBalancingV2::TargetGroup").values()
    check = _containers(synth)["api"]["HealthCheck"]

    assert group["HealthCheckPath"] == "/healthz"
    assert f"127.0.0.1:{PORT}/readyz" in " ".join(check["Command"])


def test_logs_are_kept_for_the_configured_retention(synth: Synth) -> None:
    groups = synth.resources("service", "AWS::Logs::LogGroup").values()

    assert {g["LogGroupName"] for g in groups} == {
        f"/listbackup/{CONFIG.stage}/api",
        f"/listbackup/{CONFIG.stage}/worker",
    }
    assert {g["RetentionInDays"] for g in groups} == {CONFIG.log_retention_days}


def test_the_api_scales_on_cpu_and_requests_per_target(synth: Synth) -> None:
    policies = [
        p["TargetTrackingScalingPolicyConfiguration"]
        for p in synth.resources("service", "AWS::ApplicationAutoScaling::ScalingPolicy").values()
    ]
    predefined = {
        p["PredefinedMetricSpecification"]["PredefinedMetricType"]: p["TargetValue"]
        for p in policies
        if "PredefinedMetricSpecification" in p
    }

    assert predefined == {
        "ECSServiceAverageCPUUtilization": CONFIG.api_cpu_target_percent,
        "ALBRequestCountPerTarget": CONFIG.api_requests_per_target,
    }


def test_the_worker_scales_on_job_backlog_per_running_task(synth: Synth) -> None:
    (policy,) = [
        p["TargetTrackingScalingPolicyConfiguration"]
        for p in synth.resources("service", "AWS::ApplicationAutoScaling::ScalingPolicy").values()
        if "CustomizedMetricSpecification" in p["TargetTrackingScalingPolicyConfiguration"]
    ]
    queries = {q["Id"]: q for q in policy["CustomizedMetricSpecification"]["Metrics"]}
    job_queues = [q for q in SPEC.queues if q.fifo]

    assert policy["TargetValue"] == CONFIG.worker_backlog_per_task
    (result,) = [q for q in queries.values() if q["ReturnData"]]
    assert (
        result["Expression"]
        == "(" + " + ".join(f"q{n}" for n in range(len(job_queues))) + ") / tasks"
    )
    queue_names = {
        render(q["MetricStat"]["Metric"]["Dimensions"][0]["Value"])
        for q in queries.values()
        if q.get("MetricStat", {}).get("Metric", {}).get("Namespace") == "AWS/SQS"
    }
    assert len(queue_names) == len(job_queues)
    tasks = queries["tasks"]["MetricStat"]["Metric"]
    assert (tasks["Namespace"], tasks["MetricName"]) == (
        "ECS/ContainerInsights",
        "RunningTaskCount",
    )
    (target,) = [
        t
        for t in synth.resources("service", "AWS::ApplicationAutoScaling::ScalableTarget").values()
        if t["MinCapacity"] == CONFIG.worker_min_tasks and "Worker" in render(t["ResourceId"])
    ]
    assert target["MaxCapacity"] == CONFIG.worker_max_tasks


def test_the_cluster_publishes_container_insights(synth: Synth) -> None:
    (cluster,) = synth.resources("service", "AWS::ECS::Cluster").values()
    assert {"Name": "containerInsights", "Value": "enabled"} in cluster["ClusterSettings"]
