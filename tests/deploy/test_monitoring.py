"""Alarms (each with its threshold, to the SNS topic) and the dashboard's four views."""

from __future__ import annotations

from typing import Any

import pytest

from deploy.stacks import construct_id
from deploy.stacks.dashboard import VIEWS
from listbackup.resources import SPEC
from tests.deploy.conftest import CONFIG, NAMES, Synth, render

GE = "GreaterThanOrEqualToThreshold"
GT = "GreaterThanThreshold"


def _alarms(synth: Synth) -> dict[str, dict[str, Any]]:
    return {
        props["AlarmName"].removeprefix(f"{NAMES.prefix}-"): props
        for props in synth.resources("monitoring", "AWS::CloudWatch::Alarm").values()
    }


def _expected() -> dict[str, tuple[float, str]]:
    expected: dict[str, tuple[float, str]] = {
        "Api5xxRate": (5, GE),
        "ApiLatencyP99": (CONFIG.api_p99_seconds, GE),
        "ApiUnhealthyTargets": (1, GE),
        "JobsFailing": (CONFIG.jobs_failed_per_15_minutes, GE),
        "ApiTasksBelowDesired": (1, GE),
        "WorkerTasksBelowDesired": (1, GE),
    }
    for queue in SPEC.queues:
        if queue.max_receive_count is not None:
            expected[construct_id(queue.name, "DeadLetters")] = (1, GE)
        if queue.fifo:
            expected[construct_id(queue.name, "Backlog")] = (CONFIG.queue_visible_messages, GT)
            expected[construct_id(queue.name, "OldestMessage")] = (
                CONFIG.queue_oldest_message_seconds,
                GT,
            )
    for table in SPEC.tables:
        expected[construct_id(table.name, "Throttles")] = (1, GE)
        expected[construct_id(table.name, "SystemErrors")] = (1, GE)
    return expected


def test_every_alarm_exists_with_its_threshold(synth: Synth) -> None:
    alarms = _alarms(synth)
    assert {
        name: (props["Threshold"], props["ComparisonOperator"]) for name, props in alarms.items()
    } == _expected()


def test_every_alarm_notifies_the_topic(synth: Synth) -> None:
    (topic_id,) = synth.resources("monitoring", "AWS::SNS::Topic")
    (subscription,) = synth.resources("monitoring", "AWS::SNS::Subscription").values()

    assert subscription == {
        "Endpoint": CONFIG.alarm_email,
        "Protocol": "email",
        "TopicArn": {"Ref": topic_id},
    }
    for name, alarm in _alarms(synth).items():
        assert alarm["AlarmActions"] == [{"Ref": topic_id}], name
        assert alarm["TreatMissingData"] == "notBreaching", name


def test_the_5xx_alarm_is_a_share_of_all_requests(synth: Synth) -> None:
    queries = {q["Id"]: q for q in _alarms(synth)["Api5xxRate"]["Metrics"]}

    assert queries["expr_1"]["Expression"] == ("100 * (FILL(elb, 0) + FILL(target, 0)) / requests")
    assert {
        queries[name]["MetricStat"]["Metric"]["MetricName"]
        for name in ("elb", "target", "requests")
    } == {"HTTPCode_ELB_5XX_Count", "HTTPCode_Target_5XX_Count", "RequestCount"}


@pytest.mark.parametrize(
    ("alarm", "namespace", "metric"),
    [
        ("ApiLatencyP99", "AWS/ApplicationELB", "TargetResponseTime"),
        ("JobsFailing", SPEC.metrics_namespace, "JobsFailed"),
    ],
)
def test_metric_alarms_watch_the_right_metric(
    synth: Synth, alarm: str, namespace: str, metric: str
) -> None:
    props = _alarms(synth)[alarm]
    assert (props["Namespace"], props["MetricName"]) == (namespace, metric)


def test_jobs_failing_reads_the_workers_metric_for_this_stage(synth: Synth) -> None:
    props = _alarms(synth)["JobsFailing"]
    assert props["Dimensions"] == [{"Name": "Stage", "Value": CONFIG.stage}]
    assert props["Statistic"] == "Sum"
    assert _alarms(synth)["ApiLatencyP99"]["ExtendedStatistic"] == "p99"


def test_the_dashboard_has_the_four_views(synth: Synth) -> None:
    (dashboard,) = synth.resources("monitoring", "AWS::CloudWatch::Dashboard").values()
    body = render(dashboard["DashboardBody"])

    assert [view for view in VIEWS if f"## {view}" in body] == list(VIEWS)
    for metric in ("JobsCompleted", "RecordsBackedUp", "JobDurationSeconds", "ReadThrottleEvents"):
        assert metric in body
