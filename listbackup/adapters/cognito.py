"""Cognito as our identity provider: sign-up, sign-in, sessions and passwords.

Errors are translated by code alone and never chained: Cognito's messages can quote the
token or the username they were given, and those must reach neither logs nor clients.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, NoReturn

from botocore.exceptions import BotoCoreError, ClientError
from jose import jwt
from jose.exceptions import JWTError

from listbackup.aws import error_code
from listbackup.errors import (
    BadUserInputError,
    ConflictError,
    ForbiddenError,
    InfrastructureError,
    RateLimitedError,
    UnauthenticatedError,
)
from listbackup.models.users import Tokens
from listbackup.resources import SPEC

if TYPE_CHECKING:
    from types_aiobotocore_cognito_idp import CognitoIdentityProviderClient

WRONG_CREDENTIALS = "Incorrect email or password."
_THROTTLED = {
    "TooManyRequestsException",
    "LimitExceededException",
    "TooManyFailedAttemptsException",
}
_RETRY_AFTER_SECONDS = 60


@dataclass(frozen=True, slots=True)
class SignedUp:
    user_id: str
    confirmed: bool


class IdentityProvider:
    def __init__(
        self, client: CognitoIdentityProviderClient, *, user_pool_id: str, client_id: str
    ) -> None:
        self._client = client
        self.user_pool_id = user_pool_id
        self.client_id = client_id

    async def sign_up(self, *, email: str, password: str, name: str, phone: str | None) -> SignedUp:
        attributes = [{"Name": "email", "Value": email}, {"Name": "name", "Value": name}]
        if phone:
            attributes.append({"Name": "phone_number", "Value": phone})
        try:
            response = await self._client.sign_up(
                ClientId=self.client_id,
                Username=email,
                Password=password,
                UserAttributes=attributes,  # type: ignore[arg-type]
            )
        except (ClientError, BotoCoreError) as exc:
            _raise("SignUp", exc, {"UsernameExistsException": _email_taken})
        return SignedUp(user_id=response["UserSub"], confirmed=response["UserConfirmed"])

    async def confirm_administratively(self, email: str) -> None:
        try:
            await self._client.admin_confirm_sign_up(UserPoolId=self.user_pool_id, Username=email)
        except (ClientError, BotoCoreError) as exc:
            _raise("AdminConfirmSignUp", exc)

    async def confirm_sign_up(self, *, email: str, code: str) -> None:
        try:
            await self._client.confirm_sign_up(
                ClientId=self.client_id, Username=email, ConfirmationCode=code
            )
        except (ClientError, BotoCoreError) as exc:
            # No such user answers like a wrong code: confirming tells nobody who signed up.
            _raise(
                "ConfirmSignUp",
                exc,
                # Cognito refuses to confirm a confirmed user with NotAuthorized: that too
                # answers like a wrong code, telling nothing about the address.
                {
                    **_EMAILED_CODE_ERRORS,
                    "NotAuthorizedException": _CODE_ERRORS["CodeMismatchException"],
                },
            )

    async def delete_user(self, email: str) -> None:
        try:
            await self._client.admin_delete_user(UserPoolId=self.user_pool_id, Username=email)
        except (ClientError, BotoCoreError) as exc:
            if error_code(exc) != "UserNotFoundException":
                _raise("AdminDeleteUser", exc)

    async def user_exists(self, email: str) -> bool:
        try:
            await self._client.admin_get_user(UserPoolId=self.user_pool_id, Username=email)
        except (ClientError, BotoCoreError) as exc:
            if error_code(exc) == "UserNotFoundException":
                return False
            _raise("AdminGetUser", exc)
        return True

    async def sign_in(self, *, email: str, password: str) -> tuple[str, Tokens]:
        """Return the user's id (``sub``) and fresh tokens."""
        tokens = await self._initiate(
            "USER_PASSWORD_AUTH", {"USERNAME": email, "PASSWORD": password}, email_flow=True
        )
        return _subject(tokens.access_token), tokens

    async def refresh(self, refresh_token: str) -> tuple[str, Tokens]:
        tokens = await self._initiate(
            "REFRESH_TOKEN_AUTH", {"REFRESH_TOKEN": refresh_token}, email_flow=False
        )
        return _subject(tokens.access_token), tokens

    async def _initiate(self, flow: str, parameters: dict[str, str], *, email_flow: bool) -> Tokens:
        message = WRONG_CREDENTIALS if email_flow else "The session has expired; sign in again."

        def unauthenticated() -> Exception:
            return UnauthenticatedError(message)

        try:
            response = await self._client.initiate_auth(
                ClientId=self.client_id,
                AuthFlow=flow,  # type: ignore[arg-type]
                AuthParameters=parameters,
            )
        except (ClientError, BotoCoreError) as exc:
            _raise(
                "InitiateAuth",
                exc,
                {
                    "NotAuthorizedException": unauthenticated,
                    "UserNotFoundException": unauthenticated,
                    "PasswordResetRequiredException": lambda: ForbiddenError(
                        "This account needs a new password: use forgot password.",
                        reason="PASSWORD_RESET_REQUIRED",
                    ),
                    "UserNotConfirmedException": lambda: ForbiddenError(
                        "Confirm your email address before signing in.",
                        reason="USER_NOT_CONFIRMED",
                    ),
                },
            )
        result = response.get("AuthenticationResult")
        if not result:
            # A challenge (MFA, new password) instead of tokens.
            raise ForbiddenError(
                "This sign-in needs a step the API does not support yet.",
                reason=f"CHALLENGE_{response.get('ChallengeName', 'UNKNOWN')}",
            )
        return Tokens(
            access_token=result["AccessToken"],
            id_token=result["IdToken"],
            refresh_token=result.get("RefreshToken"),
            expires_in=result["ExpiresIn"],
            issued_at=_claims(result["AccessToken"])[1],
        )

    async def sign_out_everywhere(self, access_token: str) -> None:
        try:
            await self._client.global_sign_out(AccessToken=access_token)
        except (ClientError, BotoCoreError) as exc:
            _raise(
                "GlobalSignOut",
                exc,
                {"NotAuthorizedException": lambda: UnauthenticatedError("The session has ended.")},
            )

    async def forgot_password(self, email: str) -> None:
        """Send a reset code; silent whether or not the email belongs to anyone."""
        try:
            await self._client.forgot_password(ClientId=self.client_id, Username=email)
        except (ClientError, BotoCoreError) as exc:
            if error_code(exc) in (
                "UserNotFoundException",
                "InvalidParameterException",
                "NotAuthorizedException",
            ):
                return
            _raise("ForgotPassword", exc)

    async def confirm_forgot_password(self, *, email: str, code: str, new_password: str) -> None:
        try:
            await self._client.confirm_forgot_password(
                ClientId=self.client_id,
                Username=email,
                ConfirmationCode=code,
                Password=new_password,
            )
        except (ClientError, BotoCoreError) as exc:
            _raise(
                "ConfirmForgotPassword",
                exc,
                {
                    **_EMAILED_CODE_ERRORS,
                    "InvalidPasswordException": lambda: _weak_password("newPassword"),
                },
            )

    async def change_password(self, *, access_token: str, current: str, new: str) -> None:
        try:
            await self._client.change_password(
                AccessToken=access_token, PreviousPassword=current, ProposedPassword=new
            )
        except (ClientError, BotoCoreError) as exc:
            _raise(
                "ChangePassword",
                exc,
                {
                    "NotAuthorizedException": lambda: BadUserInputError(
                        "The current password is not correct.",
                        reason="INCORRECT_PASSWORD",
                        field="currentPassword",
                    ),
                    "InvalidPasswordException": lambda: _weak_password("newPassword"),
                },
            )


