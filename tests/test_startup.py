"""What the server does as it starts: finish moves a crash left half-done."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from listbackup.aws import AwsClients
from listbackup.config import Settings
from listbackup.devstack import live_server
from listbackup.models.accounts import Account
from listbackup.server import create_app
from listbackup.store import Store
from listbackup.store.accounts import to_item_data
from listbackup.store.dynamo import batch_write
from listbackup.store.moves import Move

NOW = datetime(2026, 6, 1, tzinfo=UTC)


async def test_the_server_finishes_an_interrupted_move_before_serving(
    aws: AwsClients, settings: Settings
) -> None:
    store = Store.create(aws, settings.names)
    tree = [
        Account(id="r", name="r", path=("r",), created_at=NOW, child_count=2),
        Account(id="a", name="a", path=("r", "a"), created_at=NOW),
        Account(id="b", name="b", path=("r", "b"), created_at=NOW, child_count=1),
        # "b" already moved under "a"; its child never followed.
        Account(id="c", name="c", path=("r", "b", "c"), created_at=NOW),
    ]
    await batch_write(aws.dynamodb, store.accounts.table, puts=[to_item_data(a) for a in tree])
    b = tree[2]
    await store.transact(
        [
            store.moves.put_new(Move("b", b.path, ("r", "a", "b"), NOW)),
            store.accounts.moved(b, ("r", "a", "b")),
        ]
    )

    async with live_server(create_app(settings)) as url, httpx.AsyncClient(base_url=url) as http:
        ready = await http.get("/readyz")

    [child] = await store.accounts.get_many(["c"])
    assert ready.status_code == 200
    assert child is not None
    assert child.path == ("r", "a", "b", "c")
    assert await store.moves.pending() == []
