"""The noise of a loss curve's late change (repro.core.trend): hand cases, the windows
loss_improvement uses, and a simulation that the standard error is the spread of the
change itself."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from repro.core.metrics import loss_improvement
from repro.core.trend import improvement_noise, loss_windows
from repro.errors import BadInput

STEPS = np.arange(100.0, 20001.0, 100.0)  # 200 rows, as at paper scale: windows of 10


def test_windows_by_hand():
    before, end = loss_windows(STEPS)
    assert (before.start, before.stop) == (140, 150)  # steps 14,100 .. 15,000
    assert (end.start, end.stop) == (190, 200)  # steps 19,100 .. 20,000
    assert loss_windows([5.0]) == (slice(0, 1), slice(0, 1))  # one row: both windows


@given(st.lists(st.floats(0.1, 10.0), min_size=1, max_size=300))
def test_the_windows_are_those_of_loss_improvement(losses):
    x = np.array(losses)
    steps = np.arange(1.0, x.size + 1)
    before, end = loss_windows(steps)
    b, e = x[before].mean(), x[end].mean()
    assert loss_improvement(steps, x) == pytest.approx((b - e) / b, rel=1e-9, abs=1e-12)


def test_noise_by_hand():
    assert improvement_noise(STEPS, np.full(200, 3.0)) == 0.0  # no jitter
    assert improvement_noise(STEPS, np.linspace(2.0, 1.0, 200)) == pytest.approx(
        np.hypot(1 / 199, 1 / 199)
        / np.sqrt(2)
        / np.sqrt(10)
        / np.linspace(2.0, 1.0, 200)[140:150].mean()
    )  # a straight line: its differences are its slope, read as noise (an upper bound)
    jitter = 10.0 + (-1.0) ** np.arange(200)  # 9, 11, 9, ...: differences of +-2
    # row noise 2 / sqrt(2); each window's mean has se sqrt(2) / sqrt(10); both: 2 / sqrt(10)
    assert improvement_noise(STEPS, jitter) == pytest.approx(2 / np.sqrt(10) / 10.0)
    assert improvement_noise(STEPS, np.zeros(200)) == 0.0  # as loss_improvement: no level


def test_the_standard_error_is_the_spread_of_the_change():
    """Measured a second way: over many curves of independent noise, the spread of
    loss_improvement itself matches the standard error each curve estimates alone."""
    rng = np.random.default_rng(0)
    curves = 2.0 + 0.1 * rng.standard_normal((4000, 200))
    changes = np.array([loss_improvement(STEPS, c) for c in curves])
    estimates = np.array([improvement_noise(STEPS, c) for c in curves])
    assert estimates.mean() == pytest.approx(changes.std(), rel=0.05)
    assert changes.std() == pytest.approx(np.sqrt(2 * 0.1**2 / 10) / 2.0, rel=0.05)


@pytest.mark.parametrize(
    ("steps", "losses"),
    [([], []), ([1.0, 2.0], [1.0]), ([1.0], [np.nan]), ([[1.0]], [[1.0]])],
)
def test_bad_input_is_refused(steps, losses):
    with pytest.raises(BadInput):
        improvement_noise(steps, losses)
