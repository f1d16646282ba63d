"""Domain events to the EventBridge bus. Publishing never fails the operation that
produced the event: a failure is logged and the operation stands."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

if TYPE_CHECKING:
    from types_aiobotocore_events import EventBridgeClient

log = logging.getLogger(__name__)


class EventPublisher:
    def __init__(self, client: EventBridgeClient, bus: str) -> None:
        self._client = client
        self.bus = bus

    async def publish(self, source: str, detail_type: str, detail: Mapping[str, Any]) -> None:
        entry = {
            "EventBusName": self.bus,
            "Source": source,
            "DetailType": detail_type,
            "Detail": json.dumps(detail, default=str),
        }
        try:
            response = await self._client.put_events(Entries=[entry])  # type: ignore[list-item]
        except (ClientError, BotoCoreError) as exc:
            log.warning("event %s/%s not published: %s", source, detail_type, type(exc).__name__)
            return
        if response.get("FailedEntryCount"):
            code = response["Entries"][0].get("ErrorCode")
            log.warning("event %s/%s not published: %s", source, detail_type, code)
