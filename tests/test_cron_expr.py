"""Crontab expressions: standard meaning, timezones, DST, and refusals."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from core.aps_parts import CrontabTrigger
from core.cron_expr import describe, next_fire_times, start_offset, validate
from core.errors import InvalidInput

BERLIN = ZoneInfo("Europe/Berlin")


def _local(times: list[datetime], zone: ZoneInfo) -> list[datetime]:
    return [t.astimezone(zone) for t in times]


def test_next_fire_of_weekday_one_is_monday_nine_in_the_crons_zone() -> None:
    after = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)  # a Wednesday

    fires = _local(
        next_fire_times("0 9 * * 1", "America/New_York", after),
        ZoneInfo("America/New_York"),
    )

    assert [f.isoweekday() for f in fires] == [1, 1, 1]
    assert {(f.hour, f.minute) for f in fires} == {(9, 0)}
    assert fires[0].date() == date(2026, 12, 7)


@pytest.mark.parametrize(
    "expr", ["0 9 * * 0", "0 9 * * 7", "0 9 * * sun", "0 9 * * SUN"]
)
def test_next_fire_of_sunday_spellings_is_sunday(expr: str) -> None:
    after = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)

    fires = next_fire_times(expr, "UTC", after)

    assert fires[0] == datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
    assert [f.isoweekday() for f in fires] == [7, 7, 7]


def test_spring_forward_day_fires_once_at_the_next_valid_instant() -> None:
    # 2026-03-29: Berlin jumps from 02:00 to 03:00, so 02:30 does not exist.
    after = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)

    fires = _local(next_fire_times("30 2 * * *", "Europe/Berlin", after, n=3), BERLIN)

    assert [f.date() for f in fires] == [
        date(2026, 3, 29),
        date(2026, 3, 30),
        date(2026, 3, 31),
    ]
    assert (fires[0].hour, fires[0].minute) == (3, 0)
    assert (fires[1].hour, fires[1].minute) == (2, 30)


def test_fall_back_day_fires_once_though_the_time_happens_twice() -> None:
    # 2026-10-25: Berlin goes from 03:00 back to 02:00, so 02:30 happens twice.
    after = datetime(2026, 10, 24, 12, 0, tzinfo=UTC)

    fires = next_fire_times("30 2 * * *", "Europe/Berlin", after, n=3)

    assert [f.astimezone(BERLIN).date() for f in fires] == [
        date(2026, 10, 25),
        date(2026, 10, 26),
        date(2026, 10, 27),
    ]
    assert fires[0] == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 CEST


def test_lists_ranges_steps_and_month_names_combine() -> None:
    after = datetime(2026, 1, 1, 0, 0, tzinfo=UTC)

    fires = next_fire_times("0,30 8-9 1 feb,mar *", "UTC", after, n=5)

    assert fires == [
        datetime(2026, 2, 1, 8, 0, tzinfo=UTC),
        datetime(2026, 2, 1, 8, 30, tzinfo=UTC),
        datetime(2026, 2, 1, 9, 0, tzinfo=UTC),
        datetime(2026, 2, 1, 9, 30, tzinfo=UTC),
        datetime(2026, 3, 1, 8, 0, tzinfo=UTC),
    ]


def test_describe_says_every_five_minutes() -> None:
    assert describe("*/5 * * * *") == "Every 5 minutes"


@pytest.mark.parametrize(
    ("expr", "zone", "message"),
    [
        ("* * * *", "UTC", "needs 5 fields"),
        ("* * * * * *", "UTC", "needs 5 fields"),
        ("61 * * * *", "UTC", "minute value 61"),
        ("0 24 * * *", "UTC", "hour value 24"),
        ("0 9 * * funday", "UTC", "Unknown day-of-week name 'funday'"),
        ("0 9 * smarch *", "UTC", "Unknown month name 'smarch'"),
        ("0 9 * * *", "Mars/Olympus", "Unknown timezone 'Mars/Olympus'"),
        ("0 0 31 2 *", "UTC", "'0 0 31 2 *' never fires"),
        ("0 0 30 2 *", "UTC", "'0 0 30 2 *' never fires"),
    ],
)
def test_validate_refuses_with_its_own_message(
    expr: str, zone: str, message: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate(expr, zone, 60)

    assert message in str(caught.value)


def test_validate_refuses_schedules_more_frequent_than_the_minimum() -> None:
    with pytest.raises(InvalidInput) as caught:
        validate("*/2 * * * *", "UTC", 300)

    assert "more often than the minimum interval of 300 s" in str(caught.value)


def test_validate_accepts_seconds_only_below_a_minute_minimum() -> None:
    spec = validate("*/2 * * * * *", "UTC", 1)

    assert spec.seconds == tuple(range(0, 60, 2))


def test_start_offsets_are_stable_below_the_spread_and_cover_it() -> None:
    ids = [f"cron-{i}" for i in range(1000)]

    offsets = [start_offset(cron_id, "* * * * *", 30) for cron_id in ids]

    assert offsets == [start_offset(cron_id, "* * * * *", 30) for cron_id in ids]
    assert set(offsets) == set(range(30))
    # Spread evenly enough that no second holds more than twice its share.
    assert max(offsets.count(second) for second in range(30)) < 2 * 1000 / 30


def test_seconds_schedules_and_a_zero_spread_get_no_offset() -> None:
    assert start_offset("cron-1", "*/2 * * * * *", 30) == 0
    assert {start_offset(f"c{i}", "0 9 * * *", 0) for i in range(50)} == {0}


def test_trigger_fires_its_offset_after_each_nominal_time() -> None:
    trigger = CrontabTrigger("*/5 * * * *", "Europe/Berlin", offset_s=17)
    now = datetime(2026, 3, 2, 8, 1, 30, tzinfo=UTC)

    first = trigger.get_next_fire_time(None, now)
    second = trigger.get_next_fire_time(first, now)

    assert first == datetime(2026, 3, 2, 8, 5, 17, tzinfo=UTC)
    assert second == datetime(2026, 3, 2, 8, 10, 17, tzinfo=UTC)
    assert first is not None and trigger.nominal(first) == datetime(
        2026, 3, 2, 8, 5, tzinfo=UTC
    )


def test_trigger_still_fires_a_minute_whose_offset_has_not_passed() -> None:
    trigger = CrontabTrigger("* * * * *", "UTC", offset_s=40)
    now = datetime(2026, 3, 2, 8, 1, 30, tzinfo=UTC)

    assert trigger.get_next_fire_time(None, now) == datetime(
        2026, 3, 2, 8, 1, 40, tzinfo=UTC
    )


def test_validate_accepts_a_leap_day_that_fires_every_four_years() -> None:
    spec = validate("0 0 29 2 *", "UTC", 60)

    assert spec.days == frozenset({29}) and spec.months == frozenset({2})
