"""Settings, read once from ``LISTBACKUP_*`` environment variables and validated at start-up."""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from listbackup.resources import SPEC, Names

ENV_PREFIX = "LISTBACKUP_"
#: Stages that only ever run on a developer's machine or in tests, never in AWS.
LOCAL_STAGES = frozenset({"local", "test"})
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]
DEFAULT_MAX_BODY_BYTES = 1_048_576
#: Objects a query's answer may hold; the frontend's tree view can hold 223 342
#: (docs/security.md, "Query cost").
DEFAULT_MAX_QUERY_COST = 50_000


class SettingsError(Exception):
    """A missing or invalid setting; the message is one line naming it."""


@dataclass(frozen=True, slots=True)
class PlatformSettings:
    """``LISTBACKUP_PLATFORM_<SLUG>_*``: our OAuth app at a platform, and URL overrides
    (sandboxes, tests) of the registry's defaults."""

    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    authorize_url: str | None = None
    token_url: str | None = None
    api_base_url: str | None = None


def merge_platforms(
    base: Mapping[str, PlatformSettings], over: Mapping[str, PlatformSettings]
) -> dict[str, PlatformSettings]:
    """``base`` with every field ``over`` sets replacing its value, slug by slug."""
    merged = dict(base)
    for slug, settings in over.items():
        given = {k: v for k, v in asdict(settings).items() if v is not None}
        merged[slug] = replace(merged.get(slug, PlatformSettings()), **given)
    return merged


_PLATFORM_VARIABLE = re.compile(
    r"^LISTBACKUP_PLATFORM_([A-Z0-9_]+?)_(CLIENT_ID|CLIENT_SECRET|AUTHORIZE_URL|TOKEN_URL|API_BASE_URL)$"
)


