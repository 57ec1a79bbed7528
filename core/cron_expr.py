"""Crontab expressions: parse, validate, describe, and find fire times.

Standard crontab meaning: day-of-week 0 and 7 are Sunday and 1 is Monday; names
`jan`-`dec` and `sun`-`sat`; lists, ranges and steps. When both day-of-month and
day-of-week are restricted, a day matching either fires (as in Vixie cron).

Times are evaluated on the wall clock of the cron's IANA timezone. Across DST, a
wall time that does not exist that day fires once, at the first instant after the
gap; a wall time that happens twice fires once, at its first occurrence.

We evaluate the parsed fields ourselves rather than through croniter or
APScheduler's `CronTrigger.from_crontab`: the latter reads day-of-week 1 as Tuesday,
and both give generic errors where users need one specific sentence per mistake.
"""

from __future__ import annotations

import hashlib
import zoneinfo
from bisect import bisect_left
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import lru_cache

from cron_descriptor import Options, get_description

from core.errors import InvalidInput

MONTHS = "jan feb mar apr may jun jul aug sep oct nov dec".split()
WEEKDAYS = "sun mon tue wed thu fri sat".split()
# Leap days and rare weekday/date combinations repeat within 28 years.
SEARCH_DAYS = 366 * 28


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()
    name_base: int = 0


SECOND = _Field("second", 0, 59)
MINUTE = _Field("minute", 0, 59)
HOUR = _Field("hour", 0, 23)
DAY = _Field("day-of-month", 1, 31)
MONTH = _Field("month", 1, 12, tuple(MONTHS), 1)
WEEKDAY = _Field("day-of-week", 0, 7, tuple(WEEKDAYS), 0)


@dataclass(frozen=True)
class CronSpec:
    """A parsed expression: the allowed values of each field, sorted."""

    expr: str
    seconds: tuple[int, ...]
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday ... 6 = Saturday
    day_restricted: bool
    weekday_restricted: bool

    def matches_day(self, day: date) -> bool:
        if day.month not in self.months:
            return False
        in_days = day.day in self.days
        in_weekdays = (day.isoweekday() % 7) in self.weekdays
        if self.day_restricted and self.weekday_restricted:
            return in_days or in_weekdays
        return in_days and in_weekdays


def _value(text: str, field: _Field, expr: str) -> int:
    lowered = text.lower()
    if field.names and lowered.isalpha():
        if lowered not in field.names:
            raise InvalidInput(
                f"Unknown {field.name} name {text!r} in {expr!r}; use "
                f"{field.names[0]}-{field.names[-1]}."
            )
        return field.names.index(lowered) + field.name_base
    if not text.isdigit():
        raise InvalidInput(f"{text!r} is not a valid {field.name} value in {expr!r}.")
    number = int(text)
    if not field.low <= number <= field.high:
        raise InvalidInput(
            f"The {field.name} value {number} in {expr!r} is out of range "
            f"({field.low}-{field.high})."
        )
    return number


def _part(part: str, field: _Field, expr: str) -> set[int]:
    span, _, step_text = part.partition("/")
    step = 1
    if step_text:
        if not step_text.isdigit() or int(step_text) == 0:
            raise InvalidInput(
                f"The step {step_text!r} in {expr!r} must be a whole number above 0."
            )
        step = int(step_text)

    if span == "*":
        low, high = field.low, field.high
    elif "-" in span:
        first, _, last = span.partition("-")
        low, high = _value(first, field, expr), _value(last, field, expr)
        if low > high:
            raise InvalidInput(
                f"The {field.name} range {span!r} in {expr!r} runs backwards."
            )
    else:
        low = _value(span, field, expr)
        high = field.high if step_text else low
    return set(range(low, high + 1, step))


def _field(text: str, field: _Field, expr: str) -> set[int]:
    values: set[int] = set()
    for part in text.split(","):
        if not part:
            raise InvalidInput(f"Empty list item in the {field.name} of {expr!r}.")
        values |= _part(part, field, expr)
    return values


@lru_cache(maxsize=4096)
def parse(expr: str, allow_seconds: bool = False) -> CronSpec:
    """Parse `expr`; raise InvalidInput with one sentence naming the mistake."""
    fields = expr.split()
    if len(fields) == 6 and allow_seconds:
        second_text, fields = fields[0], fields[1:]
    elif len(fields) == 5:
        second_text = "0"
    else:
        allowed = "5 fields (or 6 with seconds)" if allow_seconds else "5 fields"
        raise InvalidInput(
            f"A schedule needs {allowed}: minute hour day month weekday; "
            f"{expr!r} has {len(fields)}."
        )

    minute, hour, day, month, weekday = fields
    weekdays = {w % 7 for w in _field(weekday, WEEKDAY, expr)}
    return CronSpec(
        expr=" ".join(expr.split()),
        seconds=tuple(sorted(_field(second_text, SECOND, expr))),
        minutes=tuple(sorted(_field(minute, MINUTE, expr))),
        hours=tuple(sorted(_field(hour, HOUR, expr))),
        days=frozenset(_field(day, DAY, expr)),
        months=frozenset(_field(month, MONTH, expr)),
        weekdays=frozenset(weekdays),
        day_restricted=not day.startswith("*"),
        weekday_restricted=not weekday.startswith("*"),
    )


