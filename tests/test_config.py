from __future__ import annotations

import os

import pytest

from listbackup.config import ENV_PREFIX, Settings, SettingsError, load_settings

_REGION_VARIABLES = ("LISTBACKUP_REGION", "AWS_REGION", "AWS_DEFAULT_REGION")


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """An environment holding only a valid stage and region; monkeypatch restores the rest."""
    for name in list(os.environ):
        if name.upper().startswith(ENV_PREFIX) or name.upper() in _REGION_VARIABLES:
            monkeypatch.delenv(name)
    monkeypatch.setenv("LISTBACKUP_STAGE", "qa")
    monkeypatch.setenv("LISTBACKUP_REGION", "eu-west-1")
    return monkeypatch


def _error_message(monkeypatch: pytest.MonkeyPatch, **env: str) -> str:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_minimal_environment_loads_with_defaults(env: pytest.MonkeyPatch) -> None:
    settings = load_settings()

    assert settings.stage == "qa"
    assert settings.region == "eu-west-1"
    assert settings.cors_origins == ()
    assert settings.graphiql is False
    assert settings.log_level == "INFO"
    assert settings.max_body_bytes == 1_048_576
    assert settings.max_query_cost == 50_000
    assert settings.introspection is False
    assert settings.cognito_user_pool_id is None


def test_missing_stage_is_one_line_naming_the_variable(env: pytest.MonkeyPatch) -> None:
    env.delenv("LISTBACKUP_STAGE")

    with pytest.raises(SettingsError) as caught:
        load_settings()

    assert str(caught.value) == "missing setting LISTBACKUP_STAGE"


def test_missing_region_is_one_line_naming_the_variable(env: pytest.MonkeyPatch) -> None:
    env.delenv("LISTBACKUP_REGION")

    with pytest.raises(SettingsError) as caught:
        load_settings()

    assert str(caught.value) == "missing setting LISTBACKUP_REGION"


def test_every_missing_setting_is_named_on_one_line(env: pytest.MonkeyPatch) -> None:
    env.delenv("LISTBACKUP_STAGE")
    env.delenv("LISTBACKUP_REGION")

    with pytest.raises(SettingsError) as caught:
        load_settings()

    message = str(caught.value)
    assert "\n" not in message
    assert "missing setting LISTBACKUP_STAGE" in message
    assert "missing setting LISTBACKUP_REGION" in message


