"""Nested reads over account trees: DynamoDB calls and latency as the tree grows.

    .venv/bin/python bench/nested_reads.py [--runs 15] [--sizes 10,100,1000]

Starts its own moto (a child process, as `listbackup dev` does) and serves the app in a
real uvicorn on loopback. For each N it builds a tree of 1 root -> 10 accounts -> N
accounts below them, with 3 members on every account, signs in the root's owner, and
runs the nested query the frontend sends for its tree view (memberships -> account ->
children -> members -> user, two levels deep, plus descendants). It prints, per N, the
DynamoDB calls of one request (from the per-request counter) and the latency.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import time
import uuid
from collections import Counter
from datetime import UTC, datetime

import httpx

from listbackup import devstack, ids
from listbackup.aws import open_clients
from listbackup.bootstrap import bootstrap
from listbackup.config import load_settings
from listbackup.models.accounts import Account, Membership, Role
from listbackup.models.users import User
from listbackup.server import create_app
from listbackup.store import Store
from listbackup.store import accounts as account_items
from listbackup.store import memberships as membership_items
from listbackup.store import users as user_items
from listbackup.store.dynamo import batch_write

QUERY = """
query Tree {
  viewer { memberships(first: 10) { nodes { role account {
    id name
    children(first: 10) { nodes { id name viewerRole
      members(first: 10) { nodes { role user { name } } }
      children(first: 100) { nodes { id name
        members(first: 10) { nodes { role user { name } } } } }
    } }
    descendants(first: 100) { nodes { id name level } }
  } } } }
}
"""
MEMBERS_PER_ACCOUNT = 3
PASSWORD = "Bench-Passw0rd!"  # noqa: S105 - a throwaway local user


class _CallLog(logging.Handler):
    """Keeps the per-request DynamoDB counts the access middleware logs at debug level."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.last: dict[str, int] = {}

    def emit(self, record: logging.LogRecord) -> None:
        calls = getattr(record, "dynamodb_calls", None)
        if calls is not None:
            self.last = dict(calls)


