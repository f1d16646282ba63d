"""Deployment settings: CDK context first, then LISTBACKUP_DEPLOY_* variables."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from deploy import app
from deploy.config import DeployConfig, DeployConfigError, load
from tests.deploy.conftest import CONFIG

REQUIRED: dict[str, Any] = {
    "stage": "staging",
    "domain_name": "api.staging.example.com",
    "hosted_zone_id": "Z0EXAMPLE",
    "hosted_zone_name": "example.com",
    "app_url": "https://app.staging.example.com",
    "email_from": "no-reply@example.com",
}


def test_context_wins_over_the_environment_and_strings_are_parsed() -> None:
    context = {"stage": "staging", "api_max_tasks": "7", "cognito_email_via_ses": "true"}
    environ = {f"LISTBACKUP_DEPLOY_{k.upper()}": v for k, v in REQUIRED.items()}
    environ["LISTBACKUP_DEPLOY_STAGE"] = "ignored"
    environ["LISTBACKUP_DEPLOY_API_P99_SECONDS"] = "1.5"

    config = load(context.get, environ)

    assert config.stage == "staging"
    assert config.api_max_tasks == 7
    assert config.cognito_email_via_ses is True
    assert config.api_p99_seconds == 1.5
    assert config.production is False
    assert config.names.table("jobs") == "listbackup-staging-jobs"
    assert config.names.bucket_name == "listbackup-staging-data"


def test_missing_settings_are_named_with_where_to_set_them() -> None:
    with pytest.raises(DeployConfigError) as caught:
        load({"stage": "dev"}.get, {})

    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("missing deploy setting domain_name (-c domain_name=... or ")
    assert "LISTBACKUP_DEPLOY_HOSTED_ZONE_ID" in message
    assert "stage (" not in message


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"domain_name": "api.elsewhere.org"}, "domain_name"),
        ({"app_url": "http://app.example.com"}, "app_url"),
        ({"vpc_cidr": "8.8.0.0/16"}, "vpc_cidr"),
        ({"log_retention_days": 31}, "log_retention_days"),
        ({"worker_min_tasks": 0}, "worker_min_tasks"),
    ],
)
def test_invalid_settings_are_refused(changes: dict[str, object], named: str) -> None:
    with pytest.raises(DeployConfigError, match=named):
        dataclasses.replace(CONFIG, **changes)  # type: ignore[arg-type]


def test_main_stops_with_one_line_when_settings_are_missing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert app.main({}) == 2
    err = capsys.readouterr().err
    assert err.startswith("deploy: missing deploy setting stage")
    assert err.count("\n") == 1


def test_production_is_only_the_production_stage() -> None:
    assert CONFIG.production
    assert not DeployConfig(**REQUIRED).production
