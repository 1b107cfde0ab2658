"""Chart series: smoothing, bucketing and windows, checked against plain arithmetic."""

import math

import pytest

from l4tui.runs.series import downsample, ema, gaps_of, last_steps


def test_ema_is_debiased_and_zero_beta_is_the_raw_values():
    assert ema([2.0, 2.0, 2.0], 0.9) == pytest.approx([2.0, 2.0, 2.0])  # no pull towards 0 at the start
    # step 1: 0.5*0 + 0.5*1 = 0.5, debiased /(1-0.5) = 1; step 2: 0.5*0.5 + 0.5*3 = 1.75, /(1-0.25)
    assert ema([1.0, 3.0], 0.5) == pytest.approx([1.0, 1.75 / 0.75])
    assert ema([1.0, 3.0], 0.0) == [1.0, 3.0]


def test_ema_over_uneven_gaps_equals_the_ema_over_every_step():
    # Steps 1..10 with values v; logged only at steps 2, 5 and 10 as the mean of the steps since.
    # With a constant value per logged stretch, the gapped EMA must equal the per-step EMA.
    per_step = [1.0, 1.0, 2.0, 2.0, 2.0, 0.5, 0.5, 0.5, 0.5, 0.5]
    full = ema(per_step, 0.9)
    iterations = [2, 5, 10]
    gapped = ema([1.0, 2.0, 0.5], 0.9, gaps_of(iterations))
    assert gaps_of(iterations) == [2, 3, 5]
    assert gapped == pytest.approx([full[1], full[4], full[9]])


def test_downsample_keeps_short_series_and_buckets_long_ones_by_mean():
    xs = list(range(10))
    assert downsample(xs, xs, 20) == (xs, xs)
    out_x, out_y = downsample(xs, [float(x * 2) for x in xs], 5)
    assert out_x == [0.5, 2.5, 4.5, 6.5, 8.5] and out_y == [1.0, 5.0, 9.0, 13.0, 17.0]
    big_x = list(range(100_000))
    out_x, _ = downsample(big_x, big_x, 300)
    assert len(out_x) == 300 and out_x[0] < out_x[-1]


def test_last_steps_keeps_the_window_at_the_end():
    points = [(i, float(i)) for i in range(0, 1000, 10)]
    assert last_steps(points, None) == points
    assert last_steps(points, 50) == [(i, float(i)) for i in range(940, 1000, 10)]
    assert last_steps([], 5) == []


def test_log_ticks_label_1_2_5_within_a_decade_and_thin_out_many_decades():
    from l4tui.runs.series import log_ticks

    ticks, labels = log_ticks(0.0, 1.0)  # 1 .. 10
    assert labels == ["1", "2", "5", "10"]
    assert ticks == pytest.approx([0.0, math.log10(2), math.log10(5), 1.0])
    ticks, labels = log_ticks(-7.0, 1.0)  # 1e-7 .. 10: decades only, at most 6
    assert len(ticks) <= 6 and all(t == round(t) for t in ticks) and labels[0] == "1e-07"
    ticks, labels = log_ticks(0.1, 0.2)  # inside one step: the two ends
    assert ticks == [0.1, 0.2] and labels == ["1.26", "1.58"]


def test_log10_all_and_all_positive():
    from l4tui.runs.series import all_positive, log10_all

    assert log10_all([1.0, 100.0, 0.001]) == pytest.approx([0.0, 2.0, -3.0])
    assert log10_all([]) == []
    assert all_positive([1e-30, 2.0]) and all_positive([])
    assert not all_positive([1.0, 0.0]) and not all_positive([-1.0])
