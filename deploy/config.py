"""What one deployment (a stage) is: names, domain, sizes, thresholds.

Every value comes from CDK context (``-c domain_name=api.example.com``) or, failing that,
from the environment (``LISTBACKUP_DEPLOY_DOMAIN_NAME``); docs/deploy.md lists them all.
A missing or invalid value stops the synth with one line naming it, as the application's
own settings do.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any
from urllib.parse import urlsplit

from listbackup.resources import Names

ENV_PREFIX = "LISTBACKUP_DEPLOY_"
#: The one stage whose data is kept and protected (retention, deletion protection, PITR).
PRODUCTION = "production"
#: The retention periods CloudWatch Logs accepts, in days, by aws_logs.RetentionDays name.
LOG_RETENTION = {
    1: "ONE_DAY",
    3: "THREE_DAYS",
    5: "FIVE_DAYS",
    7: "ONE_WEEK",
    14: "TWO_WEEKS",
    30: "ONE_MONTH",
    60: "TWO_MONTHS",
    90: "THREE_MONTHS",
    120: "FOUR_MONTHS",
    150: "FIVE_MONTHS",
    180: "SIX_MONTHS",
    365: "ONE_YEAR",
    400: "THIRTEEN_MONTHS",
    545: "EIGHTEEN_MONTHS",
    731: "TWO_YEARS",
    1096: "THREE_YEARS",
    1827: "FIVE_YEARS",
    2192: "SIX_YEARS",
    2557: "SEVEN_YEARS",
    2922: "EIGHT_YEARS",
    3288: "NINE_YEARS",
    3653: "TEN_YEARS",
}


class DeployConfigError(Exception):
    """A missing or invalid deployment setting; the message is one line naming it."""


@dataclass(frozen=True, slots=True)
class DeployConfig:
    stage: str
    #: The API's host name (an A record in the hosted zone, and the certificate's name).
    domain_name: str
    hosted_zone_id: str
    hosted_zone_name: str
    #: The web app's address: emails link to it, OAuth ends there, CORS allows it.
    app_url: str
    #: The sender of ListBackup's emails; an SES email identity is created for it.
    email_from: str
    account: str | None = None
    region: str | None = None
    resource_prefix: str = ""
    #: Bucket names are global: set one per stage in production.
    data_bucket: str = ""
    #: Where alarms are emailed; without it the topic has no subscription yet.
    alarm_email: str | None = None
    #: Cognito's own mailer sends 50 emails a day; once the SES identity is verified
    #: (after the first deploy), set this to send Cognito's emails through SES.
    cognito_email_via_ses: bool = False
    vpc_cidr: str = "10.0.0.0/16"
    max_azs: int = 2
    nat_gateways: int = 1
    api_cpu: int = 512
    api_memory_mib: int = 1024
    #: uvicorn processes per API task (each has its own live fan-out queue).
    api_processes: int = 1
    api_min_tasks: int = 2
    api_max_tasks: int = 10
    api_cpu_target_percent: int = 60
    api_requests_per_target: int = 1000
    worker_cpu: int = 1024
    worker_memory_mib: int = 2048
    worker_min_tasks: int = 1
    worker_max_tasks: int = 10
    #: Visible job messages one worker task is expected to keep up with.
    worker_backlog_per_task: int = 10
    #: Requests per client address per 5 minutes before the WAF blocks it.
    waf_requests_per_5_minutes: int = 2000
    log_retention_days: int = 30
    #: Alarm thresholds.
    api_p99_seconds: float = 2.0
    jobs_failed_per_15_minutes: int = 5
    queue_visible_messages: int = 1000
    queue_oldest_message_seconds: int = 3600

    def __post_init__(self) -> None:
        _check(self)

    @property
    def production(self) -> bool:
        return self.stage == PRODUCTION

    @property
    def prefix(self) -> str:
        # The same derivation as the application's settings (listbackup.config).
        return self.resource_prefix or f"listbackup-{self.stage}"

    @property
    def names(self) -> Names:
        return Names(prefix=self.prefix, bucket_name=self.data_bucket or f"{self.prefix}-data")

    @property
    def public_url(self) -> str:
        return f"https://{self.domain_name}"

    @property
    def app_origin(self) -> str:
        parts = urlsplit(self.app_url)
        return f"{parts.scheme}://{parts.netloc}"

    def stack_name(self, part: str) -> str:
        return f"ListBackup-{self.stage}-{part}"


_PATTERNS: dict[str, str] = {
    "stage": r"[a-z][a-z0-9-]{0,23}",
    "domain_name": r"([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}",
    "hosted_zone_name": r"([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}\.?",
    "hosted_zone_id": r"Z[A-Z0-9]{1,31}",
    "app_url": r"https://[^\s/]+(/\S*)?",
    "email_from": r"[^@\s]+@[^@\s]+\.[^@\s]+",
    "alarm_email": r"[^@\s]+@[^@\s]+\.[^@\s]+",
    "account": r"\d{12}",
    "region": r"[a-z]{2}(-[a-z]+)+-\d",
    "resource_prefix": r"([a-z][a-z0-9-]{2,40})?",
    "data_bucket": r"([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])?",
}


def _check(config: DeployConfig) -> None:
    for name, pattern in _PATTERNS.items():
        value = getattr(config, name)
        if value is not None and not re.fullmatch(pattern, value):
            raise DeployConfigError(f"invalid deploy setting {name}: {value!r}")
    zone = config.hosted_zone_name.rstrip(".")
    if config.domain_name != zone and not config.domain_name.endswith(f".{zone}"):
        raise DeployConfigError(
            f"invalid deploy setting domain_name: {config.domain_name!r} is not in {zone!r}"
        )
    try:
        network = ipaddress.ip_network(config.vpc_cidr)
    except ValueError:
        raise DeployConfigError(f"invalid deploy setting vpc_cidr: {config.vpc_cidr!r}") from None
    if not network.is_private or network.prefixlen > 20:
        raise DeployConfigError("invalid deploy setting vpc_cidr: want a private /20 or larger")
    if config.log_retention_days not in LOG_RETENTION:
        raise DeployConfigError(
            f"invalid deploy setting log_retention_days: {config.log_retention_days}, "
            f"want one of {', '.join(map(str, LOG_RETENTION))}"
        )
    for low, high in (("api_min_tasks", "api_max_tasks"), ("worker_min_tasks", "worker_max_tasks")):
        # Backlog per task divides by running tasks: the worker never scales to zero.
        if not 1 <= getattr(config, low) <= getattr(config, high):
            raise DeployConfigError(f"invalid deploy settings: want 1 <= {low} <= {high}")


def _parse_bool(raw: str) -> bool:
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError(raw)


_PARSERS: dict[str, Callable[[str], Any]] = {
    "int": int,
    "float": float,
    "bool": _parse_bool,
}


def load(context: Callable[[str], object], environ: Mapping[str, str]) -> DeployConfig:
    """The stage's config: each field from context, else ``LISTBACKUP_DEPLOY_<FIELD>``."""
    values: dict[str, Any] = {}
    missing: list[str] = []
    for field in fields(DeployConfig):
        raw = context(field.name)
        if raw is None:
            raw = environ.get(ENV_PREFIX + field.name.upper())
        if raw is None or raw == "":
            if field.default is dataclasses.MISSING:
                missing.append(
                    f"{field.name} (-c {field.name}=... or {ENV_PREFIX}{field.name.upper()})"
                )
            continue
        kind = str(field.type).removesuffix(" | None")
        try:
            values[field.name] = (
                _PARSERS[kind](str(raw)) if kind in _PARSERS and isinstance(raw, str) else raw
            )
        except ValueError:
            raise DeployConfigError(f"invalid deploy setting {field.name}: {raw!r}") from None
    if missing:
        raise DeployConfigError("missing deploy setting " + ", ".join(missing))
    return DeployConfig(**values)
