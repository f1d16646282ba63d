"""The local AWS process: moto's WSGI app behind a DynamoDB lock, and the local APIs."""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import logging
import os
import signal
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any
from urllib.parse import parse_qs

from moto.backends import get_backend
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from moto.s3.models import FakeKey, MultipartDict
from moto.s3.utils import _VersionedKeyStore
from werkzeug.serving import make_server

from listbackup.localaws import CODE_PATH, OUTBOX_PATH, RESET_PATH, warmup

_DYNAMODB_TARGETS = ("DynamoDB_", "DynamoDBStreams_")

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class LocalAws:
    """moto's WSGI app with DynamoDB requests one at a time, and the reset endpoint."""

    def __init__(self, app: WSGIApp) -> None:
        self._app = app
        self._dynamodb = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO"), environ.get("REQUEST_METHOD")
        query = parse_qs(environ.get("QUERY_STRING", ""))
        if path == RESET_PATH and method == "POST":
            with self._dynamodb:
                reset(prefix=query.get("prefix", [""])[0], keep_tables=query.get("keep", []))
            start_response("204 No Content", [("Content-Length", "0")])
            return [b""]
        if path == OUTBOX_PATH and method == "GET":
            return _json(start_response, outbox())
        if path == CODE_PATH and method == "GET":
            pool, user = query.get("pool", [""])[0], query.get("username", [""])[0]
            return _json(start_response, {"code": confirmation_code(pool, user)})
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target.startswith(_DYNAMODB_TARGETS):
            with self._dynamodb:
                # Read the whole answer inside the lock: moto may build it lazily.
                return list(self._app(environ, start_response))
        return self._app(environ, start_response)


_transaction = threading.local()


def cheaper_transactions() -> None:
    """moto rolls a failed TransactWriteItems back by deep-copying, beforehand, every
    table it names: a cost that grows with the table, so a test suite's transactions
    slow down as its tables fill. Keep copies of the touched partitions instead, and put
    them back on failure. (Every DynamoDB request runs under one lock, so nothing else
    changes the tables meanwhile.)"""
    original = DynamoDBBackend.transact_write_items

    def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        saved: list[tuple[Any, Any, bool, Any]] = []
        for entry in transact_items:
            _, op = next(iter(entry.items()))
            table = self.tables.get(op.get("TableName"))
            attrs = op.get("Item") or op.get("Key") or {}
            if table is None or table.hash_key_attr not in attrs:
                continue
            partition = DynamoType(attrs[table.hash_key_attr])
            existed = partition in table.items
            saved.append((table, partition, existed, copy.deepcopy(table.items.get(partition))))
        _transaction.active = True
        try:
            original(self, transact_items)
        except Exception:
            for table, partition, existed, items in reversed(saved):
                if existed:
                    table.items[partition] = items
                else:
                    table.items.pop(partition, None)
            raise
        finally:
            _transaction.active = False

    def deepcopy_table(self: Table, memo: dict[int, Any]) -> Any:
        if getattr(_transaction, "active", False):
            return self  # moto's own rollback copy: see above
        clone = Table.__new__(Table)
        memo[id(self)] = clone
        for name, value in self.__dict__.items():
            setattr(clone, name, copy.deepcopy(value, memo))
        return clone

    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    Table.__deepcopy__ = deepcopy_table  # type: ignore[attr-defined]


def _backends(service: str) -> Iterator[Any]:
    for regions in get_backend(service).values():  # type: ignore[call-overload]
        yield from regions.values()


def reset(*, prefix: str = "", keep_tables: Sequence[str] = ()) -> None:
    """Delete every item (of the prefix's tables), user, object and message; keep every
    resource."""
    for backend in _backends("dynamodb"):
        for name, table in backend.tables.items():
            if name.startswith(prefix) and name not in keep_tables:
                table.items.clear()
    for backend in _backends("cognito-idp"):
        for pool in backend.user_pools.values():
            for tokens in (pool.users, pool.refresh_tokens, pool.access_tokens, pool.id_tokens):
                tokens.clear()
    for backend in _backends("s3"):
        for bucket in backend.buckets.values():
            _empty_bucket(bucket)
    for backend in _backends("sqs"):
        for queue in backend.queues.values():
            queue._messages.clear()


def _empty_bucket(bucket: Any) -> None:
    # moto keeps object bodies in temporary files: close them, as its own reset does.
    for _, versions in bucket.keys.iterlists():
        for version in versions:
            if isinstance(version, FakeKey):
                version.dispose()
    for upload in bucket.multiparts.values():
        upload.dispose()
    bucket.keys = _VersionedKeyStore()
    bucket.multiparts = MultipartDict()


def outbox() -> list[dict[str, Any]]:
    """Every email SES accepted, oldest first."""
    sent: list[dict[str, Any]] = []
    for backend in _backends("ses"):
        sent += [
            {
                "source": m.source,
                "to": m.destinations.get("ToAddresses", []),
                "subject": m.subject,
                "body": m.body,
            }
            for m in backend.sent_messages
            if hasattr(m, "body")
        ]
    return sent


def confirmation_code(pool_id: str, username: str) -> str | None:
    """The code Cognito would have mailed ``username`` (a user name or an email)."""
    for backend in _backends("cognito-idp"):
        pool = backend.user_pools.get(pool_id)
        user = pool._get_user(username) if pool else None
        if user is not None and user.confirmation_code:
            return str(user.confirmation_code)
    return None


def _json(start_response: StartResponse, value: object) -> list[bytes]:
    body = json.dumps(value).encode()
    start_response(
        "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    )
    return [body]


class KeepAliveHandler(MotoRequestHandler):
    """HTTP/1.1, so a client keeps its connection: werkzeug's HTTP/1.0 default closes it
    after every answer, and each AWS call paid for a new TCP connection on both sides."""

    protocol_version = "HTTP/1.1"


def serve(host: str, port: int, *, ready: Callable[[str], None]) -> None:
    """Serve until SIGTERM/SIGINT; call ``ready`` with the endpoint once bound."""
    cheaper_transactions()
    warmup.install()
    app = LocalAws(DomainDispatcherApplication(create_backend_app))
    server = make_server(host, port, app, threaded=True, request_handler=KeepAliveHandler)
    # werkzeug logs every request; nobody reads them.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    bound_host, bound_port = server.server_address[:2]
    bound_host = bound_host.decode() if isinstance(bound_host, bytes) else bound_host
    # moto builds some URLs (presigned, queue URLs) from the port it serves on.
    os.environ["MOTO_PORT"] = str(bound_port)

    def stop(signum: int, frame: object) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    ready(f"http://{bound_host}:{bound_port}")
    # After the ready line, while the parent is still importing its own modules. A
    # request that comes first waits for what it needs, as it would have anyway.
    threading.Thread(target=warmup.warm_up, args=(app,), name="warm-up", daemon=True).start()
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m listbackup.localaws", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    serve(args.host, args.port, ready=lambda url: print(f"listening on {url}", flush=True))
    return 0
