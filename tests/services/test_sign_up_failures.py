"""A sign-up that fails part-way leaves nothing behind: no Cognito user without its rows."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import replace

import httpx
import pytest

from listbackup.adapters.cognito import IdentityProvider
from listbackup.aws import AwsClients
from listbackup.bootstrap import _table_definition
from listbackup.config import Settings
from listbackup.deps import Deps
from listbackup.devstack import live_server
from listbackup.errors import InfrastructureError
from listbackup.models.users import SignUpData
from listbackup.resources import SPEC
from listbackup.server import create_app
from listbackup.services import identity
from tests.helpers import PASSWORD, error_codes, gql


async def cognito_users(aws: AwsClients, settings: Settings) -> list[str]:
    users = await aws.cognito.list_users(UserPoolId=settings.cognito_user_pool_id or "")
    return [u["Username"] for u in users["Users"]]


async def items(aws: AwsClients, table: str) -> Sequence[object]:
    return (await aws.dynamodb.scan(TableName=table))["Items"]


@pytest.fixture
async def tables_missing(aws: AwsClients, settings: Settings) -> AsyncIterator[Settings]:
    """Settings whose users/accounts/memberships tables do not exist (rate limits do)."""
    broken = settings.model_copy(update={"resource_prefix": "lbtest-half-built"})
    rate_limits = broken.names.table("rate-limits")
    await aws.dynamodb.create_table(**_table_definition(SPEC.table("rate-limits"), rate_limits))
    yield broken
    await aws.dynamodb.delete_table(TableName=rate_limits)


async def test_a_failed_transaction_removes_the_cognito_user(
    aws: AwsClients, settings: Settings, tables_missing: Settings
) -> None:
    async with (
        live_server(create_app(tables_missing)) as url,
        httpx.AsyncClient(base_url=url) as http,
    ):
        body = await gql(
            http,
            "mutation($i: SignUpInput!) { signUp(input: $i) { userId } }",
            {"i": {"email": "half@example.com", "password": PASSWORD, "name": "Half"}},
        )

    assert error_codes(body) == ["INTERNAL_SERVER_ERROR"]
    assert "ResourceNotFound" not in str(body)
    assert await cognito_users(aws, settings) == []


class _ConfirmFails(IdentityProvider):
    """Cognito that accepts the sign-up, then fails to confirm it (a fault, injected)."""

    async def confirm_administratively(self, email: str) -> None:
        raise InfrastructureError("Cognito AdminConfirmSignUp failed: InternalErrorException")


async def test_a_failed_confirmation_removes_rows_and_cognito_user(
    aws: AwsClients, settings: Settings, deps: Deps
) -> None:
    idp = _ConfirmFails(
        aws.cognito,
        user_pool_id=settings.cognito_user_pool_id or "",
        client_id=settings.cognito_client_id or "",
    )

    with pytest.raises(InfrastructureError):
        await identity.sign_up(
            replace(deps, idp=idp, settings=settings.model_copy(update={"auto_confirm": True})),
            data=SignUpData(email="late@example.com", password=PASSWORD, name="Late"),
            client_ip="192.0.2.1",
        )

    assert await cognito_users(aws, settings) == []
    for table in ("users", "accounts", "memberships"):
        assert await items(aws, settings.names.table(table)) == [], table
