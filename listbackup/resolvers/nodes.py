from __future__ import annotations

from listbackup.context import Context
from listbackup.services import nodes


async def node(ctx: Context, *, node_id: str) -> nodes.Node:
    return await nodes.get(ctx.deps, principal=await ctx.optional_principal(), node_id=node_id)
