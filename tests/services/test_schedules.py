"""Schedules: presets spread over the clock, run times across DST changes (pure functions)."""

from __future__ import annotations

import random
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from listbackup.errors import BadUserInputError
from listbackup.models.platforms import Frequency
from listbackup.models.schedules import Schedule
from listbackup.services.schedules import next_run, preset_cron, resolve

NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")


def runs(schedule: Schedule, start: datetime, end: datetime) -> list[datetime]:
    found, at = [], start
    while (at := next_run(schedule, at)) < end:
        found.append(at)
    return found


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def source_ids(count: int) -> list[str]:
    rng = random.Random(10)  # noqa: S311 - repeatable ids, not secrets
    return [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(count)]


# ---- DST -------------------------------------------------------------------------------


def test_daily_run_in_the_spring_forward_gap_runs_once_at_the_end_of_the_gap() -> None:
    schedule = Schedule(frequency=None, cron="30 2 * * *", timezone="America/New_York")

    found = runs(schedule, utc(2026, 3, 5), utc(2026, 3, 12))

    assert found == [
        utc(2026, 3, 5, 7, 30),  # 02:30 EST
        utc(2026, 3, 6, 7, 30),
        utc(2026, 3, 7, 7, 30),
        utc(2026, 3, 8, 7, 0),  # 02:30 does not exist: 03:00 EDT, the first minute after
        utc(2026, 3, 9, 6, 30),  # 02:30 EDT
        utc(2026, 3, 10, 6, 30),
        utc(2026, 3, 11, 6, 30),
    ]
    assert [run.astimezone(NEW_YORK).hour for run in found] == [2, 2, 2, 3, 2, 2, 2]


def test_daily_run_across_the_fall_back_day_runs_once_a_day() -> None:
    schedule = Schedule(frequency=None, cron="30 2 * * *", timezone="America/New_York")

    found = runs(schedule, utc(2026, 10, 29), utc(2026, 11, 5))

    assert found == [
        utc(2026, 10, 29, 6, 30),  # 02:30 EDT
        utc(2026, 10, 30, 6, 30),
        utc(2026, 10, 31, 6, 30),
        utc(2026, 11, 1, 7, 30),  # 02:30 EST: the clock went back at 02:00 EDT
        utc(2026, 11, 2, 7, 30),
        utc(2026, 11, 3, 7, 30),
        utc(2026, 11, 4, 7, 30),
    ]


def test_a_daily_run_in_the_repeated_hour_runs_once_at_its_first_occurrence() -> None:
    schedule = Schedule(frequency=None, cron="30 1 * * *", timezone="America/New_York")

    found = runs(schedule, utc(2026, 10, 30), utc(2026, 11, 3))

    assert found == [
        utc(2026, 10, 30, 5, 30),
        utc(2026, 10, 31, 5, 30),
        utc(2026, 11, 1, 5, 30),  # 01:30 EDT; not again at 01:30 EST (06:30Z)
        utc(2026, 11, 2, 6, 30),
    ]
    per_day = Counter(run.astimezone(NEW_YORK).date() for run in found)
    assert set(per_day.values()) == {1}


def test_next_run_from_inside_the_second_copy_of_the_hour_is_the_next_day() -> None:
    schedule = Schedule(frequency=None, cron="30 1 * * *", timezone="America/New_York")
    # 01:15 EST, after the 01:30 EDT run: cronsim alone answers 01:30 EDT, in the past.
    after = utc(2026, 11, 1, 6, 15)

    assert next_run(schedule, after) == utc(2026, 11, 2, 6, 30)


def test_weekly_run_in_berlin_across_both_changes() -> None:
    schedule = Schedule(frequency=None, cron="30 2 * * 0", timezone="Europe/Berlin")

    spring = runs(schedule, utc(2026, 3, 20), utc(2026, 4, 10))
    autumn = runs(schedule, utc(2026, 10, 15), utc(2026, 11, 5))

    assert spring == [
        utc(2026, 3, 22, 1, 30),  # 02:30 CET
        utc(2026, 3, 29, 1, 0),  # no 02:30 that Sunday: 03:00 CEST
        utc(2026, 4, 5, 0, 30),  # 02:30 CEST
    ]
    assert autumn == [
        utc(2026, 10, 18, 0, 30),  # 02:30 CEST
        utc(2026, 10, 25, 0, 30),  # 02:30 comes twice that Sunday: the first, once
        utc(2026, 11, 1, 1, 30),  # 02:30 CET
    ]
    assert {run.astimezone(BERLIN).weekday() for run in spring + autumn} == {6}


