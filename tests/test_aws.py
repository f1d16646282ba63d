"""The AWS clients: one TLS context per CA bundle, loaded once and off the event loop."""

from __future__ import annotations

import ssl
import threading
from typing import Any

import pytest

from listbackup import aws
from listbackup.config import Settings


async def test_clients_load_the_ca_bundle_once_and_off_the_event_loop(
    base_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    loads: list[tuple[Any, bool]] = []
    load = ssl.SSLContext.load_verify_locations

    def counting_load(context: ssl.SSLContext, *args: Any, **kwargs: Any) -> None:
        loads.append((args[0] if args else kwargs.get("cafile"), _on_main_thread()))
        load(context, *args, **kwargs)

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", counting_load)
    aws._tls_context.cache_clear()

    async with aws.open_clients(base_settings) as one, aws.open_clients(base_settings) as two:
        # A first call is what makes a client's connection pool (and TLS context).
        await one.dynamodb.list_tables(Limit=1)
        await one.sqs.list_queues()
        await two.dynamodb.list_tables(Limit=1)

    assert len(loads) == 1
    ((bundle, on_loop),) = loads
    assert bundle
    assert not on_loop


def _on_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()
