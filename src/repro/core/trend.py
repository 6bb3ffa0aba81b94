"""Does a logged loss still fall, beyond the noise of its own curve?

Pure numpy. :func:`repro.core.metrics.loss_improvement` compares the mean loss of two
windows of logged rows, the last 5% up to 75% of training and the last 5% (15k and 20k
steps at paper scale). A logged loss jitters from row to row (each row is a minibatch
estimate), so a small change between the windows can be that jitter alone. This module
gives the windows (:func:`loss_windows`) and the standard error of the change between
their means (:func:`improvement_noise`), on the scale of ``loss_improvement``.

The row-to-row noise is read from first differences, which cancel a slow trend: for rows
``x_t = m_t + e_t`` with independent noise of standard deviation ``s`` and a mean ``m``
that barely moves within a window, the root mean square of ``diff(x)`` is ``s * sqrt(2)``.
"""

from __future__ import annotations

import numpy as np

from repro.errors import BadInput


def loss_windows(steps) -> tuple[slice, slice]:
    """The rows of the two windows: (before, end), each the last 5% of the rows (at least
    one), up to 75% of the last step (the first row if none is) and up to the end.

    steps: real (k,), the logged steps in increasing order, k >= 1.
    """
    s = np.asarray(steps, dtype=np.float64)
    if s.ndim != 1 or s.size == 0:
        raise BadInput(f"steps must be a non-empty 1-D sequence, got shape {s.shape}")
    w = max(1, int(round(0.05 * s.size)))
    at = max(1, int(np.searchsorted(s, 0.75 * s[-1], side="right")))
    return slice(max(0, at - w), at), slice(s.size - w, s.size)


def _mean_se(x: np.ndarray) -> float:
    """The standard error of the mean of ``x``, its row-to-row noise from the root mean
    square of its first differences over sqrt(2) (0 for a single row)."""
    if x.size < 2:
        return 0.0
    noise = float(np.sqrt(np.mean(np.diff(x) ** 2) / 2.0))
    return noise / float(np.sqrt(x.size))


def improvement_noise(steps, losses) -> float:
    """The standard error of ``loss_improvement(steps, losses)`` from the curve's row-to-row
    noise: ``sqrt(se_before^2 + se_end^2) / |mean before|`` (float >= 0; 0.0 where the mean
    before is 0, as loss_improvement is then 0). BadInput for non-1D, empty,
    unequal-length or non-finite input.

    steps, losses: real (k,), one run's logged steps (increasing) and losses.
    """
    s = np.asarray(steps, dtype=np.float64)
    x = np.asarray(losses, dtype=np.float64)
    if s.ndim != 1 or x.ndim != 1 or s.shape != x.shape or s.size == 0:
        raise BadInput(
            f"steps and losses must be non-empty 1-D and of equal length, got shapes "
            f"{s.shape} and {x.shape}"
        )
    if not (np.isfinite(s).all() and np.isfinite(x).all()):
        raise BadInput("steps and losses must be finite")
    before, end = loss_windows(s)
    level = abs(float(x[before].mean()))
    if level == 0:
        return 0.0
    return float(np.hypot(_mean_se(x[before]), _mean_se(x[end]))) / level