@pytest.mark.parametrize(
    ("start", "end", "local_hours"),
    [
        (utc(2026, 3, 8, 5), utc(2026, 3, 8, 10), [0, 1, 3, 4, 5]),  # no 02:xx that night
        (utc(2026, 11, 1, 3), utc(2026, 11, 1, 9), [23, 0, 1, 1, 2, 3]),  # 01:xx twice
    ],
)
def test_hourly_preset_keeps_to_real_time(
    start: datetime, end: datetime, local_hours: list[int]
) -> None:
    schedule = Schedule(frequency=Frequency.HOURLY, cron="17 * * * *", timezone="America/New_York")

    found = runs(schedule, start, end)

    assert [run.astimezone(NEW_YORK).hour for run in found] == local_hours
    assert {b - a for a, b in pairwise(found)} == {timedelta(hours=1)}


# ---- next_run --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        (utc(2026, 6, 1, 8, 0), utc(2026, 6, 2, 7)),
        (datetime(2026, 6, 1, 4, 0, tzinfo=NEW_YORK), utc(2026, 6, 2, 7)),  # 08:00Z
        (datetime(2026, 6, 1, 17, 0, tzinfo=ZoneInfo("Asia/Tokyo")), utc(2026, 6, 2, 7)),
        (datetime(2026, 6, 1, 15, 0, tzinfo=ZoneInfo("Asia/Tokyo")), utc(2026, 6, 1, 7)),
        (datetime(2026, 6, 1, 7, 59, tzinfo=ZoneInfo("Europe/London")), utc(2026, 6, 1, 7)),
        (datetime(2026, 6, 1, 3, 59, tzinfo=timezone(timedelta(hours=-3))), utc(2026, 6, 1, 7)),
    ],
)
def test_next_run_takes_after_in_any_zone_and_answers_utc(
    after: datetime, expected: datetime
) -> None:
    schedule = Schedule(frequency=None, cron="0 9 * * *", timezone="Europe/Paris")

    run = next_run(schedule, after)

    assert run == expected
    assert run.tzinfo is UTC


def test_next_run_is_strictly_after() -> None:
    schedule = Schedule(frequency=None, cron="0 9 * * *", timezone="Europe/Paris")
    at_a_run = utc(2026, 6, 1, 7)

    assert next_run(schedule, at_a_run) == utc(2026, 6, 2, 7)
    assert next_run(schedule, at_a_run - timedelta(microseconds=1)) == at_a_run
    assert next_run(schedule, at_a_run + timedelta(microseconds=1)) == utc(2026, 6, 2, 7)


def test_next_run_refuses_a_naive_datetime() -> None:
    schedule = Schedule(frequency=None, cron="0 9 * * *", timezone="UTC")

    with pytest.raises(ValueError, match="timezone-aware"):
        next_run(schedule, datetime(2026, 6, 1, 8))


def test_next_run_of_a_schedule_that_never_runs_is_a_programming_error() -> None:
    schedule = Schedule(frequency=None, cron="0 0 */31 * 1#2", timezone="UTC")  # not resolved

    with pytest.raises(ValueError, match="never runs"):
        next_run(schedule, utc(2026, 6, 1))


# ---- presets ---------------------------------------------------------------------------


def test_the_same_id_gives_the_same_expression() -> None:
    # Pinned: a salted hash() would pass a same-process check and move every source's
    # time at each deploy.
    assert [preset_cron(frequency, "src_1") for frequency in Frequency] == [
        "10 * * * *",
        "10 20 * * *",
        "10 20 * * 0",
        "10 20 11 * *",
    ]
    for source_id in source_ids(20):
        for frequency in Frequency:
            assert preset_cron(frequency, source_id) == preset_cron(frequency, source_id)


def test_hourly_presets_spread_over_the_minutes() -> None:
    minutes = Counter(preset_cron(Frequency.HOURLY, s).split()[0] for s in source_ids(1000))

    assert len(minutes) >= 50
    assert max(minutes.values()) <= 50


def test_daily_presets_spread_over_the_day() -> None:
    times = [preset_cron(Frequency.DAILY, s).split()[:2] for s in source_ids(1000)]
    hours = Counter(int(hour) for _, hour in times)

    assert len(set(map(tuple, times))) >= 600
    assert set(hours) == set(range(24))
    assert hours[0] < 100  # ~42 expected: nothing piles up at midnight
    assert max(hours.values()) < 100


