"""What every resolver gets: process-wide dependencies plus per-request state."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from listbackup.aws import AwsClients
from listbackup.config import Settings
from listbackup.loaders import Loaders
from listbackup.store import Store


@dataclass(frozen=True, slots=True)
class AppDeps:
    """Built once per process in the server's lifespan."""

    settings: Settings
    clients: AwsClients
    store: Store


class Context:
    """Built for every HTTP request and every WebSocket connection; never shared."""

    def __init__(
        self,
        deps: AppDeps,
        request: Request | WebSocket,
        response: Response | WebSocket | None = None,
    ) -> None:
        self.deps = deps
        self.request = request
        self.response = response

    @cached_property
    def loaders(self) -> Loaders:
        # Lazy, so requests that read nothing (introspection, health) build nothing.
        return Loaders(self.deps.store)
