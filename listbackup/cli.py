"""``listbackup``: dev (everything locally), serve (production), bootstrap, schema.

Each command imports the application's modules itself (about 1.5 s of imports: aioboto3,
strawberry, pydantic...), so that ``dev`` can start the local AWS first and moto's own
start runs alongside ours.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from listbackup.localaws import process as localaws_process

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from listbackup.bootstrap import BootstrapReport
    from listbackup.config import Settings


def _process_started() -> float:
    """When this process started, on the ``time.monotonic()`` clock.

    From the kernel's record (Linux, to 10 ms), so that the interpreter's own start counts
    too; elsewhere, now, which misses only that start and the imports above."""
    now = time.monotonic()
    try:
        fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        started_after_boot = int(fields[19]) / os.sysconf("SC_CLK_TCK")
        age = time.clock_gettime(time.CLOCK_BOOTTIME) - started_after_boot
    except (OSError, ValueError, IndexError, AttributeError):
        return now
    return now - max(age, 0.0)


#: What `dev`'s ready line counts from.
_STARTED = _process_started()

log = logging.getLogger("listbackup")


class _CommandError(Exception):
    """Stops a command with one line on stderr and an exit status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        result: int = args.run(args)
    except _CommandError as exc:
        print(f"listbackup: {exc}", file=sys.stderr)
        return exc.status
    except localaws_process.LocalAwsError as exc:
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

    worker = commands.add_parser(
        "worker", help="run backup jobs, the scheduler and the retention sweep against AWS"
    )
    worker.add_argument("--concurrency", type=int, default=4, help="jobs run at once")
    worker.set_defaults(run=_worker)

    boot = commands.add_parser("bootstrap", help="create missing AWS resources, seed the catalogue")
    boot.set_defaults(run=_bootstrap)

    schema = commands.add_parser("schema", help="print the GraphQL schema (SDL)")
    schema.set_defaults(run=_schema)
    return parser


def _schema(args: argparse.Namespace) -> int:
    from listbackup.schema import sdl  # noqa: PLC0415 - see the module docstring

    sys.stdout.write(sdl())
    return 0


def _load_settings(*, identity: bool = False) -> Settings:
    """The settings from the environment; a missing or invalid one stops the command with
    one line naming it."""
    from listbackup.config import SettingsError, load_settings  # noqa: PLC0415

    try:
        settings = load_settings()
        if identity:
            settings.require_identity()
    except SettingsError as exc:
        raise _CommandError(str(exc), status=2) from exc
    return settings


def _exit_on_sigterm(signum: int, frame: object) -> None:
    # Uvicorn re-raises SIGTERM after its graceful shutdown; exiting through SystemExit
    # (not the default handler) lets the moto child be stopped on the way out.
    raise SystemExit(128 + signum)


def _dev(args: argparse.Namespace) -> int:
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    with localaws_process.started() as local_aws:
        # Imported while the local AWS starts.
        import asyncio  # noqa: PLC0415

        import uvicorn  # noqa: PLC0415

        from listbackup import devstack, logs, wsprotocol  # noqa: PLC0415
        from listbackup.server import create_app  # noqa: PLC0415

        endpoint = local_aws.endpoint()
        devstack.apply_dev_environment(endpoint)
        settings = _load_settings()
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
        server = devstack.ReadyServer(
            uvicorn.Config(
                # A worker (with the scheduler) beside the API: a backup runs end to end.
                create_app(settings, worker_concurrency=2),
                host=args.host,
                port=args.port,
                log_config=None,
                proxy_headers=False,
                ws=wsprotocol.PROTOCOL,
                ws_max_size=settings.max_body_bytes,
            ),
            url=f"http://{args.host}:{args.port}/graphql",
            since=_STARTED,
        )
        server.run()
    return 0


def _worker(args: argparse.Namespace) -> int:
    """Until SIGTERM or SIGINT, which drain: running jobs finish their current data type
    (within LISTBACKUP_WORKER_GRACE_SECONDS), the rest are given back; then exit 0."""
    import asyncio  # noqa: PLC0415

    from listbackup import logs  # noqa: PLC0415

    if args.concurrency < 1:
        raise _CommandError("--concurrency must be at least 1", status=2)
    settings = _load_settings(identity=True)
    logs.configure(settings.log_level)
    asyncio.run(_run_worker(settings, args.concurrency))
    return 0


async def _run_worker(settings: Settings, concurrency: int) -> None:
    import asyncio  # noqa: PLC0415

    from listbackup.deps import open_deps  # noqa: PLC0415
    from listbackup.worker import Timing, Worker  # noqa: PLC0415

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with open_deps(settings) as app:
        worker = Worker(app, concurrency=concurrency, timing=Timing.from_settings(settings))
        print(
            f"ListBackup worker {worker.name} is running ({concurrency} jobs at once).", flush=True
        )
        await worker.run(stop)


def _serve(args: argparse.Namespace) -> int:
    import uvicorn  # noqa: PLC0415

    from listbackup import logs, wsprotocol  # noqa: PLC0415

    settings = _load_settings(identity=True)  # fail fast, before uvicorn forks workers
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
        # One write per turn of the loop (listbackup/wsprotocol.py).
        ws=wsprotocol.PROTOCOL,
        # A WebSocket message is held by the body limit too (uvicorn's default: 16 MiB).
        ws_max_size=settings.max_body_bytes,
    )
    return 0


def app_from_environment() -> Starlette:
    """The app factory each uvicorn worker calls: settings from the environment."""
    from listbackup import logs  # noqa: PLC0415
    from listbackup.config import load_settings  # noqa: PLC0415
    from listbackup.server import create_app  # noqa: PLC0415

    settings = load_settings()
    logs.configure(settings.log_level)
    return create_app(settings)


def _bootstrap(args: argparse.Namespace) -> int:
    import asyncio  # noqa: PLC0415

    from listbackup import logs  # noqa: PLC0415

    settings = _load_settings()
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
    from listbackup.aws import open_clients  # noqa: PLC0415
    from listbackup.bootstrap import bootstrap  # noqa: PLC0415

    async with open_clients(settings) as clients:
        return await bootstrap(clients, settings)
