"""harness.figures: each derived figure and each number format has one rule, and these are they."""

from __future__ import annotations

import doctest
import math

import pytest

from harness import figures


def test_error_rate_is_not_measured_without_requests() -> None:
    assert figures.error_rate(0, 0) is None
    assert figures.error_rate(10_000, 20) == 0.002
    assert figures.error_rate(3, 3) == 1.0
    assert figures.error_rate(12050, 6) == 0.000498  # to 6 decimals, as report.json keeps it


def test_per_second_and_relative_change() -> None:
    assert figures.per_second(5503, 2.0) == 2751.5
    assert figures.per_second(10, 3.0) == 3.33
    assert figures.per_second(0, 0.0) == 0.0 and figures.per_second(5, -1.0) == 0.0
    assert figures.relative_change(26.0, 20.0) == 0.3
    assert figures.relative_change(1.0, 0.0) is None and figures.relative_change(None, 2.0) is None and figures.relative_change(2.0, None) is None


@pytest.mark.parametrize(
    ("value", "shown"),
    [(0, "0 ms"), (0.05234, "0.0523 ms"), (0.5234, "0.523 ms"), (4.2134, "4.21 ms"), (20.0, "20 ms"), (31.25, "31.2 ms"),
     (312.575, "313 ms"), (1234.4, "1,234 ms"), (99_999.4, "99,999 ms"), (-3.2, "-3.2 ms")],
)
def test_milliseconds_have_three_significant_digits(value: float, shown: str) -> None:
    assert figures.ms(value) == shown


@pytest.mark.parametrize(
    ("fmt", "value", "shown"),
    [
        (figures.per_second_text, 401.66, "401.7 req/s"), (figures.per_second_text, 395.0, "395 req/s"),
        (figures.per_second_text, 1234.56, "1,234.6 req/s"), (figures.per_second_text, 0.3, "0.3 req/s"),
        (figures.percent, 0.0005, "0.05 %"), (figures.percent, 0.001, "0.1 %"), (figures.percent, 1 / 3, "33.3 %"),
        (figures.percent, 1.0, "100 %"), (figures.percent, 0.0, "0 %"),
        (figures.change, 0.38, "+38 %"), (figures.change, 0.0253, "+2.53 %"), (figures.change, -0.025, "-2.5 %"),
        (figures.change, 0.0, "0 %"), (figures.change, -1e-9, "-0.0000001 %"),
        (figures.duration, 0.757, "0.76 s"), (figures.duration, 32.1, "32.1 s"), (figures.duration, 59.96, "1 min 00 s"),
        (figures.duration, 185, "3 min 05 s"), (figures.duration, 3599.6, "1 h 00 min"), (figures.duration, 3725, "1 h 02 min"),
        (figures.size, 512, "512 B"), (figures.size, 1536, "1.5 KiB"), (figures.size, 4.21 * 1024**2, "4.21 MiB"),
        (figures.size, 1.1 * 1024**3, "1.1 GiB"),
        (figures.count, 12050, "12,050"), (figures.count, 3.0, "3"),
        (figures.number, 0.9555555, "0.9556"), (figures.number, 105.0, "105"), (figures.number, 123.456, "123.5"),
        (figures.number, 2.5, "2.5"), (figures.number, 100_000, "100,000"),
    ],
)
def test_one_rule_per_kind(fmt: object, value: float, shown: str) -> None:
    assert fmt(value) == shown  # type: ignore[operator]


@pytest.mark.parametrize("missing", [None, math.nan, math.inf, "fast", True, [1]])
def test_a_missing_figure_is_a_dash_everywhere(missing: object) -> None:
    for fmt in (figures.ms, figures.per_second_text, figures.percent, figures.change, figures.duration, figures.size, figures.count, figures.number):
        assert fmt(missing) == figures.DASH, fmt


def test_with_unit_picks_the_rule_of_the_unit() -> None:
    assert [figures.with_unit(0.002, u) for u in ("ratio", "ms", "req/s", "count", "")] == ["0.2 %", "0.002 ms", "0 req/s", "0", "0.002"]
    assert figures.with_unit(75.5, "s") == "1 min 16 s" and figures.with_unit(2048, "bytes") == "2 KiB"


def test_versus_adds_digits_until_different_numbers_look_different() -> None:
    assert figures.versus("ms", 100.03, 100) == ("100.03 ms", "100 ms")
    assert figures.versus("ms", 312.4, 100) == ("312 ms", "100 ms")
    assert figures.versus("ms", 100.0, 100) == ("100 ms", "100 ms"), "equal numbers stay as they are"
    assert figures.versus("ratio", 0.0010004, 0.001) == ("0.10004 %", "0.1 %")
    assert figures.versus("req/s", 9.96, 10) == ("9.96 req/s", "10 req/s")
    assert figures.versus("ms", None, 100) == ("—", "100 ms")


def test_the_module_examples_hold() -> None:
    result = doctest.testmod(figures)
    assert result.attempted >= 2 and result.failed == 0