def test_weekly_and_monthly_presets_spread_over_days_that_every_month_has() -> None:
    ids = source_ids(1000)
    weekdays = Counter(preset_cron(Frequency.WEEKLY, s).split()[4] for s in ids)
    days = Counter(int(preset_cron(Frequency.MONTHLY, s).split()[2]) for s in ids)

    assert set(weekdays) == {str(d) for d in range(7)}
    assert set(days) == set(range(1, 29))


@pytest.mark.parametrize(
    ("frequency", "end", "count"),
    [
        (Frequency.HOURLY, utc(2026, 2, 1), 31 * 24),
        (Frequency.DAILY, utc(2027, 1, 1), 365),
        (Frequency.WEEKLY, utc(2027, 1, 1), 52),
        (Frequency.MONTHLY, utc(2027, 1, 1), 12),
    ],
)
def test_presets_run_at_their_frequency(frequency: Frequency, end: datetime, count: int) -> None:
    schedule = Schedule(frequency, preset_cron(frequency, "src_1"), "Europe/Berlin")

    found = runs(schedule, utc(2026, 1, 1), end)

    assert len(found) == count
    assert all(run.minute == 10 for run in found)


# ---- resolve ---------------------------------------------------------------------------


def resolve_cron(cron: str, *, min_interval: int = 60, zone: str | None = None) -> Schedule:
    return resolve(
        frequency=None,
        cron=cron,
        timezone=zone,
        source_id="src_1",
        default_timezone="UTC",
        min_interval_minutes=min_interval,
    )


def refusal(call: Callable[[], object]) -> tuple[dict[str, Any], str]:
    with pytest.raises(BadUserInputError) as caught:
        call()
    return caught.value.as_extensions(), caught.value.message


def test_a_preset_answers_its_own_cron() -> None:
    schedule = resolve(
        frequency=Frequency.DAILY,
        cron=None,
        timezone="Europe/Paris",
        source_id="src_1",
        default_timezone="UTC",
        min_interval_minutes=60,
    )

    assert schedule == Schedule(Frequency.DAILY, "10 20 * * *", "Europe/Paris")


def test_a_cron_schedule_has_no_frequency_and_tidy_whitespace() -> None:
    schedule = resolve_cron("  0   9 * *\tMON-FRI ", zone="America/New_York")

    assert schedule == Schedule(None, "0 9 * * MON-FRI", "America/New_York")


def test_the_zone_defaults_to_the_accounts() -> None:
    schedule = resolve(
        frequency=Frequency.WEEKLY,
        cron=None,
        timezone=None,
        source_id="src_1",
        default_timezone="Asia/Tokyo",
        min_interval_minutes=60,
    )

    assert schedule.timezone == "Asia/Tokyo"


@pytest.mark.parametrize(("frequency", "cron"), [(Frequency.DAILY, "0 9 * * *"), (None, None)])
def test_one_of_frequency_and_cron(frequency: Frequency | None, cron: str | None) -> None:
    extensions, _ = refusal(
        lambda: resolve(
            frequency=frequency,
            cron=cron,
            timezone=None,
            source_id="src_1",
            default_timezone="UTC",
            min_interval_minutes=60,
        )
    )

    assert extensions == {"code": "BAD_USER_INPUT", "field": "schedule"}


@pytest.mark.parametrize(
    ("cron", "message"),
    [
        ("0 */5 * * * *", "Seconds are not supported"),
        ("", "five fields"),
        ("@daily", "five fields"),
        ("0 9 * *", "five fields"),
        ("0 9 * * * * *", "five fields"),
        ("0 9 * * 1" + " " * 100, "at most 100 characters"),
        ("60 * * * *", "(bad minute)"),
        ("0 24 * * *", "(bad hour)"),
        ("0 0 32 * *", "(bad day-of-month)"),
        ("0 0 30 2 *", "(bad day-of-month)"),  # February has no 30th
        ("0 0 * 13 *", "(bad month)"),
        ("0 0 * * 8", "(bad day-of-week)"),
        ("*/0 * * * *", "(bad minute)"),
        ("5-1 * * * *", "(bad minute)"),
        ("0 9 * * MONDAY", "(bad day-of-week)"),
        ("0 9 ? * *", "(bad day-of-month)"),
        ("0 0 */31 * 1#2", "never runs"),  # the 1st of a month, if a second Monday
    ],
)
def test_a_bad_cron_is_refused(cron: str, message: str) -> None:
    extensions, shown = refusal(lambda: resolve_cron(cron))

    assert extensions == {"code": "BAD_USER_INPUT", "field": "schedule.cron"}
    assert message in shown


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "", "utc", "+02:00"])
def test_an_unknown_zone_is_refused(zone: str) -> None:
    extensions, shown = refusal(lambda: resolve_cron("0 9 * * *", zone=zone))

    assert extensions == {"code": "BAD_USER_INPUT", "field": "schedule.timezone"}
    assert "IANA" in shown


