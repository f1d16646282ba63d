"""Cognito's refusals, as the identity adapter translates them (codes moto never sends)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from listbackup.adapters.cognito import IdentityProvider
from listbackup.errors import BadUserInputError


class Refusing:
    """A Cognito client that refuses every confirmation with one error code."""

    def __init__(self, code: str) -> None:
        self.code = code

    async def confirm_sign_up(self, **_: Any) -> None:
        raise ClientError({"Error": {"Code": self.code, "Message": "x"}}, "ConfirmSignUp")


@pytest.mark.parametrize(
    "code", ["CodeMismatchException", "UserNotFoundException", "NotAuthorizedException"]
)
async def test_confirming_answers_like_a_wrong_code_whatever_cognito_knows(code: str) -> None:
    idp = IdentityProvider(Refusing(code), user_pool_id="p_1", client_id="c")  # type: ignore[arg-type]

    with pytest.raises(BadUserInputError) as refused:
        await idp.confirm_sign_up(email="a@example.com", code="123456")

    assert refused.value.reason == "INVALID_CODE"