def platform_settings(environ: Mapping[str, str]) -> dict[str, PlatformSettings]:
    """Per-platform settings by slug (SLUG upper-cased, ``-`` written ``_``)."""
    found: dict[str, dict[str, str]] = {}
    for name, value in environ.items():
        match = _PLATFORM_VARIABLE.match(name.upper())
        if match and value.strip():
            slug = match.group(1).lower().replace("_", "-")
            found.setdefault(slug, {})[match.group(2).lower()] = value.strip()
    return {slug: PlatformSettings(**values) for slug, values in found.items()}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        frozen=True,
        extra="ignore",
        case_sensitive=False,
        validate_by_name=True,
    )

    #: Deployment stage (dev, staging, production...); every AWS resource name derives from it.
    stage: str = Field(pattern=r"^[a-z][a-z0-9-]{0,23}$")
    region: str = Field(
        pattern=r"^[a-z]{2}(-[a-z]+)+-\d$",
        validation_alias=AliasChoices("LISTBACKUP_REGION", "AWS_REGION", "AWS_DEFAULT_REGION"),
    )
    #: Prefix of every resource name; ``listbackup-{stage}`` unless set.
    resource_prefix: str = Field(default="", pattern=r"^([a-z][a-z0-9-]{2,40})?$")
    #: The backup bucket; ``{resource_prefix}-data`` unless set (bucket names are global).
    data_bucket: str = Field(default="", pattern=r"^([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])?$")
    cognito_user_pool_id: str | None = Field(default=None, pattern=r"^[\w-]+_[0-9a-zA-Z]+$")
    cognito_client_id: str | None = Field(default=None, pattern=r"^[\w+]+$")
    #: Where to fetch the pool's signing keys instead of Cognito's own URL. Only for the
    #: embedded local stack: refused unless the stage is local and the URL is loopback.
    cognito_jwks_url: str | None = None
    #: Confirm new users at once (no emailed code). On by default only in `listbackup dev`.
    auto_confirm: bool = False
    #: The sender of ListBackup's emails; must be a verified SES identity.
    email_from: str = Field(default="no-reply@listbackup.local", pattern=r"^[^@\s]+@[^@\s]+$")
    #: A Secrets Manager secret (name or ARN) holding our OAuth apps' credentials, as JSON
    #: {"<slug>": {"client_id": "...", "client_secret": "..."}}; the environment's
    #: LISTBACKUP_PLATFORM_* values win over it.
    platform_secrets: str | None = None
    #: This server's public address: OAuth redirects come back to {public_url}/oauth/callback.
    public_url: str = Field(default="http://127.0.0.1:8000", pattern=r"^https?://[^\s]+$")
    #: The web app's address, for links in emails and redirects after OAuth.
    app_url: str = Field(default="http://localhost:3000", pattern=r"^https?://[^\s]+$")
    #: Proxies whose X-Forwarded-For is believed (IPs or CIDRs, comma-separated).
    trusted_proxies: Annotated[tuple[str, ...], NoDecode] = ()
    #: Origins allowed by CORS and for WebSocket handshakes, comma-separated.
    cors_origins: Annotated[tuple[str, ...], NoDecode] = ()
    #: GraphiQL at /graphql; it also turns on introspection and "Did you mean" hints.
    graphiql: bool = False
    #: Introspection without GraphiQL (for codegen); off by default.
    introspection: bool = False
    log_level: LogLevel = "INFO"
    #: Largest request body, and largest WebSocket message, accepted, in bytes.
    max_body_bytes: int = Field(default=DEFAULT_MAX_BODY_BYTES, gt=0, le=64 * 1_048_576)
    #: Most objects a query's answer may hold by static analysis; more is refused.
    max_query_cost: int = Field(default=DEFAULT_MAX_QUERY_COST, ge=1_000, le=5_000_000)
    #: How long /readyz waits for DynamoDB before answering 503.
    readiness_timeout_seconds: float = Field(default=2.0, gt=0, le=30)
    #: Open WebSocket connections per client address that have not (yet) presented a
    #: valid token; more are refused at the handshake.
    max_anonymous_websockets: int = Field(default=20, gt=0, le=10_000)
    #: The worker: how long a job's lease (and its message's visibility) lasts between
    #: heartbeats, how often it beats, how long an idle poll waits, how long a stopping
    #: worker lets jobs finish their data type, and how often the scheduler ticks.
    worker_lease_seconds: int = Field(default=60, ge=2, le=3600)
    worker_heartbeat_seconds: float = Field(default=1.0, gt=0, le=60)
    worker_poll_seconds: int = Field(default=20, ge=0, le=20)
    worker_grace_seconds: float = Field(default=30.0, ge=0, le=3600)
    scheduler_interval_seconds: float = Field(default=10.0, gt=0, le=3600)
    worker_retry_base_seconds: int = Field(default=30, ge=0, le=900)
    #: Live subscriptions one API process holds at most (each connection: 100).
    max_subscriptions: int = Field(default=20_000, ge=1, le=1_000_000)
    #: How often a live subscription checks again that its viewer may still see it.
    subscription_recheck_seconds: float = Field(default=5.0, gt=0, le=300)
    #: The live queue's long-poll wait (seconds; 0 polls without waiting), how often a
    #: process tags its queue as alive, and after how long without that a janitor
    #: deletes a (dead) process's queue and rule.
    live_poll_seconds: int = Field(default=20, ge=0, le=20)
    live_heartbeat_seconds: float = Field(default=SPEC.live.heartbeat_seconds, gt=0, le=3600)
    live_ttl_seconds: int = Field(default=SPEC.live.ttl_seconds, ge=1, le=86_400)
    #: Seconds between the server's keep-alives on a WebSocket (pings, or legacy "ka"s).
    websocket_keep_alive_seconds: float = Field(default=15.0, gt=0, le=300)
    #: A WebSocket must send connection_init this soon after opening, or it is closed (4408).
    websocket_init_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    #: A WebSocket whose client has read nothing of what is waiting for it (its socket's
    #: buffer full) for this long is dropped (listbackup/wsprotocol.py).
    websocket_slow_client_seconds: float = Field(default=30.0, gt=0, le=3600)

    @field_validator("cors_origins", "trusted_proxies", mode="before")
    @classmethod
    def _split_list(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip().rstrip("/") for part in value.split(",") if part.strip())
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _check_proxies(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for proxy in value:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise ValueError(f"{proxy!r} is not an IP address or network") from None
        return value

    @model_validator(mode="after")
    def _jwks_override_only_locally(self) -> Settings:
        url = self.cognito_jwks_url
        if url is None:
            return self
        host = urlsplit(url).hostname or ""
        if self.stage not in LOCAL_STAGES or host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError(
                "LISTBACKUP_COGNITO_JWKS_URL is only for the local stack: it needs a local "
                f"stage ({', '.join(sorted(LOCAL_STAGES))}) and a loopback URL"
            )
        return self

    @field_validator("cors_origins")
    @classmethod
    def _check_origins(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for origin in value:
            if origin != "*" and not origin.startswith(("http://", "https://")):
                raise ValueError(f"{origin!r} is not an http(s) origin")
        return value

    @property
    def prefix(self) -> str:
        return self.resource_prefix or f"listbackup-{self.stage}"

    @property
    def bucket(self) -> str:
        return self.data_bucket or f"{self.prefix}-data"

    @property
    def platforms(self) -> dict[str, PlatformSettings]:
        return platform_settings(os.environ)

    @property
    def names(self) -> Names:
        return Names(prefix=self.prefix, bucket_name=self.bucket)

    def require_identity(self) -> tuple[str, str]:
        """The Cognito pool and client ids the API cannot serve without."""
        missing = [
            f"missing setting {ENV_PREFIX}{name.upper()}"
            for name in ("cognito_user_pool_id", "cognito_client_id")
            if not getattr(self, name)
        ]
        if missing or not self.cognito_user_pool_id or not self.cognito_client_id:
            raise SettingsError("; ".join(missing))
        return self.cognito_user_pool_id, self.cognito_client_id


def load_settings(**overrides: object) -> Settings:
    """Read the environment (plus explicit overrides); raise SettingsError naming the culprit."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise SettingsError(_describe(exc)) from None


def _describe(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors():
        if not error["loc"]:  # a model-level check: its message names the setting
            problems.append(f"invalid settings: {error['msg'].removeprefix('Value error, ')}")
            continue
        name = "_".join(str(part) for part in error["loc"]).upper()
        if not name.startswith(ENV_PREFIX):
            name = ENV_PREFIX + name
        if error["type"] == "missing":
            problems.append(f"missing setting {name}")
        else:
            problems.append(f"invalid setting {name}: {error['msg']}")
    return "; ".join(problems)
