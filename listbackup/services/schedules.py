"""Backup schedules: a preset or a cron expression in a time zone, and when it next runs.

Run times are cronsim's reading of the expression, which follows Debian cron:
- a job at fixed times (neither its minute nor its hour field starts with ``*``) keeps to
  the wall clock. A time skipped by the spring-forward gap runs once, at the first minute
  after the gap (02:30 in New York on 2026-03-08 runs at 03:00 EDT); a time repeated by
  the fall-back fold runs once, at its first occurrence (the daylight-saving one).
- a job with ``*`` in its minute or hour field keeps to real time: it runs in both copies
  of a repeated hour and not in a skipped one, so ``0 * * * *`` stays an hour apart.
"""

from __future__ import annotations

import hashlib
import zoneinfo
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from itertools import pairwise, takewhile
from typing import assert_never

from cronsim import CronSim, CronSimError

from listbackup.errors import BadUserInputError
from listbackup.models.platforms import Frequency
from listbackup.models.schedules import Schedule
from listbackup.services import validation

MAX_CRON_LENGTH = 100
TOO_FREQUENT = "SCHEDULE_TOO_FREQUENT"
_FIELDS = "minute hour day-of-month month day-of-week"
_DAY = 24 * 60
_MINUTE = timedelta(minutes=1)
# Weekdays, month lengths and leap days repeat every 28 years from 1901 to 2099, so one
# such cycle shows every pair of days an expression can run on; it is walked in UTC, a
# clock without DST. It ends a month late to see the pairs across the cycle's wrap.
_CYCLE_START = datetime(2001, 1, 1, tzinfo=UTC)
_CYCLE_END = datetime(2029, 2, 1, tzinfo=UTC)
# cronsim answers runs strictly after its start: from here, a run at the start counts.
_BEFORE_CYCLE = _CYCLE_START - timedelta(seconds=1)


def resolve(
    *,
    frequency: Frequency | None,
    cron: str | None,
    timezone: str | None,
    source_id: str,
    default_timezone: str,
    min_interval_minutes: int,
) -> Schedule:
    """The schedule a ScheduleInput asks for; BadUserInputError names the field at fault.

    ``default_timezone`` is the account's zone, used when the input names none.
    """
    if frequency is not None and cron is None:
        expression, field = preset_cron(frequency, source_id), "schedule.frequency"
    elif cron is not None and frequency is None:
        expression, field = _parse(cron), "schedule.cron"
    else:
        raise BadUserInputError(
            "Give a frequency or a cron expression: one of the two.", field="schedule"
        )
    zone = validation.timezone(
        default_timezone if timezone is None else timezone, "schedule.timezone"
    )
    gap = _gap_under(expression, min_interval_minutes)
    if gap is not None:
        raise BadUserInputError(
            f"This schedule runs as little as {gap} minutes apart; this account allows "
            f"one run every {min_interval_minutes} minutes at most.",
            reason=TOO_FREQUENT,
            field=field,
        )
    return Schedule(frequency=frequency, cron=expression, timezone=zone)


def preset_cron(frequency: Frequency, source_id: str) -> str:
    """The preset as cron, at a time drawn from the source id: the same id, the same time.

    The spread keeps a thousand daily sources from all starting at midnight.
    """
    draw = int.from_bytes(hashlib.sha256(source_id.encode()).digest()[:8], "big")
    # 2**64 is so much larger than 1440 * 7 * 28 that the modulo bias is negligible.
    minute_of_day, draw = draw % _DAY, draw // _DAY
    minute, hour = minute_of_day % 60, minute_of_day // 60
    match frequency:
        case Frequency.HOURLY:
            return f"{minute} * * * *"
        case Frequency.DAILY:
            return f"{minute} {hour} * * *"
        case Frequency.WEEKLY:
            return f"{minute} {hour} * * {draw % 7}"
        case Frequency.MONTHLY:
            # Days 1-28 exist in every month, so a monthly backup never skips February.
            return f"{minute} {hour} {draw // 7 % 28 + 1} * *"
        case _:
            assert_never(frequency)


