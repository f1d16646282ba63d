"""The running service: network, cluster, the API behind a load balancer, the worker."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_cdk import CfnOutput, Duration, RemovalPolicy, Stack
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_ecs_patterns as ecs_patterns
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_logs as logs
from aws_cdk import aws_route53 as route53
from constructs import Construct

from deploy.config import LOG_RETENTION, DeployConfig
from deploy.stacks import permissions, scaling, waf
from deploy.stacks.permissions import Resources
from listbackup.config import ENV_PREFIX
from listbackup.resources import ResourceSpec

ROOT = Path(__file__).resolve().parents[2]
PORT = 8000
_READY_CHECK = (
    "import sys, urllib.request; "
    f"sys.exit(urllib.request.urlopen('http://127.0.0.1:{PORT}/readyz', timeout=4).status != 200)"
)


def container_image() -> ecs.ContainerImage:
    """The repository's Dockerfile; synth only stages it (.dockerignore keeps it small)."""
    # Fargate runs the tasks on x86: build for it even on an ARM laptop.
    return ecs.ContainerImage.from_asset(str(ROOT), platform=ecr_assets.Platform.LINUX_AMD64)


class ServiceStack(Stack):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: DeployConfig,
        spec: ResourceSpec,
        resources: Resources,
        image: ecs.ContainerImage,
        **kw: Any,
    ) -> None:
        super().__init__(scope, id, **kw)
        names = config.names
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(config.vpc_cidr),
            max_azs=config.max_azs,
            nat_gateways=config.nat_gateways,
        )
        # DynamoDB and S3 traffic stays off the NAT gateways (cheaper, and never public).
        self.vpc.add_gateway_endpoint("DynamoDb", service=ec2.GatewayVpcEndpointAwsService.DYNAMODB)
        self.vpc.add_gateway_endpoint("S3", service=ec2.GatewayVpcEndpointAwsService.S3)
        self.cluster = ecs.Cluster(
            self,
            "Cluster",
            vpc=self.vpc,
            cluster_name=names.prefix,
            # Task counts per service (alarms, the worker's backlog per task) come from here.
            container_insights_v2=ecs.ContainerInsights.ENABLED,
        )
        environment = self._environment(config, resources)
        self.api = self._api(config, image, environment)
        self.worker = self._worker(config, image, environment)
        scaling.scale_worker_on_backlog(
            self,
            cluster=self.cluster,
            worker=self.worker,
            job_queues=resources.messaging.job_queues,
            config=config,
        )
        permissions.grant_api(self.api.task_definition.task_role, resources, config=config)
        permissions.grant_worker(self.worker.task_definition.task_role, resources, spec=spec)
        self.web_acl = waf.web_acl(
            self,
            name=f"{names.prefix}-api",
            load_balancer_arn=self.api.load_balancer.load_balancer_arn,
            requests_per_5_minutes=config.waf_requests_per_5_minutes,
        )
        CfnOutput(self, "ApiUrl", value=f"{config.public_url}/graphql")

    def _environment(self, config: DeployConfig, res: Resources) -> dict[str, str]:
        """The stage's settings (listbackup.config) as the containers' environment."""
        names = config.names
        settings = {
            "stage": config.stage,
            "region": self.region,
            "resource_prefix": names.prefix,
            "data_bucket": names.bucket_name,
            "cognito_user_pool_id": res.identity.user_pool.user_pool_id,
            "cognito_client_id": res.identity.client.user_pool_client_id,
            "app_url": config.app_url,
            "public_url": config.public_url,
            "cors_origins": config.app_origin,
            # The load balancer's addresses are in the VPC: its X-Forwarded-For is believed.
            "trusted_proxies": config.vpc_cidr,
            "email_from": config.email_from,
            "platform_secrets": res.identity.platform_secret.secret_arn,
            "log_level": "INFO",
        }
        return {f"{ENV_PREFIX}{name.upper()}": value for name, value in settings.items()}

    def _log_group(self, name: str, config: DeployConfig) -> logs.LogGroup:
        return logs.LogGroup(
            self,
            f"{name.capitalize()}Logs",
            log_group_name=f"/listbackup/{config.stage}/{name}",
            retention=logs.RetentionDays[LOG_RETENTION[config.log_retention_days]],
            removal_policy=RemovalPolicy.RETAIN if config.production else RemovalPolicy.DESTROY,
        )

    def _task(self, name: str, cpu: int, memory: int) -> ecs.FargateTaskDefinition:
        return ecs.FargateTaskDefinition(
            self,
            f"{name.capitalize()}Task",
            family=f"{self.cluster.cluster_name}-{name}",
            cpu=cpu,
            memory_limit_mib=memory,
            runtime_platform=ecs.RuntimePlatform(
                cpu_architecture=ecs.CpuArchitecture.X86_64,
                operating_system_family=ecs.OperatingSystemFamily.LINUX,
            ),
        )

    def _api(
        self, config: DeployConfig, image: ecs.ContainerImage, environment: dict[str, str]
    ) -> ecs_patterns.ApplicationLoadBalancedFargateService:
        task = self._task("api", config.api_cpu, config.api_memory_mib)
        task.add_container(
            "api",
            image=image,
            command=[
                *("listbackup", "serve", "--port", str(PORT)),
                *("--workers", str(config.api_processes)),
            ],
            environment=environment,
            logging=ecs.LogDrivers.aws_logs(
                stream_prefix="api", log_group=self._log_group("api", config)
            ),
            port_mappings=[ecs.PortMapping(container_port=PORT)],
            # /readyz asks DynamoDB; five misses in a row (2.5 minutes) replace the task, so
            # a short DynamoDB blip does not restart the whole fleet.
            health_check=ecs.HealthCheck(
                command=["CMD", "python", "-c", _READY_CHECK],
                interval=Duration.seconds(30),
                timeout=Duration.seconds(5),
                retries=5,
                start_period=Duration.seconds(60),
            ),
            # Time to close WebSockets and delete this process's live queue and rule.
            stop_timeout=Duration.seconds(30),
        )
        zone = route53.HostedZone.from_hosted_zone_attributes(
            self, "Zone", hosted_zone_id=config.hosted_zone_id, zone_name=config.hosted_zone_name
        )
        certificate = acm.Certificate(
            self,
            "Certificate",
            domain_name=config.domain_name,
            validation=acm.CertificateValidation.from_dns(zone),
        )
        api = ecs_patterns.ApplicationLoadBalancedFargateService(
            self,
            "Api",
            cluster=self.cluster,
            service_name=f"{self.cluster.cluster_name}-api",
            task_definition=task,
            desired_count=config.api_min_tasks,
            certificate=certificate,
            domain_name=config.domain_name,
            domain_zone=zone,
            protocol=elbv2.ApplicationProtocol.HTTPS,
            redirect_http=True,
            ssl_policy=elbv2.SslPolicy.RECOMMENDED_TLS,
            public_load_balancer=True,
            # GraphQL subscriptions hold WebSockets open; the default 60 s cuts idle ones.
            idle_timeout=Duration.seconds(300),
            min_healthy_percent=100,
            max_healthy_percent=200,
            circuit_breaker=ecs.DeploymentCircuitBreaker(rollback=True),
            health_check_grace_period=Duration.seconds(60),
        )
        api.target_group.configure_health_check(
            path="/healthz",
            healthy_http_codes="200",
            interval=Duration.seconds(15),
            timeout=Duration.seconds(5),
            healthy_threshold_count=2,
            unhealthy_threshold_count=3,
        )
        api.target_group.set_attribute("deregistration_delay.timeout_seconds", "30")
        # Malformed headers never reach the app (request smuggling, header confusion).
        api.load_balancer.set_attribute("routing.http.drop_invalid_header_fields.enabled", "true")
        scaling = api.service.auto_scale_task_count(
            min_capacity=config.api_min_tasks, max_capacity=config.api_max_tasks
        )
        scaling.scale_on_cpu_utilization(
            "Cpu", target_utilization_percent=config.api_cpu_target_percent
        )
        scaling.scale_on_request_count(
            "Requests",
            requests_per_target=config.api_requests_per_target,
            target_group=api.target_group,
        )
        return api

    def _worker(
        self, config: DeployConfig, image: ecs.ContainerImage, environment: dict[str, str]
    ) -> ecs.FargateService:
        task = self._task("worker", config.worker_cpu, config.worker_memory_mib)
        task.add_container(
            "worker",
            image=image,
            command=["listbackup", "worker"],
            environment=environment,
            logging=ecs.LogDrivers.aws_logs(
                stream_prefix="worker", log_group=self._log_group("worker", config)
            ),
            # Fargate's most: a job in flight gets two minutes to finish or hand back.
            stop_timeout=Duration.seconds(120),
        )
        return ecs.FargateService(
            self,
            "Worker",
            cluster=self.cluster,
            service_name=f"{self.cluster.cluster_name}-worker",
            task_definition=task,
            desired_count=config.worker_min_tasks,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            min_healthy_percent=100,
            max_healthy_percent=200,
            circuit_breaker=ecs.DeploymentCircuitBreaker(rollback=True),
        )
