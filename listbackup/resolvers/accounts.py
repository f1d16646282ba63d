from __future__ import annotations

from listbackup.context import Context
from listbackup.models.accounts import Access, Account
from listbackup.models.invitations import Invitation
from listbackup.models.users import User
from listbackup.services import access, invitations


async def account(ctx: Context, *, account_id: str) -> Account:
    found, _ = await access.visible_account(
        loaders=ctx.loaders, principal=await ctx.principal(), account_id=account_id
    )
    return found


async def viewer_access(ctx: Context, *, account: Account) -> Access:
    principal = await ctx.principal()
    return await access.access(loaders=ctx.loaders, user_id=principal.user_id, account=account)


async def invitation_account(ctx: Context, *, invitation: Invitation) -> Account:
    return await invitations.account(
        loaders=ctx.loaders, principal=await ctx.principal(), invitation=invitation
    )


async def invitation_inviter(ctx: Context, *, invitation: Invitation) -> User | None:
    return await invitations.inviter(
        loaders=ctx.loaders, principal=await ctx.principal(), invitation=invitation
    )