def next_run(schedule: Schedule, after: datetime) -> datetime:
    """The first run strictly after ``after`` (aware, in any zone), as an aware UTC time."""
    if after.utcoffset() is None:
        raise ValueError("next_run needs a timezone-aware datetime")
    zone = zoneinfo.ZoneInfo(schedule.timezone)
    for run in CronSim(schedule.cron, after.astimezone(zone)):
        # cronsim walks a fixed-time job on the naive wall clock, so from the second copy
        # of a repeated hour it answers runs of the first copy, which are before `after`.
        if run > after:
            return run.astimezone(UTC)
    raise ValueError(f"{schedule.cron!r} never runs again")


def _parse(cron: str) -> str:
    """The expression with its whitespace collapsed, once cronsim reads five valid fields."""
    field = "schedule.cron"
    if len(cron) > MAX_CRON_LENGTH:
        raise BadUserInputError(
            f"A cron expression has at most {MAX_CRON_LENGTH} characters.", field=field
        )
    fields = cron.split()
    if len(fields) == 6:
        # cronsim would read a sixth field as seconds: runs are whole minutes here.
        raise BadUserInputError(
            f"Seconds are not supported: use five fields, {_FIELDS}.", field=field
        )
    if len(fields) != 5:
        raise BadUserInputError(f"A cron expression has five fields, {_FIELDS}.", field=field)
    expression = " ".join(fields)
    try:
        runs = CronSim(expression, _BEFORE_CYCLE)
    except CronSimError as exc:
        # cronsim's messages name the field ("Bad day-of-month") and nothing else.
        raise BadUserInputError(
            f"This is not a valid cron expression ({str(exc).lower()}).", field=field
        ) from exc
    if next(runs, None) is None:
        raise BadUserInputError("This cron expression never runs.", field=field)
    return expression


def _gap_under(expression: str, limit: int) -> int | None:
    """Minutes between two consecutive runs, if any two are under ``limit`` apart.

    Cron runs at the same times on every day it matches, so the gaps are those between
    one day's times and those from a matching day's last run to the next one's first.
    They are measured on the expression's own clock, without DST: a change moves one pair
    of runs closer by its shift, twice a year, and refusing "30 2,3 * * *" for that (or a
    daily backup for being 23 hours apart) would be the zone's fault, not the user's.
    """
    minute, hour, day, month, weekday = expression.split()
    times = [
        (run - _CYCLE_START) // _MINUTE
        for run in takewhile(
            lambda run: run - _CYCLE_START < timedelta(days=1),
            CronSim(f"{minute} {hour} * * *", _BEFORE_CYCLE),
        )
    ]
    same_day = min((b - a for a, b in pairwise(times)), default=None)
    if same_day is not None and same_day < limit:
        return same_day
    overnight = _DAY - times[-1] + times[0]
    if overnight >= limit:
        return None  # even runs on consecutive days are far enough apart
    closest = _closest_days(day, month, weekday)
    if closest is None:
        return None
    gap = closest - _DAY + overnight
    return gap if gap < limit else None


@lru_cache(maxsize=256)
def _closest_days(day: str, month: str, weekday: str) -> int | None:
    """Minutes between the two closest consecutive days the fields match in a cycle.

    A walk of the whole cycle (up to a few thousand days) is cached: presets share seven
    weekly and 28 monthly day patterns.
    """
    midnights = takewhile(
        lambda run: run < _CYCLE_END,
        CronSim(f"0 0 {day} {month} {weekday}", _BEFORE_CYCLE),
    )
    closest: int | None = None
    for a, b in pairwise(midnights):
        gap = (b - a) // _MINUTE
        if closest is None or gap < closest:
            closest = gap
        if closest == _DAY:
            break  # consecutive days: nothing is closer
    return closest
