from __future__ import annotations

from listbackup.context import Context
from listbackup.models.users import Principal, Session, SignUpData
from listbackup.services import identity
from listbackup.services.identity import SignedUp


async def sign_up(ctx: Context, *, data: SignUpData) -> SignedUp:
    return await identity.sign_up(ctx.deps, data=data, client_ip=ctx.client_ip)


async def confirm_sign_up(ctx: Context, *, email: str, code: str) -> None:
    await identity.confirm_sign_up(ctx.deps, email=email, code=code)


async def sign_in(ctx: Context, *, email: str, password: str) -> Session:
    session = await identity.sign_in(
        ctx.deps, email=email, password=password, client_ip=ctx.client_ip
    )
    ctx.act_as(Principal(user=session.user, access_token=session.tokens.access_token))
    return session


async def refresh_session(ctx: Context, *, refresh_token: str) -> Session:
    session = await identity.refresh_session(ctx.deps, refresh_token=refresh_token)
    ctx.act_as(Principal(user=session.user, access_token=session.tokens.access_token))
    return session


async def sign_out(ctx: Context) -> None:
    await identity.sign_out(ctx.deps, principal=await ctx.principal())


async def forgot_password(ctx: Context, *, email: str) -> None:
    await identity.forgot_password(ctx.deps, email=email)


async def confirm_forgot_password(
    ctx: Context, *, email: str, code: str, new_password: str
) -> None:
    await identity.confirm_forgot_password(
        ctx.deps, email=email, code=code, new_password=new_password
    )


async def change_password(ctx: Context, *, current: str, new: str) -> None:
    await identity.change_password(
        ctx.deps, principal=await ctx.principal(), current=current, new=new
    )
