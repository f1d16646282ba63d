"""Who is calling: an ``Authorization: Bearer`` access token, verified, and its user."""

from __future__ import annotations

from listbackup.auth import TokenVerifier
from listbackup.errors import UnauthenticatedError
from listbackup.loaders import Loaders
from listbackup.models.users import Principal

SIGN_IN_FIRST = "Sign in to do this."


async def authenticate(
    *, verifier: TokenVerifier, loaders: Loaders, authorization: str | None
) -> Principal:
    if not authorization:
        raise UnauthenticatedError(SIGN_IN_FIRST)
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise UnauthenticatedError("Send the access token as 'Authorization: Bearer <token>'.")
    claims = await verifier.verify(token)
    user = await loaders.user.load(claims.subject)
    if user is None:
        # A valid token whose user row is gone: the account was deleted.
        raise UnauthenticatedError("The access token is not valid.")
    if not user.accepts_token_issued_at(claims.issued_at):
        raise UnauthenticatedError("This session was signed out: sign in again.")
    return Principal(user=user, access_token=token, token_expires_at=claims.expires_at)
