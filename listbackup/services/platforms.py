"""The platform catalogue: public to every caller, signed in or not."""

from __future__ import annotations

from listbackup.deps import Deps
from listbackup.errors import BadUserInputError, NotFoundError
from listbackup.loaders.platforms import ALL
from listbackup.models.platforms import Platform

_MAX_CATEGORY_LENGTH = 64


async def get(deps: Deps, *, slug: str) -> Platform:
    platform = await deps.loaders.platform_by_slug.load(slug) if _plausible(slug) else None
    if platform is None:
        raise NotFoundError(f"No platform {slug!r}.")
    return platform


async def get_all(deps: Deps, *, category: str | None = None) -> list[Platform]:
    if category is not None:
        category = category.strip().lower()
        if not category or len(category) > _MAX_CATEGORY_LENGTH:
            raise BadUserInputError("category must be a non-empty category name.", field="category")
    return await deps.loaders.platforms_by_category.load(category or ALL)


def _plausible(slug: str) -> bool:
    # Unknown-looking slugs never reach DynamoDB (a key over 2 KB would be an AWS error).
    return 0 < len(slug) <= _MAX_CATEGORY_LENGTH