def test_settings_error_hides_the_pydantic_traceback(env: pytest.MonkeyPatch) -> None:
    env.delenv("LISTBACKUP_STAGE")

    with pytest.raises(SettingsError) as caught:
        load_settings()

    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("LISTBACKUP_STAGE", "Production"),
        ("LISTBACKUP_STAGE", "9lives"),
        ("LISTBACKUP_STAGE", "a" * 25),
        ("LISTBACKUP_STAGE", "dev_1"),
        ("LISTBACKUP_REGION", "US-EAST-1"),
        ("LISTBACKUP_REGION", "useast1"),
        ("LISTBACKUP_REGION", "us-east"),
        ("LISTBACKUP_MAX_BODY_BYTES", "0"),
        ("LISTBACKUP_MAX_BODY_BYTES", "-5"),
        ("LISTBACKUP_MAX_BODY_BYTES", "lots"),
        ("LISTBACKUP_MAX_BODY_BYTES", str(64 * 1_048_576 + 1)),
        ("LISTBACKUP_MAX_QUERY_COST", "999"),
        ("LISTBACKUP_MAX_QUERY_COST", "5000001"),
        ("LISTBACKUP_MAX_QUERY_COST", "unlimited"),
        ("LISTBACKUP_INTROSPECTION", "maybe"),
        ("LISTBACKUP_CORS_ORIGINS", "app.example.com"),
        ("LISTBACKUP_CORS_ORIGINS", "https://ok.example.com,ftp://files.example.com"),
        ("LISTBACKUP_RESOURCE_PREFIX", "Bad_Prefix"),
        ("LISTBACKUP_DATA_BUCKET", "Not_A_Bucket"),
        ("LISTBACKUP_LOG_LEVEL", "CHATTY"),
    ],
)
def test_invalid_setting_is_one_line_naming_the_variable(
    env: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    message = _error_message(env, **{variable: value})

    assert message.startswith(f"invalid setting {variable}: ")
    assert ";" not in message  # only the one culprit is named


def test_invalid_cors_origin_is_quoted_in_the_message(env: pytest.MonkeyPatch) -> None:
    message = _error_message(env, LISTBACKUP_CORS_ORIGINS="https://ok.example.com, ws://x.test")

    assert "LISTBACKUP_CORS_ORIGINS" in message
    assert "'ws://x.test'" in message


def test_largest_allowed_body_size_is_accepted(env: pytest.MonkeyPatch) -> None:
    env.setenv("LISTBACKUP_MAX_BODY_BYTES", str(64 * 1_048_576))

    assert load_settings().max_body_bytes == 64 * 1_048_576


def test_query_cost_limit_and_introspection_are_read(env: pytest.MonkeyPatch) -> None:
    env.setenv("LISTBACKUP_MAX_QUERY_COST", "20000")
    env.setenv("LISTBACKUP_INTROSPECTION", "true")

    settings = load_settings()

    assert settings.max_query_cost == 20_000
    assert settings.introspection is True


def test_aws_region_is_the_fallback_region(env: pytest.MonkeyPatch) -> None:
    env.delenv("LISTBACKUP_REGION")
    env.setenv("AWS_REGION", "ap-southeast-2")

    assert load_settings().region == "ap-southeast-2"


def test_aws_default_region_is_the_last_fallback(env: pytest.MonkeyPatch) -> None:
    env.delenv("LISTBACKUP_REGION")
    env.setenv("AWS_DEFAULT_REGION", "ca-central-1")

    assert load_settings().region == "ca-central-1"


def test_listbackup_region_wins_over_aws_region(env: pytest.MonkeyPatch) -> None:
    env.setenv("AWS_REGION", "us-west-2")
    env.setenv("AWS_DEFAULT_REGION", "sa-east-1")

    assert load_settings().region == "eu-west-1"


def test_invalid_fallback_region_is_reported(env: pytest.MonkeyPatch) -> None:
    env.delenv("LISTBACKUP_REGION")
    env.setenv("AWS_REGION", "moon-base")

    message = _error_message(env)

    assert message.startswith("invalid setting LISTBACKUP_REGION: ")


def test_names_derive_from_the_stage(env: pytest.MonkeyPatch) -> None:
    settings = load_settings()

    assert settings.prefix == "listbackup-qa"
    assert settings.bucket == "listbackup-qa-data"
    assert settings.names.prefix == "listbackup-qa"
    assert settings.names.bucket_name == "listbackup-qa-data"
    assert settings.names.table("jobs") == "listbackup-qa-jobs"


def test_resource_prefix_override_also_moves_the_bucket(env: pytest.MonkeyPatch) -> None:
    env.setenv("LISTBACKUP_RESOURCE_PREFIX", "acme-lb")

    settings = load_settings()

    assert settings.prefix == "acme-lb"
    assert settings.bucket == "acme-lb-data"
    assert settings.names.table("users") == "acme-lb-users"


def test_data_bucket_override_keeps_the_derived_prefix(env: pytest.MonkeyPatch) -> None:
    env.setenv("LISTBACKUP_DATA_BUCKET", "acme.backups-eu")

    settings = load_settings()

    assert settings.bucket == "acme.backups-eu"
    assert settings.names.bucket_name == "acme.backups-eu"
    assert settings.prefix == "listbackup-qa"


def test_both_overrides_are_independent(env: pytest.MonkeyPatch) -> None:
    env.setenv("LISTBACKUP_RESOURCE_PREFIX", "acme-lb")
    env.setenv("LISTBACKUP_DATA_BUCKET", "acme-archive")

    settings = load_settings()

    assert (settings.prefix, settings.bucket) == ("acme-lb", "acme-archive")


def test_cors_origins_split_on_commas_and_lose_trailing_slashes(env: pytest.MonkeyPatch) -> None:
    env.setenv(
        "LISTBACKUP_CORS_ORIGINS",
        " https://app.example.com/ ,http://localhost:5173,, https://admin.example.com//,*",
    )

    settings = load_settings()

    assert settings.cors_origins == (
        "https://app.example.com",
        "http://localhost:5173",
        "https://admin.example.com",
        "*",
    )


def test_blank_cors_origins_mean_none(env: pytest.MonkeyPatch) -> None:
    env.setenv("LISTBACKUP_CORS_ORIGINS", " , ")

    assert load_settings().cors_origins == ()


def test_environment_names_are_case_insensitive(env: pytest.MonkeyPatch) -> None:
    env.setenv("listbackup_graphiql", "true")

    assert load_settings().graphiql is True


def test_settings_are_frozen(env: pytest.MonkeyPatch) -> None:
    settings = load_settings()

    with pytest.raises(ValueError, match="frozen"):
        settings.stage = "other"  # type: ignore[misc]


def test_overrides_take_precedence_over_the_environment(env: pytest.MonkeyPatch) -> None:
    settings = load_settings(stage="staging", max_body_bytes=2048)

    assert isinstance(settings, Settings)
    assert settings.stage == "staging"
    assert settings.prefix == "listbackup-staging"
    assert settings.max_body_bytes == 2048


def test_invalid_override_is_named_like_its_variable(env: pytest.MonkeyPatch) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(max_body_bytes=0)

    assert str(caught.value).startswith("invalid setting LISTBACKUP_MAX_BODY_BYTES: ")


def test_region_override_takes_precedence_over_the_environment(
    env: pytest.MonkeyPatch,
) -> None:
    assert load_settings(region="us-west-2").region == "us-west-2"