@pytest.mark.parametrize(
    ("cron", "min_interval", "gap"),
    [
        ("*/5 * * * *", 60, 5),
        ("0,10 * * * *", 60, 10),
        ("* * * * *", 2, 1),
        ("0 0-23 * * *", 61, 60),
        ("0 9,10 * * *", 90, 60),
        ("59 0,23 * * *", 61, 60),  # 23:59 to 00:59 the next day
        ("0 0,23 * * 1,2", 120, 60),  # Monday 23:00 to Tuesday 00:00
        ("0 0,23 28,29 2 *", 120, 60),  # only in leap years
        ("0 12 * * *", 1441, 1440),
    ],
)
def test_a_schedule_more_frequent_than_the_account_allows_is_refused(
    cron: str, min_interval: int, gap: int
) -> None:
    extensions, shown = refusal(lambda: resolve_cron(cron, min_interval=min_interval))

    assert extensions == {
        "code": "BAD_USER_INPUT",
        "reason": "SCHEDULE_TOO_FREQUENT",
        "field": "schedule.cron",
    }
    assert f"as little as {gap} minutes apart" in shown
    assert f"every {min_interval} minutes" in shown


@pytest.mark.parametrize(
    ("cron", "min_interval"),
    [
        ("0 * * * *", 60),
        ("*/5 * * * *", 5),
        ("* * * * *", 1),
        ("0 0-23 * * *", 60),
        ("59 23 * * *", 60),
        ("59 0,23 * * *", 60),
        ("0 0,23 * * 1,3,5", 120),  # never on consecutive days
        ("0 0,23 29 2 *", 120),
        ("0 12 * * *", 1440),
        ("0 12 * * 1", 10080),
        ("0 0 * 2 MON#5", 60),  # once in years, but it does run
        ("0 0,23 * 2 SUN#5", 120),  # 29 February on a Sunday: once in the 28-year cycle
    ],
)
def test_a_schedule_at_the_accounts_frequency_is_accepted(cron: str, min_interval: int) -> None:
    assert resolve_cron(cron, min_interval=min_interval).cron == cron


def test_dst_does_not_make_a_schedule_too_frequent() -> None:
    # Measured on the expression's clock: the spring-forward day brings these runs to 30
    # minutes apart (03:00 and 03:30 EDT), which the zone did, not the user.
    schedule = resolve_cron("30 2,3 * * *", min_interval=60, zone="America/New_York")

    found = runs(schedule, utc(2026, 3, 8, 5), utc(2026, 3, 8, 12))

    assert found == [utc(2026, 3, 8, 7), utc(2026, 3, 8, 7, 30)]


@pytest.mark.parametrize(
    ("frequency", "min_interval"),
    [
        (Frequency.HOURLY, 60),
        (Frequency.DAILY, 1440),
        (Frequency.WEEKLY, 7 * 1440),
        (Frequency.MONTHLY, 28 * 1440),
    ],
)
def test_presets_pass_an_interval_of_their_own_length(
    frequency: Frequency, min_interval: int
) -> None:
    for source_id in source_ids(5):
        resolve(
            frequency=frequency,
            cron=None,
            timezone="America/New_York",
            source_id=source_id,
            default_timezone="UTC",
            min_interval_minutes=min_interval,
        )


def test_a_preset_too_frequent_for_the_account_names_the_frequency() -> None:
    extensions, _ = refusal(
        lambda: resolve(
            frequency=Frequency.HOURLY,
            cron=None,
            timezone=None,
            source_id="src_1",
            default_timezone="UTC",
            min_interval_minutes=120,
        )
    )

    assert extensions == {
        "code": "BAD_USER_INPUT",
        "reason": "SCHEDULE_TOO_FREQUENT",
        "field": "schedule.frequency",
    }
