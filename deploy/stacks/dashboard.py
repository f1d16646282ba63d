"""One CloudWatch dashboard in four views: system overview, database, queues, errors."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from constructs import Construct

from deploy.stacks.data import DataStack
from deploy.stacks.messaging import MessagingStack

if TYPE_CHECKING:
    from deploy.stacks.monitoring import Metrics

VIEWS = ("System overview", "Database", "Queues", "Errors")
_WIDTH = 8


def _graph(title: str, left: Sequence[cloudwatch.IMetric]) -> cloudwatch.GraphWidget:
    return cloudwatch.GraphWidget(title=title, left=list(left), width=_WIDTH, height=6)


def _header(view: str) -> cloudwatch.TextWidget:
    return cloudwatch.TextWidget(markdown=f"## {view}", width=24, height=1)


def build(
    scope: Construct,
    *,
    name: str,
    metrics: Metrics,
    data: DataStack,
    messaging: MessagingStack,
    alarms: Sequence[cloudwatch.Alarm],
) -> cloudwatch.Dashboard:
    service = metrics.service
    alb = service.api.load_balancer.metrics
    minute = Duration.minutes(1)
    overview: list[cloudwatch.IWidget] = [
        _graph("API requests", [alb.request_count(period=minute)]),
        _graph("API 5xx (% of requests)", [metrics.api_5xx_percent()]),
        _graph(
            "API latency p50 / p99",
            [
                alb.target_response_time(statistic="p50", period=minute),
                metrics.p99(),
            ],
        ),
        _graph(
            "Running tasks",
            [
                metrics.tasks(service.api.service, "RunningTaskCount"),
                metrics.tasks(service.worker, "RunningTaskCount"),
            ],
        ),
        _graph("Jobs", [metrics.worker("JobsCompleted"), metrics.worker("JobsFailed")]),
        _graph("Records backed up", [metrics.worker("RecordsBackedUp")]),
        _graph(
            "Job duration (s, p50 / p99)",
            [
                metrics.worker("JobDurationSeconds").with_(statistic="p50"),
                metrics.worker("JobDurationSeconds").with_(statistic="p99"),
            ],
        ),
        _graph(
            "CPU %",
            [
                service.api.service.metric_cpu_utilization(period=minute),
                service.worker.metric_cpu_utilization(period=minute),
            ],
        ),
    ]
    tables = data.tables.items()
    database: list[cloudwatch.IWidget] = [
        _graph(
            "Consumed read units",
            [t.metric_consumed_read_capacity_units(label=n) for n, t in tables],
        ),
        _graph(
            "Consumed write units",
            [t.metric_consumed_write_capacity_units(label=n) for n, t in tables],
        ),
        _graph(
            "Throttle events",
            [t.metric("ReadThrottleEvents", statistic="Sum", label=f"{n} reads") for n, t in tables]
            + [
                t.metric("WriteThrottleEvents", statistic="Sum", label=f"{n} writes")
                for n, t in tables
            ],
        ),
    ]
    queues = messaging.queues.items()
    dead_letters = messaging.dead_letter_queues.items()
    queue_view: list[cloudwatch.IWidget] = [
        _graph(
            "Visible messages",
            [q.metric_approximate_number_of_messages_visible(label=n) for n, q in queues],
        ),
        _graph(
            "Oldest message (s)",
            [q.metric_approximate_age_of_oldest_message(label=n) for n, q in queues],
        ),
        _graph(
            "Dead-letter queues: visible messages",
            [q.metric_approximate_number_of_messages_visible(label=n) for n, q in dead_letters],
        ),
    ]
    errors: list[cloudwatch.IWidget] = [
        _graph(
            "5xx responses",
            [
                alb.http_code_elb(elbv2.HttpCodeElb.ELB_5XX_COUNT, period=minute),
                alb.http_code_target(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, period=minute),
            ],
        ),
        _graph("Jobs failed", [metrics.worker("JobsFailed")]),
        _graph(
            "Dead letters (all queues)",
            [q.metric_approximate_number_of_messages_visible(label=n) for n, q in dead_letters],
        ),
        cloudwatch.AlarmStatusWidget(
            title="Alarms", alarms=list(alarms), width=24, height=max(3, len(alarms) // 4 + 2)
        ),
    ]
    board = cloudwatch.Dashboard(scope, "Dashboard", dashboard_name=name)
    for view, widgets in zip(VIEWS, (overview, database, queue_view, errors), strict=True):
        board.add_widgets(_header(view))
        for row in range(0, len(widgets), 3):
            board.add_widgets(*widgets[row : row + 3])
    return board
