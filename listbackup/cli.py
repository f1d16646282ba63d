"""``listbackup``: dev (everything locally), serve (production), worker, bootstrap, schema."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import socket
import sys
from collections.abc import Sequence

import uvicorn
from starlette.applications import Starlette

from listbackup import devstack, logs
from listbackup.aws import open_clients
from listbackup.bootstrap import BootstrapReport, bootstrap
from listbackup.config import Settings, SettingsError, load_settings
from listbackup.deps import open_deps
from listbackup.schema import sdl
from listbackup.server import create_app
from listbackup.worker import Timing, Worker

log = logging.getLogger("listbackup")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        result: int = args.run(args)
    except SettingsError as exc:
        print(f"listbackup: {exc}", file=sys.stderr)
        return 2
    except devstack.DevStackError as exc:
        print(f"listbackup: local AWS failed: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="listbackup", description=__doc__)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    dev = commands.add_parser("dev", help="run everything locally against an embedded AWS")
    dev.add_argument("--host", default="127.0.0.1")
    dev.add_argument("--port", type=int, default=8000)
    dev.set_defaults(run=_dev)

    serve = commands.add_parser("serve", help="serve the API against real AWS")
    serve.add_argument("--host", default="0.0.0.0")  # noqa: S104 - a server in a container
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.set_defaults(run=_serve)

    worker = commands.add_parser("worker", help="run backup jobs from the queues until SIGTERM")
    worker.add_argument("--concurrency", type=int, default=4)
    worker.set_defaults(run=_worker)

    boot = commands.add_parser("bootstrap", help="create missing AWS resources, seed the catalogue")
    boot.set_defaults(run=_bootstrap)

    schema = commands.add_parser("schema", help="print the GraphQL schema (SDL)")
    schema.set_defaults(run=lambda _args: _print(sdl()))
    return parser


def _print(text: str) -> int:
    sys.stdout.write(text)
    return 0


def _exit_on_sigterm(signum: int, frame: object) -> None:
    # Uvicorn re-raises SIGTERM after its graceful shutdown; exiting through SystemExit
    # (not the default handler) lets the moto child be stopped on the way out.
    raise SystemExit(128 + signum)


def _dev(args: argparse.Namespace) -> int:
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    with devstack.local_aws() as endpoint:
        devstack.apply_dev_environment(endpoint)
        settings = load_settings()
        logs.configure(settings.log_level)
        log.info("local AWS (moto) on %s; bootstrapping", endpoint)
        report = asyncio.run(_run_bootstrap(settings))
        settings = settings.model_copy(
            update={
                "cognito_user_pool_id": report.user_pool_id,
                "cognito_client_id": report.user_pool_client_id,
                # moto signs tokens with its own key and serves it here, not at Cognito's URL.
                "cognito_jwks_url": devstack.jwks_url(endpoint, report.user_pool_id),
            }
        )
        url = f"http://{args.host}:{args.port}/graphql"
        server = _ReadyServer(
            uvicorn.Config(
                create_app(settings),
                host=args.host,
                port=args.port,
                log_config=None,
                proxy_headers=False,
                ws_max_size=settings.max_body_bytes,
            ),
            ready_line=f"ListBackup is ready. GraphiQL: {url}  (Ctrl-C stops everything)",
        )
        server.run()
    return 0


class _ReadyServer(uvicorn.Server):
    """Prints one ready line once the socket is listening."""

    def __init__(self, config: uvicorn.Config, ready_line: str) -> None:
        super().__init__(config)
        self.ready_line = ready_line

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            print(self.ready_line, flush=True)


def _serve(args: argparse.Namespace) -> int:
    settings = load_settings()  # fail fast, before uvicorn forks workers
    settings.require_identity()
    logs.configure(settings.log_level)
    uvicorn.run(
        "listbackup.cli:app_from_environment",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        # The app applies X-Forwarded-For from LISTBACKUP_TRUSTED_PROXIES itself.
        proxy_headers=False,
        log_config=None,
        # A WebSocket message is held by the body limit too (uvicorn's default: 16 MiB).
        ws_max_size=settings.max_body_bytes,
    )
    return 0


def app_from_environment() -> Starlette:
    """The app factory each uvicorn worker calls: settings from the environment."""
    settings = load_settings()
    logs.configure(settings.log_level)
    return create_app(settings)


def _worker(args: argparse.Namespace) -> int:
    settings = load_settings()
    settings.require_identity()
    logs.configure(settings.log_level)
    asyncio.run(_run_worker(settings, concurrency=args.concurrency))
    return 0


async def _run_worker(settings: Settings, *, concurrency: int) -> None:
    """Serve jobs until SIGTERM or SIGINT, then drain (see worker.py)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with open_deps(settings) as app:
        worker = Worker(app, concurrency=concurrency, timing=Timing.from_settings(settings))
        await worker.run(stop)


def _bootstrap(args: argparse.Namespace) -> int:
    settings = load_settings()
    logs.configure(settings.log_level)
    report = asyncio.run(_run_bootstrap(settings))
    for resource in report.created:
        print(f"created  {resource}")
    for resource in report.existing:
        print(f"exists   {resource}")
    print(f"LISTBACKUP_COGNITO_USER_POOL_ID={report.user_pool_id}")
    print(f"LISTBACKUP_COGNITO_CLIENT_ID={report.user_pool_client_id}")
    return 0


async def _run_bootstrap(settings: Settings) -> BootstrapReport:
    async with open_clients(settings) as clients:
        return await bootstrap(clients, settings)
