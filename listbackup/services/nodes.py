"""``node(id:)``: decode a global ID and hand it to the service that owns the kind."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from listbackup import ids
from listbackup.errors import NotFoundError
from listbackup.loaders import Loaders
from listbackup.models.platforms import Platform
from listbackup.services import platforms

Node = Platform


async def _platform(loaders: Loaders, key: str) -> Node:
    return await platforms.get(loaders=loaders, slug=key)


_GETTERS: dict[str, Callable[[Loaders, str], Awaitable[Node]]] = {ids.PLATFORM: _platform}


async def get(*, loaders: Loaders, node_id: str) -> Node:
    """The object behind ``node_id``; NOT_FOUND for malformed, unknown or invisible IDs."""
    decoded = ids.decode(node_id)
    getter = _GETTERS.get(decoded[0]) if decoded else None
    if decoded is None or getter is None:
        raise NotFoundError("No node with that id.")
    try:
        return await getter(loaders, decoded[1])
    except NotFoundError:
        raise NotFoundError("No node with that id.") from None
