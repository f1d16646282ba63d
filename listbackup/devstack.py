"""The local stack: the embedded AWS (``listbackup.localaws``) as a child process, and an
in-loop uvicorn for tests and benchmarks."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
from collections.abc import AsyncIterator, Iterator, Sequence

import httpx
import uvicorn
from starlette.types import ASGIApp

from listbackup import wsprotocol
from listbackup.config import DEFAULT_MAX_BODY_BYTES, Settings, load_settings
from listbackup.localaws import RESET_PATH
from listbackup.localaws import process as localaws_process

#: What ``listbackup dev`` sets unless the environment already says otherwise.
DEV_DEFAULTS = {
    "LISTBACKUP_STAGE": "local",
    "LISTBACKUP_REGION": "us-east-1",
    "LISTBACKUP_GRAPHIQL": "true",
    # No email leaves the local stack: new users are confirmed at once.
    "LISTBACKUP_AUTO_CONFIRM": "true",
    "LISTBACKUP_CORS_ORIGINS": "http://localhost:3000,http://127.0.0.1:3000",
    # The worker beside the API: a due schedule is queued within seconds, a queued job
    # picked up as soon as it arrives; a retry waits seconds, not minutes.
    "LISTBACKUP_SCHEDULER_INTERVAL_SECONDS": "2",
    "LISTBACKUP_WORKER_POLL_SECONDS": "2",
    "LISTBACKUP_WORKER_GRACE_SECONDS": "3",
    "LISTBACKUP_WORKER_RETRY_BASE_SECONDS": "5",
}
#: moto accepts any credentials; fixed fake ones keep real ones out of the local stack.
DEV_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_SESSION_TOKEN": "local",
}


class DevStackError(Exception):
    pass


def free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def local_aws(host: str = "127.0.0.1") -> Iterator[str]:
    """Run the local AWS (moto, DynamoDB serialized) until the block exits; yield its URL."""
    with localaws_process.started(host) as process:
        yield process.endpoint()


async def reset_local_aws(
    endpoint: str, *, prefix: str = "", keep_tables: Sequence[str] = ()
) -> None:
    """Empty the local AWS (items of the prefix's tables, users, objects, messages),
    keeping its resources."""
    params = httpx.QueryParams({"prefix": prefix, "keep": list(keep_tables)})
    async with httpx.AsyncClient() as http:
        response = await http.post(f"{endpoint}{RESET_PATH}", params=params)
        response.raise_for_status()


def apply_dev_environment(endpoint: str) -> None:
    """Point every AWS client of this process at moto, through the standard variables."""
    for name, value in DEV_DEFAULTS.items():
        os.environ.setdefault(name, value)
    os.environ.update(DEV_CREDENTIALS)
    os.environ["AWS_ENDPOINT_URL"] = endpoint


def jwks_url(endpoint: str, user_pool_id: str) -> str:
    """Where moto serves the signing keys of a user pool."""
    return f"{endpoint}/{user_pool_id}/.well-known/jwks.json"


async def bootstrap_environment() -> Settings:
    """Bootstrap the local stack the environment names, export its user pool to the
    environment (for this process's settings and its children's), and return the settings
    that now hold: what a benchmark needs before it starts the API or a worker."""
    from listbackup.aws import open_clients  # noqa: PLC0415 - only benchmarks need these
    from listbackup.bootstrap import bootstrap  # noqa: PLC0415

    settings = load_settings()
    async with open_clients(settings) as clients:
        report = await bootstrap(clients, settings)
    os.environ["LISTBACKUP_COGNITO_USER_POOL_ID"] = report.user_pool_id
    os.environ["LISTBACKUP_COGNITO_CLIENT_ID"] = report.user_pool_client_id
    endpoint = os.environ["AWS_ENDPOINT_URL"]
    os.environ["LISTBACKUP_COGNITO_JWKS_URL"] = jwks_url(endpoint, report.user_pool_id)
    return load_settings()


class ReadyServer(uvicorn.Server):
    """``listbackup dev``'s uvicorn: prints one ready line, with the time since ``since``
    (a ``time.monotonic()`` reading), once the socket listens."""

    def __init__(self, config: uvicorn.Config, *, url: str, since: float) -> None:
        super().__init__(config)
        self.url = url
        self.since = since

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            took = time.monotonic() - self.since
            print(
                f"ListBackup is ready in {took:.1f} s. GraphiQL: {self.url}"
                "  (Ctrl-C stops everything)",
                flush=True,
            )


class _InLoopServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # Leave the host program's signal handling (pytest's, a benchmark's) alone.
        yield


@contextlib.asynccontextmanager
async def live_server(
    app: ASGIApp, *, max_message_bytes: int = DEFAULT_MAX_BODY_BYTES
) -> AsyncIterator[str]:
    """Serve ``app`` on a free loopback port in the running event loop; yield its URL.

    For tests and benchmarks: real HTTP and WebSocket, no thread, no second process.
    ``max_message_bytes`` bounds WebSocket messages, as LISTBACKUP_MAX_BODY_BYTES does.
    """
    server = _InLoopServer(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=0,
            log_config=None,
            lifespan="on",
            proxy_headers=False,
            ws=wsprotocol.PROTOCOL,
            ws_max_size=max_message_bytes,
        )
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()  # startup failed: raise its error here
            raise DevStackError("uvicorn stopped before it started")
        await asyncio.sleep(0.005)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
