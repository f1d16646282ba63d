"""What the API's request path costs on top of the DynamoDB work it does.

    .venv/bin/python bench/api_overhead.py [--part viewer|tree|all] [--rounds 10]
        [--requests 200] [--clients 8] [--tree-runs 12] [--baseline DIR]

Starts its own moto (a child process, as `listbackup dev` does) and bootstraps it, then:

viewer  serves the API as `listbackup serve` does (a child process, JSON logs at INFO),
        signs a user up and in through it (signUp, signIn), and serves a bare Starlette
        handler in a second child (uvicorn, same loop and HTTP parser) that checks the
        same token with the project's TokenVerifier (moto's JWKS) and does a GetItem of
        the user, against the same moto. Both answer `{ viewer { id email } }` to the
        same concurrent load, in interleaved rounds (API, bare, API, bare...); it prints
        each server's CPU per request (utime + stime from /proc/<pid>/stat) and their
        ratio. moto bounds both throughputs, so CPU, not latency, is what compares.
        --baseline DIR adds the API and bare handler of another checkout (say, an older
        commit's `git archive`) to the same rounds.
tree    serves the API in this process, builds bench/nested_reads.py's tree at N = 100
        and runs its query; botocore hooks record every DynamoDB call a request makes
        (operation, parameters, start and end), which are then replayed with the same
        aioboto3 client, wave by wave as the request overlapped them. It prints the wall
        time of the request and of the replay, and their ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import aioboto3
import httpx
import uvicorn
from aiobotocore.config import AioConfig
from botocore import xform_name
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from listbackup import devstack
from listbackup.auth import TokenVerifier, issuer
from listbackup.config import Settings, load_settings
from listbackup.errors import UnauthenticatedError
from listbackup.store.dynamo import from_item, to_item

if TYPE_CHECKING:
    from types_aiobotocore_dynamodb import DynamoDBClient

    from listbackup.deps import AppDeps

VIEWER = {"query": "{ viewer { id email } }"}
PASSWORD = "Bench-Passw0rd!"  # noqa: S105 - a throwaway local user
PREFIX = "listbackup-overhead"
TREE_SIZE = 100
_READY_TIMEOUT = 60.0
_TICKS = os.sysconf("SC_CLK_TCK")
# bench/nested_reads.py's tree and query. It (like the app) is imported only where used,
# so the bare server's process holds no more than the bare handler needs.
sys.path.insert(0, str(Path(__file__).parent))


# --- the bare handler (run as `api_overhead.py bare --port P`) ---------------------------


def bare_app(settings: Settings) -> Starlette:
    """The least a server can do for the viewer query: check the token, get the item."""
    pool_id, client_id = settings.require_identity()
    table = settings.names.table("users")
    config = AioConfig(
        retries={"mode": "standard", "max_attempts": 3},
        connect_timeout=3,
        read_timeout=20,
        max_pool_connections=64,
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        session = aioboto3.Session(region_name=settings.region)
        async with (
            session.client("dynamodb", config=config) as dynamodb,
            httpx.AsyncClient() as http,
        ):
            verifier = TokenVerifier(
                http=http,
                issuer=issuer(settings.region, pool_id),
                client_id=client_id,
                jwks_url=settings.cognito_jwks_url,
            )
            yield {"dynamodb": dynamodb, "verifier": verifier}

    async def viewer(request: Request) -> Response:
        json.loads(await request.body())
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        try:
            if scheme.lower() != "bearer":
                raise UnauthenticatedError("no bearer token")
            claims = await request.state.verifier.verify(token.strip())
        except UnauthenticatedError:
            return JSONResponse({"errors": [{"message": "UNAUTHENTICATED"}]})
        dynamodb: DynamoDBClient = request.state.dynamodb
        found = await dynamodb.get_item(TableName=table, Key=to_item({"id": claims.subject}))
        user = from_item(found["Item"])
        return JSONResponse({"data": {"viewer": {"id": user["id"], "email": user["email"]}}})

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[
            Route("/graphql", viewer, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ],
        lifespan=lifespan,
    )


def serve_bare(port: int) -> None:
    settings = load_settings()
    uvicorn.run(
        bare_app(settings),
        host="127.0.0.1",
        port=port,
        log_config=None,
        access_log=False,
        proxy_headers=False,
    )


# --- child processes and their CPU --------------------------------------------------------


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    url: str

    def cpu_seconds(self) -> float:
        """utime + stime of the whole process (every thread), from /proc."""
        stat = Path(f"/proc/{self.process.pid}/stat").read_text()
        fields = stat[stat.rindex(")") + 2 :].split()
        return (int(fields[11]) + int(fields[12])) / _TICKS


def free_ports(count: int) -> list[int]:
    """Distinct free loopback ports: bound together, so none is handed out twice."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]


