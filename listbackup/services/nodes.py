"""``node(id:)``: decode a global ID and hand it to the service that owns the kind."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from listbackup import ids
from listbackup.deps import Deps
from listbackup.errors import NotFoundError
from listbackup.models.accounts import Account
from listbackup.models.connections import Connection
from listbackup.models.invitations import Invitation
from listbackup.models.jobs import Job
from listbackup.models.platforms import Platform
from listbackup.models.sources import Source
from listbackup.models.users import Principal, User
from listbackup.services import access, connections, invitations, jobs, platforms, sources, users

Node = Platform | User | Account | Invitation | Connection | Source | Job
NO_NODE = "No node with that id."


async def _account(deps: Deps, principal: Principal, key: str) -> Node:
    account, _ = await access.visible_account(deps, principal=principal, account_id=key)
    return account


#: Kinds only a signed-in caller can see, each read as its own service reads it.
_SIGNED_IN: dict[str, Callable[[Deps, Principal, str], Awaitable[Node]]] = {
    ids.USER: lambda d, p, k: users.get(d, principal=p, user_id=k),
    ids.ACCOUNT: _account,
    ids.INVITATION: lambda d, p, k: invitations.get(d, principal=p, invitation_id=k),
    ids.CONNECTION: lambda d, p, k: connections.get(d, principal=p, connection_id=k),
    ids.SOURCE: lambda d, p, k: sources.get(d, principal=p, source_id=k),
    ids.JOB: lambda d, p, k: jobs.get(d, principal=p, job_id=k),
}


async def get(deps: Deps, *, principal: Principal | None, node_id: str) -> Node:
    """The object behind ``node_id``; NOT_FOUND for malformed, unknown or invisible IDs."""
    decoded = ids.decode(node_id)
    if decoded is None:
        raise NotFoundError(NO_NODE)
    kind, key = decoded
    try:
        if kind == ids.PLATFORM:  # the catalogue is public
            return await platforms.get(deps, slug=key)
        getter = _SIGNED_IN.get(kind)
        if getter is None or principal is None:
            raise NotFoundError(NO_NODE)
        return await getter(deps, principal, key)
    except NotFoundError:
        raise NotFoundError(NO_NODE) from None
