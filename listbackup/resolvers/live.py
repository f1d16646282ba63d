from __future__ import annotations

from collections.abc import AsyncIterator

from listbackup.broker import Direct
from listbackup.context import Context
from listbackup.services import live
from listbackup.services.live import Update


def job_updates(
    ctx: Context, *, job_id: str, send_now: Direct | None = None
) -> AsyncIterator[Update]:
    return live.job_updates(
        ctx.app,
        authenticate=ctx.authenticate,
        viewer=ctx.authorization,
        job_id=job_id,
        recheck_seconds=ctx.app.settings.subscription_recheck_seconds,
        send_now=send_now,
    )


def account_job_updates(
    ctx: Context, *, account_id: str, send_now: Direct | None = None
) -> AsyncIterator[Update]:
    return live.account_job_updates(
        ctx.app,
        authenticate=ctx.authenticate,
        viewer=ctx.authorization,
        account_id=account_id,
        recheck_seconds=ctx.app.settings.subscription_recheck_seconds,
        send_now=send_now,
    )