@contextlib.contextmanager
def child(
    name: str, argv: list[str], port: int, log: IO[bytes], code: Path | None = None
) -> Iterator[Child]:
    """A server process, ready; ``code``: a checkout whose ``listbackup`` it runs instead."""
    env = dict(os.environ)
    if code is not None:
        env["PYTHONPATH"] = str(code)
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and scripts
        [sys.executable, *argv],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=log,
        env=env,
        # `python -m` looks in its working directory first.
        cwd=code,
    )
    from children import stop, wait_healthy  # noqa: PLC0415 - see sys.path above

    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(process, url, name, within=_READY_TIMEOUT)
        yield Child(name, process, url)
    finally:
        stop(process, within=10)


async def load(url: str, token: str, *, requests: int, clients: int, email: str) -> None:
    """``requests`` viewer queries from ``clients`` concurrent clients; every answer checked."""
    headers = {"Authorization": f"Bearer {token}"}
    remaining = requests
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async def client(http: httpx.AsyncClient) -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            response = await http.post("/graphql", json=VIEWER, headers=headers)
            body = response.json()
            assert body["data"]["viewer"]["email"] == email, body

    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as http:
        await asyncio.gather(*(client(http) for _ in range(clients)))


async def sign_in(url: str, email: str) -> str:
    from nested_reads import _owner  # noqa: PLC0415 - see sys.path above

    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        token, _root = await _owner(http, email)
        return token


async def viewer_part(args: argparse.Namespace, workdir: Path) -> None:
    email = "viewer@bench.local"
    # (name, code): this checkout's servers, then a baseline checkout's if asked for.
    pairs: list[tuple[str, Path | None]] = [("", None)]
    if args.baseline is not None:
        pairs.append(("@base", args.baseline.resolve()))
    ports = iter(free_ports(2 * len(pairs)))
    with contextlib.ExitStack() as stack:
        servers: dict[str, Child] = {}
        for suffix, code in pairs:
            api_port, bare_port = next(ports), next(ports)
            api_log = stack.enter_context((workdir / f"api{suffix}.log").open("wb"))
            bare_log = stack.enter_context((workdir / f"bare{suffix}.log").open("wb"))
            serve = ["-m", "listbackup", "serve", "--host", "127.0.0.1", "--port", str(api_port)]
            bare = [__file__, "bare", "--port", str(bare_port)]
            servers[f"api{suffix}"] = stack.enter_context(
                child(f"api{suffix}", serve, api_port, api_log, code)
            )
            servers[f"bare{suffix}"] = stack.enter_context(
                child(f"bare{suffix}", bare, bare_port, bare_log, code)
            )
        token = await sign_in(servers["api"].url, email)
        # Warm-up: JWKS fetched, connections to moto opened, code paths compiled.
        for server in servers.values():
            await load(server.url, token, requests=50, clients=args.clients, email=email)
        cpu: dict[str, list[float]] = {name: [] for name in servers}
        print(
            f"viewer: {args.rounds} rounds each of {args.requests} requests from "
            f"{args.clients} concurrent clients; server CPU per request (ms), requests/s"
        )
        header = "".join(f"{name + ' ms':>12}" for name in servers)
        print(f"{'round':>5}{header}{'ratio':>7}{'api rps':>9}{'bare rps':>9}")
        for n in range(args.rounds):
            rate: dict[str, float] = {}
            for name, server in servers.items():
                before, started = server.cpu_seconds(), time.perf_counter()
                await load(
                    server.url, token, requests=args.requests, clients=args.clients, email=email
                )
                rate[name] = args.requests / (time.perf_counter() - started)
                cpu[name].append((server.cpu_seconds() - before) * 1000 / args.requests)
            row = "".join(f"{values[-1]:>12.2f}" for values in cpu.values())
            ratio = cpu["api"][-1] / cpu["bare"][-1]
            print(f"{n + 1:>5}{row}{ratio:>7.2f}{rate['api']:>9.0f}{rate['bare']:>9.0f}")
    mean = {name: sum(values) / args.rounds for name, values in cpu.items()}
    print(f"{'mean':>5}{''.join(f'{value:>12.2f}' for value in mean.values())}")
    for suffix, _ in pairs:
        api_cpu, bare_cpu = cpu[f"api{suffix}"], cpu[f"bare{suffix}"]
        ratios = [a / b for a, b in zip(api_cpu, bare_cpu, strict=True)]
        print(
            f"ratio api{suffix}/bare{suffix}: {mean[f'api{suffix}'] / mean[f'bare{suffix}']:.2f} "
            f"(median of the rounds' ratios {statistics.median(ratios):.2f})"
        )
    _check_access_log(workdir / "api.log")


