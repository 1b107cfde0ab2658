"""fastai's one-cycle schedule (Leslie Smith's 1cycle, as `fit_one_cycle` runs it).

The learning rate warms up from lr_max/div to lr_max over the first `pct_start` of training, then
anneals (cosine) down to lr_max/div_final. Momentum moves the other way: high while the lr is low.
"""

import math


def cos_anneal(start: float, end: float, pct: float) -> float:
    return end + (start - end) / 2 * (1 + math.cos(math.pi * pct))


def one_cycle(pct: float, lr_max: float, div: float = 25.0, div_final: float = 1e5,
              pct_start: float = 0.25, moms=(0.95, 0.85, 0.95)) -> tuple[float, float]:
    """(lr, momentum) at `pct` of the way through training (0 <= pct <= 1)."""
    pct = min(max(pct, 0.0), 1.0)
    if pct < pct_start:
        phase = pct / pct_start
        return (cos_anneal(lr_max / div, lr_max, phase), cos_anneal(moms[0], moms[1], phase))
    phase = (pct - pct_start) / (1 - pct_start)
    return (cos_anneal(lr_max, lr_max / div_final, phase), cos_anneal(moms[1], moms[2], phase))
