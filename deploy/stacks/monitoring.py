"""Alarms to an SNS topic, and the dashboard; nothing here holds state worth keeping."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from deploy.config import DeployConfig
from deploy.stacks import construct_id, dashboard
from deploy.stacks.data import DataStack
from deploy.stacks.messaging import MessagingStack
from deploy.stacks.service import ServiceStack
from listbackup.resources import ResourceSpec

FIVE_MINUTES = Duration.minutes(5)
#: The operations ListBackup makes; DynamoDB reports SystemErrors per operation.
TABLE_OPERATIONS = (
    dynamodb.Operation.GET_ITEM,
    dynamodb.Operation.PUT_ITEM,
    dynamodb.Operation.UPDATE_ITEM,
    dynamodb.Operation.DELETE_ITEM,
    dynamodb.Operation.QUERY,
    dynamodb.Operation.BATCH_GET_ITEM,
    dynamodb.Operation.BATCH_WRITE_ITEM,
    dynamodb.Operation.TRANSACT_WRITE_ITEMS,
)


@dataclass(frozen=True, slots=True)
class Metrics:
    """The metrics both the alarms and the dashboard read."""

    spec: ResourceSpec
    config: DeployConfig
    service: ServiceStack

    def worker(self, name: str) -> cloudwatch.Metric:
        """One of the worker's embedded-metric-format metrics, for this stage."""
        return cloudwatch.Metric(
            namespace=self.spec.metrics_namespace,
            metric_name=name,
            dimensions_map={"Stage": self.config.stage},
            statistic="Sum",
            period=FIVE_MINUTES,
        )

    def api_5xx_percent(self) -> cloudwatch.MathExpression:
        alb = self.service.api.load_balancer.metrics
        return cloudwatch.MathExpression(
            # 5xx metrics are absent, not zero, in a minute without errors.
            expression="100 * (FILL(elb, 0) + FILL(target, 0)) / requests",
            using_metrics={
                "elb": alb.http_code_elb(elbv2.HttpCodeElb.ELB_5XX_COUNT, period=FIVE_MINUTES),
                "target": alb.http_code_target(
                    elbv2.HttpCodeTarget.TARGET_5XX_COUNT, period=FIVE_MINUTES
                ),
                "requests": alb.request_count(period=FIVE_MINUTES),
            },
            label="API 5xx (% of requests)",
            period=FIVE_MINUTES,
        )

    def p99(self) -> cloudwatch.Metric:
        return self.service.api.load_balancer.metrics.target_response_time(
            statistic="p99", period=Duration.minutes(1)
        )

    def tasks(self, service: ecs.BaseService, name: str) -> cloudwatch.Metric:
        return cloudwatch.Metric(
            namespace="ECS/ContainerInsights",
            metric_name=name,
            dimensions_map={
                "ClusterName": self.service.cluster.cluster_name,
                "ServiceName": service.service_name,
            },
            statistic="Average",
            period=Duration.minutes(1),
        )

    def tasks_missing(self, service: ecs.BaseService) -> cloudwatch.MathExpression:
        return cloudwatch.MathExpression(
            expression="desired - running",
            using_metrics={
                "desired": self.tasks(service, "DesiredTaskCount"),
                "running": self.tasks(service, "RunningTaskCount"),
            },
            label=f"{service.service_name}: tasks below desired",
            period=Duration.minutes(1),
        )