def _check_access_log(path: Path) -> None:
    """Every API request logged one JSON access line at INFO carrying its request id."""
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.startswith("{")]
    access = [line for line in lines if line.get("logger") == "listbackup.access"]
    assert access, "no access log lines"
    assert all(line.get("request_id") and line["level"] == "INFO" for line in access), access[-1]
    print(f"      api access log: {len(access)} JSON lines, each with its request_id")


# --- the tree query against its own DynamoDB calls ----------------------------------------


@dataclass
class Call:
    operation: str
    params: Mapping[str, Any]
    started: float
    ended: float = 0.0


class CallRecorder:
    """Every DynamoDB call the client makes while recording: operation, parameters, times."""

    def __init__(self) -> None:
        self.calls: list[Call] | None = None

    def install(self, client: DynamoDBClient) -> None:
        client.meta.events.register("provide-client-params.dynamodb", self._start)
        client.meta.events.register("after-call.dynamodb", self._end)

    def _start(
        self, params: Mapping[str, Any], model: Any, context: dict[str, Any], **_: Any
    ) -> None:
        if self.calls is not None:
            # Our code never changes a call's parameters once made, so a reference will do.
            call = Call(model.name, params, time.perf_counter())
            context["bench_call"] = call
            self.calls.append(call)

    def _end(self, context: dict[str, Any], **_: Any) -> None:
        call: Call | None = context.get("bench_call")
        if call is not None:
            call.ended = time.perf_counter()

    @contextlib.contextmanager
    def recording(self) -> Iterator[list[Call]]:
        calls: list[Call] = []
        self.calls = calls
        try:
            yield calls
        finally:
            self.calls = None


def waves(calls: list[Call]) -> list[list[Call]]:
    """Calls that overlapped: a call started before any of its wave ended cannot have
    waited for one of them, so the replay makes each wave's calls together."""
    grouped: list[list[Call]] = []
    first_end = 0.0
    for call in sorted(calls, key=lambda c: c.started):
        if grouped and call.started < first_end:
            grouped[-1].append(call)
            first_end = min(first_end, call.ended)
        else:
            grouped.append([call])
            first_end = call.ended
    return grouped


async def replay(client: DynamoDBClient, grouped: list[list[Call]]) -> None:
    for wave in grouped:
        await asyncio.gather(
            *(getattr(client, xform_name(call.operation))(**call.params) for call in wave)
        )


