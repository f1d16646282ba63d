"""When a source backs up: a preset or a cron expression, read in an IANA time zone."""

from __future__ import annotations

from dataclasses import dataclass

from listbackup.models.platforms import Frequency


@dataclass(frozen=True, slots=True)
class Schedule:
    #: The preset chosen; None when the schedule was given as a cron expression.
    frequency: Frequency | None
    #: The effective five-field expression, a preset's own included.
    cron: str
    #: The IANA zone the expression is read in.
    timezone: str
