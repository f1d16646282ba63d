"""``node(id:)``: decode a global ID and hand it to the service that owns the kind."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from listbackup import ids
from listbackup.deps import Deps
from listbackup.errors import NotFoundError
from listbackup.models.accounts import Account
from listbackup.models.connections import Connection
from listbackup.models.invitations import Invitation
from listbackup.models.platforms import Platform
from listbackup.models.users import Principal, User
from listbackup.services import access, connections, invitations, platforms, users

Node = Platform | User | Account | Invitation | Connection
_Getter = Callable[[Deps, Principal | None, str], Awaitable[Node]]
NO_NODE = "No node with that id."


async def _platform(deps: Deps, principal: Principal | None, key: str) -> Node:
    return await platforms.get(deps, slug=key)


async def _user(deps: Deps, principal: Principal | None, key: str) -> Node:
    if principal is None:
        raise NotFoundError(NO_NODE)
    return await users.get(deps, principal=principal, user_id=key)


async def _account(deps: Deps, principal: Principal | None, key: str) -> Node:
    if principal is None:
        raise NotFoundError(NO_NODE)
    account, _ = await access.visible_account(deps, principal=principal, account_id=key)
    return account


async def _invitation(deps: Deps, principal: Principal | None, key: str) -> Node:
    if principal is None:
        raise NotFoundError(NO_NODE)
    return await invitations.get(deps, principal=principal, invitation_id=key)


async def _connection(deps: Deps, principal: Principal | None, key: str) -> Node:
    if principal is None:
        raise NotFoundError(NO_NODE)
    return await connections.get(deps, principal=principal, connection_id=key)


_GETTERS: dict[str, _Getter] = {
    ids.CONNECTION: _connection,
    ids.INVITATION: _invitation,
    ids.PLATFORM: _platform,
    ids.USER: _user,
    ids.ACCOUNT: _account,
}


async def get(deps: Deps, *, principal: Principal | None, node_id: str) -> Node:
    """The object behind ``node_id``; NOT_FOUND for malformed, unknown or invisible IDs."""
    decoded = ids.decode(node_id)
    getter = _GETTERS.get(decoded[0]) if decoded else None
    if decoded is None or getter is None:
        raise NotFoundError(NO_NODE)
    try:
        return await getter(deps, principal, decoded[1])
    except NotFoundError:
        raise NotFoundError(NO_NODE) from None
