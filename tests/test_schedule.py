import pytest

from l4tui.train.schedule import one_cycle


def test_one_cycle_warms_up_then_anneals():
    lr_max = 5e-3
    assert one_cycle(0.0, lr_max) == pytest.approx((lr_max / 25, 0.95))
    assert one_cycle(0.25, lr_max) == pytest.approx((lr_max, 0.85))
    assert one_cycle(1.0, lr_max) == pytest.approx((lr_max / 1e5, 0.95))
    lrs = [one_cycle(i / 100, lr_max)[0] for i in range(101)]
    peak = lrs.index(max(lrs))
    assert all(a <= b for a, b in zip(lrs[:peak], lrs[1:peak + 1]))
    assert all(a >= b for a, b in zip(lrs[peak:], lrs[peak + 1:]))