def get_zone(name: str) -> tzinfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            f"Unknown timezone {name!r}; use an IANA name such as Europe/Berlin."
        ) from None


def shortest_gap_seconds(spec: CronSpec) -> int:
    """The smallest time between two fires, from the time-of-day fields.

    Known limit: the wrap from the last fire of a day to the first of the next is
    counted even when the next day never fires, so a few sparse schedules are
    judged a little more frequent than they are.
    """
    times = sorted(
        h * 3600 + m * 60 + s
        for h in spec.hours
        for m in spec.minutes
        for s in spec.seconds
    )
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    gaps.append(times[0] + 86_400 - times[-1])
    return min(gaps)


def validate(expr: str, timezone: str, min_interval_seconds: int) -> CronSpec:
    """Parse and check an expression and timezone for use as a tenant's schedule."""
    spec = parse(expr.strip(), allow_seconds=min_interval_seconds < 60)
    zone = get_zone(timezone)
    if next_fire(spec, zone, datetime.now(UTC)) is None:
        raise InvalidInput(
            f"The schedule {expr!r} never fires: no date matches both its day and "
            "month fields."
        )
    gap = shortest_gap_seconds(spec)
    if gap < min_interval_seconds:
        raise InvalidInput(
            f"The schedule {expr!r} fires every {gap} s, more often than the "
            f"minimum interval of {min_interval_seconds} s."
        )
    return spec


def _resolve(wall: datetime, zone: tzinfo) -> datetime:
    """The UTC instant of a local wall time; a time in a DST gap moves past it."""
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if first.astimezone(zone).replace(tzinfo=None) == wall:
        return first

    # In a gap, fold=1 lands before it and fold=0 after it: find the transition.
    low = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    high = first
    after_offset = high.astimezone(zone).utcoffset()
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(zone).utcoffset() == after_offset:
            high = middle
        else:
            low = middle
    return high.replace(microsecond=0)


def _day_times(spec: CronSpec, floor: tuple[int, int, int] | None):
    """(hour, minute, second) of a day in order, from `floor` when given."""
    hours = spec.hours[bisect_left(spec.hours, floor[0]) :] if floor else spec.hours
    for hour in hours:
        minutes = spec.minutes
        if floor and hour == floor[0]:
            minutes = minutes[bisect_left(minutes, floor[1]) :]
        for minute in minutes:
            seconds = spec.seconds
            if floor and hour == floor[0] and minute == floor[1]:
                seconds = seconds[bisect_left(seconds, floor[2]) :]
            for second in seconds:
                yield hour, minute, second


def next_fire(spec: CronSpec, zone: tzinfo, after: datetime) -> datetime | None:
    """The first fire strictly after `after` (aware), as an aware UTC datetime."""
    # Wall times before `after`'s own are never later instants, even across DST:
    # a repeated hour's second pass maps back to its first, which is earlier.
    start = after.astimezone(zone).replace(tzinfo=None)
    day = start.date()
    floor: tuple[int, int, int] | None = (start.hour, start.minute, start.second)
    for _ in range(SEARCH_DAYS):
        if spec.matches_day(day):
            for hour, minute, second in _day_times(spec, floor):
                wall = datetime(day.year, day.month, day.day, hour, minute, second)
                instant = _resolve(wall, zone)
                if instant > after:
                    return instant
        day += timedelta(days=1)
        floor = None
    return None


def next_fire_times(
    expr: str, tz: str, after: datetime, n: int = 3, allow_seconds: bool = True
) -> list[datetime]:
    """The next `n` fire times after `after`, as aware UTC datetimes."""
    spec = parse(expr.strip(), allow_seconds=allow_seconds)
    zone = get_zone(tz)
    times: list[datetime] = []
    cursor = after
    while len(times) < n:
        found = next_fire(spec, zone, cursor)
        if found is None:
            break
        times.append(found)
        cursor = found
    return times


def describe(expr: str) -> str:
    """A human description, e.g. "Every 5 minutes"; the expression itself if none."""
    options = Options()
    options.use_24hour_time_format = True
    options.day_of_week_start_index_zero = True
    try:
        return get_description(expr.strip(), options)
    except Exception:  # cron-descriptor raises its own family plus plain errors
        return expr


def start_offset(cron_id: str, expr: str, spread_seconds: int) -> int:
    """Seconds after each nominal fire time that this cron's ticks start.

    Minute-level (5-field) crons get a stable offset below `spread_seconds` from
    their id, so tenants sharing a schedule do not all start in the same second;
    a seconds schedule already says when to start and gets none."""
    if spread_seconds <= 0 or len(expr.split()) != 5:
        return 0
    digest = hashlib.blake2b(cron_id.encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big") % spread_seconds
