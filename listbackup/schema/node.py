"""The ``Node`` interface and ``node(id:)``: any object the viewer may see, by global ID."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry
from strawberry.types import Info

from listbackup import ids
from listbackup.context import Context
from listbackup.resolvers import nodes


@strawberry.interface
class Node:
    id: strawberry.ID


#: Model class -> the schema type's ``from_model``; each domain registers its types.
_WRAPPERS: dict[type, Callable[[Any], Node]] = {}


def register(model: type, wrap: Callable[[Any], Node]) -> None:
    _WRAPPERS[model] = wrap


def key(kind: str, global_id: str) -> str:
    """The key inside an opaque ID; "" (found nowhere) when it is not one of ``kind``."""
    return ids.decode_as(kind, global_id) or ""


def wrap(model: object) -> Any:
    """The schema type for a model, through its registered ``from_model``."""
    return _WRAPPERS[type(model)](model)


@strawberry.type
class NodeQuery:
    @strawberry.field(description="Any object the viewer may see, by its ID.")
    async def node(self, info: Info[Context, None], id: strawberry.ID) -> Node | None:
        found: Node = wrap(await nodes.node(info.context, node_id=id))
        return found
