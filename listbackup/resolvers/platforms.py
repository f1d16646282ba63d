from __future__ import annotations

from listbackup.context import Context
from listbackup.models.platforms import Platform
from listbackup.services import platforms


async def platform(ctx: Context, *, slug: str) -> Platform:
    return await platforms.get(ctx.deps, slug=slug)


async def platform_list(ctx: Context, *, category: str | None) -> list[Platform]:
    return await platforms.get_all(ctx.deps, category=category)
