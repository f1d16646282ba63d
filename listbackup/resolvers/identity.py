from __future__ import annotations

from listbackup.context import Context
from listbackup.models.users import Principal, Session, SignUpData
from listbackup.services import identity
from listbackup.services.identity import SignedUp


async def sign_up(ctx: Context, *, data: SignUpData) -> SignedUp:
    deps = ctx.deps
    return await identity.sign_up(
        store=deps.store,
        idp=deps.idp,
        events=deps.events,
        data=data,
        client_ip=ctx.client_ip,
        now=ctx.now(),
        auto_confirm=deps.settings.auto_confirm,
    )


async def confirm_sign_up(ctx: Context, *, email: str, code: str) -> None:
    deps = ctx.deps
    await identity.confirm_sign_up(
        store=deps.store, idp=deps.idp, email=email, code=code, now=ctx.now()
    )


async def sign_in(ctx: Context, *, email: str, password: str) -> Session:
    deps = ctx.deps
    session = await identity.sign_in(
        store=deps.store,
        idp=deps.idp,
        events=deps.events,
        email=email,
        password=password,
        client_ip=ctx.client_ip,
        now=ctx.now(),
    )
    ctx.act_as(Principal(user=session.user, access_token=session.tokens.access_token))
    return session


async def refresh_session(ctx: Context, *, refresh_token: str) -> Session:
    session = await identity.refresh_session(
        loaders=ctx.loaders, idp=ctx.deps.idp, refresh_token=refresh_token
    )
    ctx.act_as(Principal(user=session.user, access_token=session.tokens.access_token))
    return session


async def sign_out(ctx: Context) -> None:
    await identity.sign_out(
        store=ctx.deps.store,
        idp=ctx.deps.idp,
        events=ctx.deps.events,
        principal=await ctx.principal(),
        now=ctx.now(),
    )


async def forgot_password(ctx: Context, *, email: str) -> None:
    deps = ctx.deps
    await identity.forgot_password(store=deps.store, idp=deps.idp, email=email, now=ctx.now())


async def confirm_forgot_password(
    ctx: Context, *, email: str, code: str, new_password: str
) -> None:
    deps = ctx.deps
    await identity.confirm_forgot_password(
        store=deps.store,
        idp=deps.idp,
        events=deps.events,
        email=email,
        code=code,
        new_password=new_password,
        now=ctx.now(),
    )


async def change_password(ctx: Context, *, current: str, new: str) -> None:
    await identity.change_password(
        store=ctx.deps.store,
        idp=ctx.deps.idp,
        principal=await ctx.principal(),
        current=current,
        new=new,
        now=ctx.now(),
    )