async def build_tree(store: Store, root_id: str, size: int) -> int:
    """Below the owner's root: 10 accounts, then ``size`` accounts spread under them."""
    now = datetime.now(UTC)
    root = (await store.accounts.get_many([root_id]))[0]
    assert root is not None
    level1 = [str(uuid.uuid4()) for _ in range(10)]
    level2 = {parent: [str(uuid.uuid4()) for _ in range(size // 10)] for parent in level1}
    accounts: list[Account] = []
    users: list[User] = []
    memberships: list[Membership] = []

    def add(path: tuple[str, ...], children: int) -> None:
        member_ids = []
        for k in range(MEMBERS_PER_ACCOUNT):
            user = User(
                id=str(uuid.uuid4()),
                email=f"m{k}-{path[-1]}@bench.local",
                name=f"Member {k}",
                created_at=now,
            )
            users.append(user)
            memberships.append(Membership(path[-1], user.id, Role.VIEWER, now))
            member_ids.append(user.id)
        accounts.append(
            Account(
                id=path[-1],
                name=f"Account {len(accounts)}",
                path=path,
                created_at=now,
                child_count=children,
                member_ids=frozenset(member_ids),
            )
        )

    for parent in level1:
        add((root_id, parent), len(level2[parent]))
        for child in level2[parent]:
            add((root_id, parent, child), 0)
    ddb = store.clients.dynamodb
    for table, items in (
        (store.accounts.table, [account_items.to_item_data(a) for a in accounts]),
        (store.users.table, [user_items.to_item_data(u) for u in users]),
        (store.memberships.table, [membership_items.to_item_data(m) for m in memberships]),
    ):
        await batch_write(ddb, table, puts=items)
    await store.accounts.update(root_id, {"childCount": 10})
    return len(accounts) + 1


async def measure(
    http: httpx.AsyncClient, token: str, log: _CallLog, runs: int
) -> tuple[dict[str, int], list[float]]:
    headers = {"Authorization": f"Bearer {token}"}
    timings = []
    calls: dict[str, int] = {}
    for run in range(runs + 3):
        started = time.perf_counter()
        response = await http.post("/graphql", json={"query": QUERY}, headers=headers)
        elapsed = (time.perf_counter() - started) * 1000
        body = response.json()
        assert "errors" not in body, body.get("errors")
        if run >= 3:  # the first runs warm caches (JWKS, connections)
            timings.append(elapsed)
            calls = log.last
    return calls, timings


async def main(sizes: list[int], runs: int) -> None:
    log = _CallLog()
    access = logging.getLogger("listbackup.access")
    access.setLevel(logging.DEBUG)
    access.addHandler(log)
    access.propagate = False
    with devstack.local_aws() as endpoint:
        devstack.apply_dev_environment(endpoint)
        os.environ["LISTBACKUP_RESOURCE_PREFIX"] = "listbackup-bench"
        settings = load_settings()
        async with open_clients(settings) as clients:
            report = await bootstrap(clients, settings)
            settings = settings.model_copy(
                update={
                    "cognito_user_pool_id": report.user_pool_id,
                    "cognito_client_id": report.user_pool_client_id,
                    "cognito_jwks_url": devstack.jwks_url(endpoint, report.user_pool_id),
                    # The tree query costs 223 342, over the default limit on purpose.
                    "max_query_cost": 250_000,
                }
            )
            store = Store.create(clients, settings.names)
            print(
                f"{'N':>6} {'accounts':>9} {'BatchGetItem':>13} {'GetItem':>8} {'Query':>6} "
                f"{'total':>6} "
                f"{'median ms':>10} {'p95 ms':>8}"
            )
            async with (
                devstack.live_server(create_app(settings)) as url,
                httpx.AsyncClient(base_url=url, timeout=60) as http,
            ):
                for size in sizes:
                    token, root = await _owner(http, f"owner-{size}@bench.local")
                    accounts = await build_tree(store, root, size)
                    calls, timings = await measure(http, token, log, runs)
                    ops = Counter(calls)
                    p95 = (
                        statistics.quantiles(timings, n=20)[-1] if len(timings) > 1 else timings[0]
                    )
                    print(
                        f"{size:>6} {accounts:>9} {ops['BatchGetItem']:>13} {ops['GetItem']:>8} "
                        f"{ops['Query']:>6} "
                        f"{sum(ops.values()):>6} {statistics.median(timings):>10.1f} {p95:>8.1f}"
                    )


async def _owner(http: httpx.AsyncClient, email: str) -> tuple[str, str]:
    sign_up = "mutation($i: SignUpInput!) { signUp(input: $i) { userConfirmed } }"
    sign_in = (
        "mutation($e: String!, $p: String!) { signIn(email: $e, password: $p) { accessToken } }"
    )
    await http.post(
        "/graphql",
        json={
            "query": sign_up,
            "variables": {"i": {"email": email, "password": PASSWORD, "name": "Owner"}},
        },
    )
    body = (
        await http.post(
            "/graphql", json={"query": sign_in, "variables": {"e": email, "p": PASSWORD}}
        )
    ).json()
    token = body["data"]["signIn"]["accessToken"]
    viewer = (
        await http.post(
            "/graphql",
            json={"query": "{ viewer { currentAccount { id } } }"},
            headers={"Authorization": f"Bearer {token}"},
        )
    ).json()
    root = ids.decode_as(ids.ACCOUNT, viewer["data"]["viewer"]["currentAccount"]["id"])
    assert root
    return token, root


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="timed runs per size (>= 2)")
    parser.add_argument("--sizes", default="10,100,1000")
    args = parser.parse_args()
    asyncio.run(main([int(s) for s in args.sizes.split(",")], args.runs))