class MonitoringStack(Stack):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: DeployConfig,
        spec: ResourceSpec,
        data: DataStack,
        messaging: MessagingStack,
        service: ServiceStack,
        **kw: Any,
    ) -> None:
        super().__init__(scope, id, **kw)
        self.topic = sns.Topic(self, "Alarms", topic_name=f"{config.prefix}-alarms")
        if config.alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(config.alarm_email))
        self._prefix = config.prefix
        self.alarms: list[cloudwatch.Alarm] = []
        metrics = Metrics(spec=spec, config=config, service=service)

        self._alarm(
            "Api5xxRate",
            metrics.api_5xx_percent(),
            threshold=5,
            periods=2,
            description="API 5xx responses over 5 % of requests",
        )
        self._alarm(
            "ApiLatencyP99",
            metrics.p99(),
            threshold=config.api_p99_seconds,
            periods=5,
            description=f"API target response time p99 over {config.api_p99_seconds} s",
        )
        self._alarm(
            "ApiUnhealthyTargets",
            service.api.target_group.metrics.unhealthy_host_count(period=Duration.minutes(1)),
            threshold=1,
            periods=5,
            description="API tasks failing the load balancer's /healthz check",
        )
        self._alarm(
            "JobsFailing",
            metrics.worker("JobsFailed").with_(period=Duration.minutes(15)),
            threshold=config.jobs_failed_per_15_minutes,
            periods=1,
            description=f"{config.jobs_failed_per_15_minutes} or more jobs failed in 15 minutes",
        )
        for name, svc in (("Api", service.api.service), ("Worker", service.worker)):
            self._alarm(
                f"{name}TasksBelowDesired",
                metrics.tasks_missing(svc),
                threshold=1,
                periods=5,
                description=f"{name} tasks running below the desired count (crashing, "
                "failing health checks or unable to start)",
            )
        for name, dlq in messaging.dead_letter_queues.items():
            self._alarm(
                construct_id(name, "DeadLetters"),
                dlq.metric_approximate_number_of_messages_visible(
                    statistic="Maximum", period=FIVE_MINUTES
                ),
                threshold=1,
                periods=1,
                description=f"messages in the {name} dead-letter queue",
            )
        for queue_spec, queue in zip(
            (q for q in spec.queues if q.fifo), messaging.job_queues, strict=True
        ):
            self._alarm(
                construct_id(queue_spec.name, "Backlog"),
                queue.metric_approximate_number_of_messages_visible(
                    statistic="Maximum", period=FIVE_MINUTES
                ),
                threshold=config.queue_visible_messages,
                periods=3,
                description=f"over {config.queue_visible_messages} visible messages in the "
                f"{queue_spec.name} queue",
                strictly_above=True,
            )
            self._alarm(
                construct_id(queue_spec.name, "OldestMessage"),
                queue.metric_approximate_age_of_oldest_message(
                    statistic="Maximum", period=FIVE_MINUTES
                ),
                threshold=config.queue_oldest_message_seconds,
                periods=1,
                description=f"a message in the {queue_spec.name} queue is older than "
                f"{config.queue_oldest_message_seconds} s",
                strictly_above=True,
            )
        for name, table in data.tables.items():
            self._alarm(
                construct_id(name, "Throttles"),
                cloudwatch.MathExpression(
                    expression="FILL(reads, 0) + FILL(writes, 0)",
                    using_metrics={
                        "reads": table.metric("ReadThrottleEvents", statistic="Sum"),
                        "writes": table.metric("WriteThrottleEvents", statistic="Sum"),
                    },
                    label=f"{name}: throttled requests",
                    period=FIVE_MINUTES,
                ),
                threshold=1,
                periods=1,
                description=f"DynamoDB throttled requests on {name}",
            )
            self._alarm(
                construct_id(name, "SystemErrors"),
                table.metric_system_errors_for_operations(
                    operations=list(TABLE_OPERATIONS), period=FIVE_MINUTES
                ),
                threshold=1,
                periods=1,
                description=f"DynamoDB system errors on {name}",
            )
        dashboard.build(
            self,
            name=config.prefix,
            metrics=metrics,
            data=data,
            messaging=messaging,
            alarms=self.alarms,
        )

    def _alarm(
        self,
        id: str,
        metric: cloudwatch.IMetric,
        *,
        threshold: float,
        periods: int,
        description: str,
        strictly_above: bool = False,
    ) -> cloudwatch.Alarm:
        alarm = cloudwatch.Alarm(
            self,
            id,
            metric=metric,
            alarm_name=f"{self._prefix}-{id}",
            alarm_description=description,
            threshold=threshold,
            evaluation_periods=periods,
            comparison_operator=(
                cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD
                if strictly_above
                else cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
            ),
            # No data is no traffic, no failed jobs, no messages: not an alarm.
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(actions.SnsAction(self.topic))
        alarm.add_ok_action(actions.SnsAction(self.topic))
        self.alarms.append(alarm)
        return alarm