class _DepsProbe:
    """Outermost ASGI layer: hands us the deps the app's lifespan built."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.deps: AppDeps | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.deps is None:
            self.deps = scope["state"]["deps"]
        await self.app(scope, receive, send)


async def tree_part(settings: Settings, runs: int) -> None:
    from nested_reads import QUERY, _owner, build_tree  # noqa: PLC0415 - see sys.path above

    from listbackup.server import create_app  # noqa: PLC0415 - not in the bare server

    probe = _DepsProbe(create_app(settings))
    async with (
        devstack.live_server(probe) as url,
        httpx.AsyncClient(base_url=url, timeout=120) as http,
    ):
        token, root = await _owner(http, "tree@bench.local")
        assert probe.deps is not None
        deps = probe.deps
        accounts = await build_tree(deps.store, root, TREE_SIZE)
        recorder = CallRecorder()
        recorder.install(deps.clients.dynamodb)
        headers = {"Authorization": f"Bearer {token}"}
        request_ms: list[float] = []
        replay_ms: list[float] = []
        cpu_ms: dict[str, list[float]] = {"request": [], "replay": []}
        grouped: list[list[Call]] = []
        for run in range(runs + 3):
            with recorder.recording() as calls:
                started, cpu = time.perf_counter(), time.process_time()
                response = await http.post("/graphql", json={"query": QUERY}, headers=headers)
                elapsed = (time.perf_counter() - started) * 1000
                request_cpu = (time.process_time() - cpu) * 1000
            assert "errors" not in response.json(), response.json()["errors"]
            grouped = waves(calls)
            started, cpu = time.perf_counter(), time.process_time()
            await replay(deps.clients.dynamodb, grouped)
            replayed = (time.perf_counter() - started) * 1000
            replay_cpu = (time.process_time() - cpu) * 1000
            if run >= 3:  # the first runs warm caches (JWKS, connections)
                request_ms.append(elapsed)
                replay_ms.append(replayed)
                cpu_ms["request"].append(request_cpu)
                cpu_ms["replay"].append(replay_cpu)
        calls = [call for wave in grouped for call in wave]
        ops = Counter(call.operation for call in calls)
        print(
            f"tree: N = {TREE_SIZE} ({accounts} accounts), {len(calls)} DynamoDB calls "
            f"({', '.join(f'{n} {op}' for op, n in sorted(ops.items()))}) in {len(grouped)} waves; "
            f"{runs} runs each"
        )
        request, direct = statistics.median(request_ms), statistics.median(replay_ms)
        median_cpu = {name: statistics.median(values) for name, values in cpu_ms.items()}
        print(
            f"{'':>8} {'median ms':>10} {'min ms':>8} {'CPU ms':>8}  (CPU: this process's, median)"
        )
        print(
            f"{'request':>8} {request:>10.1f} {min(request_ms):>8.1f} {median_cpu['request']:>8.1f}"
        )
        print(f"{'replay':>8} {direct:>10.1f} {min(replay_ms):>8.1f} {median_cpu['replay']:>8.1f}")
        print(
            f"{'ratio':>8} {request / direct:>10.2f} {min(request_ms) / min(replay_ms):>8.2f} "
            f"{median_cpu['request'] / median_cpu['replay']:>8.2f}"
        )


# --- main ---------------------------------------------------------------------------------


async def prepare(endpoint: str) -> Settings:
    devstack.apply_dev_environment(endpoint)
    os.environ["LISTBACKUP_RESOURCE_PREFIX"] = PREFIX
    # The tree query costs 223 342, over the default limit on purpose.
    os.environ["LISTBACKUP_MAX_QUERY_COST"] = "250000"
    os.environ["LISTBACKUP_GRAPHIQL"] = "false"
    return await devstack.bootstrap_environment()


def main(args: argparse.Namespace) -> None:
    with devstack.local_aws() as endpoint, tempfile.TemporaryDirectory() as workdir:
        settings = asyncio.run(prepare(endpoint))
        if args.part in ("viewer", "all"):
            asyncio.run(viewer_part(args, Path(workdir)))
        if args.part in ("tree", "all"):
            asyncio.run(tree_part(settings, args.tree_runs))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command")
    bare = sub.add_parser("bare", help="(internal) serve the bare handler")
    bare.add_argument("--port", type=int, required=True)
    parser.add_argument("--part", choices=("viewer", "tree", "all"), default="all")
    parser.add_argument("--rounds", type=int, default=10, help="rounds per server")
    parser.add_argument("--requests", type=int, default=200, help="requests per round")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients")
    parser.add_argument("--tree-runs", type=int, default=12, help="timed tree requests")
    parser.add_argument(
        "--baseline",
        type=Path,
        help="a checkout (e.g. from git archive) whose API and bare handler run in the same "
        "rounds, for before/after figures",
    )
    parsed = parser.parse_args()
    if parsed.command == "bare":
        serve_bare(parsed.port)
    else:
        main(parsed)
