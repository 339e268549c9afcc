"""The benchmark table's arithmetic: ratios, targets and noise."""

import pytest

from bench.harness import Row, Timing, measure_side_by_side, render_row


def test_a_max_target_is_met_at_or_below_the_ratio():
    assert Row("deep page", 12.0, 10.0, "ms", target=1.2).met is True
    assert Row("deep page", 12.1, 10.0, "ms", target=1.2).met is False


def test_a_min_target_is_met_at_or_above_the_ratio():
    row = Row("export", 69.0, 100.0, "rows/s", target=0.7, direction="min")

    assert row.ratio == pytest.approx(0.69)
    assert row.met is False


def test_a_row_without_a_target_is_shown_for_comparison_only():
    row = Row("per-row loop", 200.0, 10.0, "s", target=None)

    assert row.met is True
    assert "| — | — |" in render_row(row)


def test_runs_that_disagree_are_reported_as_noisy():
    steady = Timing(median=1.0, runs=[0.99, 1.0, 1.0, 1.01, 1.0])
    scattered = Timing(median=1.0, runs=[0.5, 1.0, 1.0, 1.6, 2.0])

    assert steady.noisy is False
    assert scattered.noisy is True


def test_three_runs_are_judged_by_their_whole_range():
    # The longer benchmarks take three runs, too few for quartiles.
    steady = Timing.of([1.0, 1.05, 0.97])
    scattered = Timing.of([0.31, 0.41, 0.47])

    assert steady.median == 1.0
    assert steady.noisy is False
    assert scattered.median == 0.41
    assert scattered.noisy is True


def test_one_run_has_no_spread_to_report():
    assert Timing.of([2.0]).noisy is False


def test_side_by_side_takes_turns_after_a_warm_up_of_each():
    calls = []
    first, second = measure_side_by_side(
        [lambda: calls.append("first"), lambda: calls.append("second")], runs=3
    )

    assert calls == ["first", "second"] * 4
    assert len(first.runs) == len(second.runs) == 3