def _email_taken() -> ConflictError:
    return ConflictError("An account with this email already exists.", field="email")


def _weak_password(field: str) -> BadUserInputError:
    return BadUserInputError(SPEC.user_pool.password_rule, reason="WEAK_PASSWORD", field=field)


ErrorFactory = Callable[[], Exception]

_CODE_ERRORS: dict[str, ErrorFactory] = {
    "CodeMismatchException": lambda: BadUserInputError(
        "The code is not correct.", reason="INVALID_CODE", field="code"
    ),
    "ExpiredCodeException": lambda: BadUserInputError(
        "The code has expired; ask for a new one.", reason="EXPIRED_CODE", field="code"
    ),
}
#: A code sent to an email address: an address nobody signed up with reads as a wrong code.
_EMAILED_CODE_ERRORS = {
    **_CODE_ERRORS,
    "UserNotFoundException": _CODE_ERRORS["CodeMismatchException"],
}


def _raise(
    operation: str,
    exc: ClientError | BotoCoreError,
    known: dict[str, ErrorFactory] | None = None,
) -> NoReturn:
    code = error_code(exc)
    factory = (known or {}).get(code)
    if factory is not None:
        raise factory() from None
    if code == "InvalidPasswordException":
        raise _weak_password("password") from None
    if code in _THROTTLED:
        raise RateLimitedError(
            "Too many attempts; try again later.", retry_after=_RETRY_AFTER_SECONDS
        ) from None
    raise InfrastructureError(f"Cognito {operation} failed: {code}") from None


def _subject(access_token: str) -> str:
    return _claims(access_token)[0]


def _claims(access_token: str) -> tuple[str, int]:
    """(sub, iat) of a token straight from Cognito over TLS; its signature is checked on
    every request that presents it, not here."""
    try:
        claims = jwt.get_unverified_claims(access_token)
        return str(claims["sub"]), int(claims["iat"])
    except (JWTError, KeyError, TypeError, ValueError) as exc:
        raise InfrastructureError("Cognito returned an unreadable access token") from exc
