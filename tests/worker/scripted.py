"""A scripted platform for worker tests: the demo platform's records, with the failures,
pauses and hangs a test asks for, and a log of what was fetched.

It stands in for the platform (what is outside our system), never for our own code: the
worker, the stores and the bucket under test are the real ones.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import datetime

from listbackup.deps import AppDeps
from listbackup.integrations import Platforms
from listbackup.integrations.base import Integration, Record
from listbackup.integrations.demo import DemoConnector


@dataclass
class Step:
    """What the ``nth`` fetch of ``data_type`` does once it has yielded ``after`` pages."""

    data_type: str
    nth: int = 1
    after: int = 0
    #: Raised then (a platform failure as the connector would raise it).
    error: BaseException | None = None
    #: Never yield another page: the platform hangs.
    hang: bool = False


@dataclass
class Script:
    steps: list[Step] = field(default_factory=list)
    #: Seconds between two pages (a slow platform), for every fetch.
    page_seconds: float = 0.0
    #: Every fetch, in order: which data types were read (again).
    fetched: list[str] = field(default_factory=list)
    #: Pages yielded, per data type, over all fetches.
    pages: dict[str, int] = field(default_factory=dict)

    def step(self, data_type: str, nth: int, after: int) -> Step | None:
        return next(
            (s for s in self.steps if (s.data_type, s.nth, s.after) == (data_type, nth, after)),
            None,
        )


class ScriptedConnector(DemoConnector):
    script: Script

    async def fetch(
        self, data_type: str, *, since: datetime | None = None
    ) -> AsyncIterator[list[Record]]:
        script = self.script
        script.fetched.append(data_type)
        nth = script.fetched.count(data_type)
        yielded = 0
        async for page in super().fetch(data_type, since=since):
            await _act(script.step(data_type, nth, yielded))
            if script.page_seconds:
                await asyncio.sleep(script.page_seconds)
            script.pages[data_type] = script.pages.get(data_type, 0) + 1
            yielded += 1
            yield page
        await _act(script.step(data_type, nth, yielded))


async def _act(step: Step | None) -> None:
    if step is None:
        return
    if step.hang:
        await asyncio.Event().wait()
    if step.error is not None:
        raise step.error


@dataclass(frozen=True)
class ScriptedPlatforms(Platforms):
    """The registry, with the demo platform's connector following ``script``."""

    script: Script = field(default_factory=Script)

    def integration(self, slug: str) -> Integration:
        # Platforms has slots: a subclass of it cannot call super() without arguments.
        found = Platforms.integration(self, slug)
        if slug != "demo":
            return found
        connector = type("Scripted", (ScriptedConnector,), {"script": self.script})
        return replace(found, connector=connector)


def scripted(app: AppDeps, script: Script) -> AppDeps:
    """The process's dependencies with the scripted demo platform."""
    platforms = ScriptedPlatforms(settings=app.platforms.settings, script=script)
    return replace(app, platforms=platforms)
