"""EventBridge schedule expressions as the local scheduler reads them (pure, no waiting)."""

from datetime import datetime, timezone

import pytest

from streamlab.errors import ConfigError
from streamlab.local.schedules import parse


def utc(*a):
    return datetime(*a, tzinfo=timezone.utc)


def test_rate_counts_periods_from_the_start():
    s = parse("rate(5 minutes)")
    start = utc(2026, 1, 1, 0, 0, 30)
    assert s.next_after(start, start) == utc(2026, 1, 1, 0, 5, 30)
    assert s.next_after(utc(2026, 1, 1, 0, 5, 30), start) == utc(2026, 1, 1, 0, 10, 30)
    assert parse("rate(1 hour)").period == 3600 and parse("rate(2 days)").period == 172800


@pytest.mark.parametrize("expr, after, expected", [
    ("cron(0 12 * * ? *)", utc(2026, 3, 1, 12, 0), utc(2026, 3, 2, 12, 0)),  # strictly after
    ("cron(15,45 * * * ? *)", utc(2026, 3, 1, 10, 20), utc(2026, 3, 1, 10, 45)),
    ("cron(*/10 8-9 * * ? *)", utc(2026, 3, 1, 9, 55), utc(2026, 3, 2, 8, 0)),
    ("cron(0 18 ? * MON-FRI *)", utc(2026, 12, 4, 19, 0), utc(2026, 12, 7, 18, 0)),  # Fri evening -> Mon
    ("cron(0 0 1 JAN ? 2027)", utc(2026, 6, 1), utc(2027, 1, 1)),
    ("cron(30 23 L * ? *)", utc(2026, 2, 3), utc(2026, 2, 28, 23, 30)),
    ("cron(0 9 ? * 1 *)", utc(2026, 12, 2), utc(2026, 12, 6, 9, 0)),  # 1 = Sunday, as EventBridge counts
])
def test_cron_next_firing(expr, after, expected):
    assert parse(expr).next_after(after) == expected


@pytest.mark.parametrize("expr, says", [
    ("every minute", "neither rate(...) nor cron(...)"),
    ("cron(0 12 * * ?)", "cron needs 6 fields, not 5"),
    ("cron(61 * * * ? *)", "outside minutes 0-59"),
    ("cron(0 12 ? * 2#1 *)", "not supported locally"),
    ("rate(0 minutes)", "at least 1"),
])
def test_bad_expressions_say_what_is_wrong(expr, says):
    with pytest.raises(ConfigError) as err:
        parse(expr)
    assert says in err.value.one_line()
