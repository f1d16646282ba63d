"""The worker scales on its job queues' backlog per running task.

Target tracking on metric math (visible job messages / running worker tasks) is what AWS
recommends for queue workers; the L2 scaling API takes single metrics only, hence the
L1 policy.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Stack
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from deploy.config import DeployConfig


def scale_worker_on_backlog(
    scope: Construct,
    *,
    cluster: ecs.ICluster,
    worker: ecs.FargateService,
    job_queues: Sequence[sqs.IQueue],
    config: DeployConfig,
) -> appscaling.CfnScalingPolicy:
    target = appscaling.ScalableTarget(
        scope,
        "WorkerScaling",
        service_namespace=appscaling.ServiceNamespace.ECS,
        resource_id=f"service/{cluster.cluster_name}/{worker.service_name}",
        scalable_dimension="ecs:service:DesiredCount",
        min_capacity=config.worker_min_tasks,
        max_capacity=config.worker_max_tasks,
        role=iam.Role.from_role_arn(
            scope,
            "WorkerScalingRole",
            Stack.of(scope).format_arn(
                service="iam",
                region="",
                resource="role/aws-service-role/ecs.application-autoscaling.amazonaws.com",
                resource_name="AWSServiceRoleForApplicationAutoScaling_ECSService",
            ),
        ),
    )
    target.node.add_dependency(worker)
    policy = appscaling.CfnScalingPolicy
    queries = [
        policy.TargetTrackingMetricDataQueryProperty(
            id=f"q{n}",
            return_data=False,
            metric_stat=policy.TargetTrackingMetricStatProperty(
                stat="Sum",
                metric=policy.TargetTrackingMetricProperty(
                    namespace="AWS/SQS",
                    metric_name="ApproximateNumberOfMessagesVisible",
                    dimensions=[
                        policy.TargetTrackingMetricDimensionProperty(
                            name="QueueName", value=queue.queue_name
                        )
                    ],
                ),
            ),
        )
        for n, queue in enumerate(job_queues)
    ]
    queries.append(
        policy.TargetTrackingMetricDataQueryProperty(
            id="tasks",
            return_data=False,
            metric_stat=policy.TargetTrackingMetricStatProperty(
                stat="Average",
                metric=policy.TargetTrackingMetricProperty(
                    namespace="ECS/ContainerInsights",
                    metric_name="RunningTaskCount",
                    dimensions=[
                        policy.TargetTrackingMetricDimensionProperty(
                            name="ClusterName", value=cluster.cluster_name
                        ),
                        policy.TargetTrackingMetricDimensionProperty(
                            name="ServiceName", value=worker.service_name
                        ),
                    ],
                ),
            ),
        )
    )
    backlog = " + ".join(f"q{n}" for n in range(len(job_queues)))
    queries.append(
        policy.TargetTrackingMetricDataQueryProperty(
            id="backlogPerTask",
            label="Visible job messages per running worker task",
            expression=f"({backlog}) / tasks",
            return_data=True,
        )
    )
    tracking = policy.TargetTrackingScalingPolicyConfigurationProperty(
        target_value=config.worker_backlog_per_task,
        scale_out_cooldown=60,
        # Scale in slowly: a task taken away mid-backup hands its job back.
        scale_in_cooldown=600,
        customized_metric_specification=policy.CustomizedMetricSpecificationProperty(
            metrics=queries
        ),
    )
    return policy(
        scope,
        "WorkerBacklogPerTask",
        policy_name=f"{cluster.cluster_name}-worker-backlog-per-task",
        policy_type="TargetTrackingScaling",
        scaling_target_id=target.scalable_target_id,
        target_tracking_scaling_policy_configuration=tracking,
    )
