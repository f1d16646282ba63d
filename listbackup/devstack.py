"""The local stack: the embedded AWS (``listbackup.localaws``) as a child process, and an
in-loop uvicorn for tests and benchmarks."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import importlib.util
import os
import selectors
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator, Sequence

import httpx
import uvicorn
from starlette.types import ASGIApp

from listbackup.config import DEFAULT_MAX_BODY_BYTES
from listbackup.localaws import RESET_PATH

_READY_TIMEOUT = 30.0
_STOP_TIMEOUT = 5.0
_PR_SET_PDEATHSIG = 1

#: What ``listbackup dev`` sets unless the environment already says otherwise.
DEV_DEFAULTS = {
    "LISTBACKUP_STAGE": "local",
    "LISTBACKUP_REGION": "us-east-1",
    "LISTBACKUP_GRAPHIQL": "true",
    # No email leaves the local stack: new users are confirmed at once.
    "LISTBACKUP_AUTO_CONFIRM": "true",
    "LISTBACKUP_CORS_ORIGINS": "http://localhost:3000,http://127.0.0.1:3000",
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


def _die_with_parent() -> None:
    """In the child: get SIGTERM if the parent dies, even by SIGKILL (Linux only)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


@contextlib.contextmanager
def local_aws(host: str = "127.0.0.1") -> Iterator[str]:
    """Run the local AWS (moto, DynamoDB serialized) until the block exits; yield its URL."""
    if importlib.util.find_spec("moto") is None:
        raise DevStackError("moto is not installed: install the local extra, listbackup[local]")
    # moto is not ours to measure: a coverage run (which passes itself on to children
    # through this variable) would trace every call the local AWS makes.
    env = {k: v for k, v in os.environ.items() if k != "COVERAGE_PROCESS_CONFIG"}
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "listbackup.localaws", "--host", host, "--port", "0"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        # Its own process group: Ctrl-C reaches us, and we stop it in order.
        start_new_session=True,
        preexec_fn=_die_with_parent,  # noqa: PLW1509 - only calls prctl
    )
    try:
        yield _wait_ready(process)
    finally:
        process.terminate()
        try:
            process.wait(_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout:
            process.stdout.close()


def _wait_ready(process: subprocess.Popen[bytes]) -> str:
    """The endpoint from the child's ready line ("listening on URL")."""
    assert process.stdout is not None  # noqa: S101 - piped above
    ready = selectors.DefaultSelector()
    ready.register(process.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + _READY_TIMEOUT
    line = b""
    while not line.endswith(b"\n"):
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not ready.select(remaining):
            raise DevStackError(f"local AWS did not start within {_READY_TIMEOUT:.0f}s")
        chunk = os.read(process.stdout.fileno(), 256)
        if not chunk:
            code = process.wait()
            raise DevStackError(f"local AWS exited with code {code} while starting")
        line += chunk
    ready.close()
    return line.decode().strip().removeprefix("listening on ")


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
