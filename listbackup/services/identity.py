"""Sign-up, sign-in, sessions and passwords, with Cognito as the identity provider.

Sign-up writes the Cognito user, then the User, its root Account and an OWNER
membership in one transaction; any failure undoes what was done before it.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from listbackup.deps import Deps
from listbackup.errors import InfrastructureError, RateLimitedError, UnauthenticatedError
from listbackup.models.accounts import Account, Membership, Role
from listbackup.models.users import Principal, Session, SignUpData, Tokens, User
from listbackup.services import rate_limits, validation

log = logging.getLogger(__name__)

SOURCE = "listbackup.auth"


@dataclass(frozen=True, slots=True)
class SignedUp:
    user_id: str
    confirmed: bool


async def sign_up(deps: Deps, *, data: SignUpData, client_ip: str) -> SignedUp:
    now = deps.now()
    email = validation.email(data.email)
    password = validation.password(data.password)
    name = validation.text(data.name, "name")
    phone = validation.phone(data.phone) if data.phone else None
    company = validation.text(data.company, "company") if data.company else None
    await rate_limits.hit(deps.store.rate_limits, rate_limits.SIGN_UPS_PER_IP, client_ip, now)

    created = await deps.idp.sign_up(email=email, password=password, name=name, phone=phone)
    account_id = str(uuid.uuid4())
    account = Account(
        id=account_id,
        name=company or name,
        company=company,
        path=(account_id,),
        created_at=now,
        created_by=created.user_id,
        owner_count=1,
        member_ids=frozenset({created.user_id}),
    )
    user = User(
        id=created.user_id,
        email=email,
        name=name,
        phone=phone,
        created_at=now,
        current_account_id=account.id,
        root_account_id=account.id,
    )
    owner = Membership(account_id=account.id, user_id=user.id, role=Role.OWNER, joined_at=now)
    undo: list[Callable[[], Awaitable[None]]] = [lambda: deps.idp.delete_user(email)]
    try:
        await deps.store.transact(
            [
                deps.store.users.put_new(user),
                deps.store.accounts.put_new(account),
                deps.store.memberships.put_new(owner),
            ]
        )
        undo += [
            lambda: deps.store.users.delete(user.id),
            lambda: deps.store.accounts.delete(account.id),
            lambda: deps.store.memberships.delete(account.id, user.id),
        ]
        confirmed = created.confirmed
        if deps.settings.auto_confirm and not confirmed:
            await deps.idp.confirm_administratively(email)
            confirmed = True
    except BaseException:
        await _undo(undo)
        raise
    await deps.events.publish(
        SOURCE, "User Registered", {"userId": user.id, "accountId": account.id, "at": now}
    )
    return SignedUp(user_id=user.id, confirmed=confirmed)


async def _undo(steps: list[Callable[[], Awaitable[None]]]) -> None:
    """Undo in reverse; an undo that fails is logged and the rest still run."""
    for step in reversed(steps):
        try:
            await step()
        except Exception:
            log.exception("sign-up: could not undo a step; manual clean-up needed")


async def confirm_sign_up(deps: Deps, *, email: str, code: str) -> None:
    now = deps.now()
    email = validation.email(email)
    code = validation.code(code)
    await rate_limits.hit(deps.store.rate_limits, rate_limits.CODE_ATTEMPTS_PER_EMAIL, email, now)
    await deps.idp.confirm_sign_up(email=email, code=code)


async def sign_in(deps: Deps, *, email: str, password: str, client_ip: str) -> Session:
    """Every attempt is counted before Cognito sees it (per email and per address), and
    taken back when it was not a wrong password: concurrent guesses cannot slip past
    the limit, and a Cognito outage locks nobody out."""
    now = deps.now()
    email = validation.email(email)
    limits = deps.store.rate_limits
    per_email, per_ip = rate_limits.SIGN_IN_FAILURES_PER_EMAIL, rate_limits.SIGN_IN_FAILURES_PER_IP
    await rate_limits.hit(limits, per_email, email, now)
    try:
        await rate_limits.hit(limits, per_ip, client_ip, now)
    except RateLimitedError:
        await rate_limits.release(limits, per_email, email, now)
        raise
    try:
        user_id, tokens = await deps.idp.sign_in(email=email, password=password)
    except UnauthenticatedError:
        raise  # a wrong email or password: both counts stand
    except BaseException:
        await rate_limits.release(limits, per_email, email, now)
        await rate_limits.release(limits, per_ip, client_ip, now)
        raise
    await rate_limits.clear(limits, per_email, email, now)
    await rate_limits.release(limits, per_ip, client_ip, now)
    user = await _touch_login(deps, user_id)
    if not user.accepts_token_issued_at(tokens.issued_at):
        tokens = await _after_revocation(lambda: deps.idp.sign_in(email=email, password=password))
    await deps.events.publish(SOURCE, "User Login", {"userId": user.id, "at": now})
    return Session(tokens=tokens, user=user)


async def _after_revocation(issue: Callable[[], Awaitable[tuple[str, Tokens]]]) -> Tokens:
    """Tokens issued in the very second of a sign-out are refused with the old ones (a
    token's ``iat`` counts whole seconds): wait for the next second and ask again."""
    await asyncio.sleep(1.0 - time.time() % 1.0 + 0.01)
    _, tokens = await issue()
    return tokens


async def _touch_login(deps: Deps, user_id: str) -> User:
    now = deps.now()
    try:
        return await deps.store.users.update(user_id, changes={"lastLoginAt": now})
    except Exception as exc:
        # A Cognito user without its User row: sign-up's undo failed at some point.
        raise InfrastructureError(f"user {user_id} has no profile row") from exc


async def refresh_session(deps: Deps, *, refresh_token: str) -> Session:
    user_id, tokens = await deps.idp.refresh(refresh_token.strip())
    user = await deps.loaders.user.load(user_id)
    if user is None:
        raise InfrastructureError(f"user {user_id} has no profile row")
    if not user.accepts_token_issued_at(tokens.issued_at):
        tokens = await _after_revocation(lambda: deps.idp.refresh(refresh_token.strip()))
    return Session(tokens=tokens, user=user)


async def sign_out(deps: Deps, *, principal: Principal) -> None:
    """Everywhere: Cognito revokes the refresh tokens, and we refuse every access token
    issued so far (ours are verified locally, so Cognito's revocation alone would not)."""
    now = deps.now()
    await deps.store.users.revoke_tokens(principal.user_id, up_to=int(now.timestamp()))
    await deps.idp.sign_out_everywhere(principal.access_token)
    await deps.events.publish(SOURCE, "User Logout", {"userId": principal.user_id, "at": now})


async def forgot_password(deps: Deps, *, email: str) -> None:
    """Send a reset code if the email belongs to someone; answer the same either way."""
    now = deps.now()
    email = validation.email(email)
    await rate_limits.hit(deps.store.rate_limits, rate_limits.PASSWORD_RESETS_PER_EMAIL, email, now)
    await deps.idp.forgot_password(email)


async def confirm_forgot_password(deps: Deps, *, email: str, code: str, new_password: str) -> None:
    now = deps.now()
    email = validation.email(email)
    code = validation.code(code)
    new_password = validation.password(new_password, "newPassword")
    await rate_limits.hit(deps.store.rate_limits, rate_limits.CODE_ATTEMPTS_PER_EMAIL, email, now)
    await deps.idp.confirm_forgot_password(email=email, code=code, new_password=new_password)
    # Whoever had the old password may hold a session: end them all.
    user_id = await deps.store.users.find_by_email(email)
    if user_id is not None:
        await deps.store.users.revoke_tokens(user_id, up_to=int(now.timestamp()))
    await deps.events.publish(SOURCE, "Password Reset", {"email": email, "at": now})


async def change_password(deps: Deps, *, principal: Principal, current: str, new: str) -> None:
    """Sessions opened with the old password end, this one too: sign in again after."""
    now = deps.now()
    new = validation.password(new, "newPassword")
    await deps.idp.change_password(access_token=principal.access_token, current=current, new=new)
    await deps.store.users.revoke_tokens(principal.user_id, up_to=int(now.timestamp()))
