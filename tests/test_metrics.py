"""Metrics: Spearman against scipy, invariances, protocols, bootstrap, bad inputs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from scipy import stats

from repro.core.maze import bfs_distances_batch, free_cells
from repro.core.metrics import (
    QUANTILE_PROBS,
    all_pairs_spearman,
    bootstrap_mean_ci,
    is_constant,
    mixture_cdf,
    mixture_quantile,
    paper_protocol_indices,
    protocol_draws,
    quantile_table,
    spearman,
    trajectory_spearman,
)
from repro.errors import BadInput
from strategies import mazes, seeds

# Integers from a small range: many ties, and exact under the transforms below.
small_ints = st.integers(-5, 5)


@st.composite
def paired_vectors(draw, min_size: int = 2, max_size: int = 40):
    n = draw(st.integers(min_size, max_size))
    a = draw(st.lists(small_ints, min_size=n, max_size=n))
    b = draw(st.lists(small_ints, min_size=n, max_size=n))
    return np.array(a, dtype=np.float64), np.array(b, dtype=np.float64)


INCREASING = {
    "exp": np.exp,
    "cubic": lambda x: x**3 + x,
    "affine": lambda x: 2 * x + 5,
}


@given(paired_vectors())
def test_spearman_matches_scipy(ab):
    a, b = ab
    rho = spearman(a, b)
    assert isinstance(rho, float) and -1.0 <= rho <= 1.0
    if is_constant(a) or is_constant(b):
        assert rho == 0.0
    else:
        assert rho == pytest.approx(stats.spearmanr(a, b).statistic, abs=1e-12)


@given(paired_vectors(), st.sampled_from(sorted(INCREASING)), st.booleans())
def test_spearman_invariant_under_increasing_maps(ab, name, which):
    a, b = ab
    f = INCREASING[name]
    before = spearman(a, b)
    after = spearman(f(a), b) if which else spearman(a, f(b))
    assert after == pytest.approx(before, abs=1e-12)
    # A decreasing map flips the sign.
    assert spearman(-a, b) == pytest.approx(-before, abs=1e-12)


@given(st.integers(1, 30), st.floats(-1e6, 1e6))
def test_spearman_constant_is_zero(n, c):
    const = np.full(n, c)
    other = np.arange(n, dtype=float)
    assert spearman(const, other) == 0.0
    assert spearman(other, const) == 0.0
    assert is_constant(const)


def test_spearman_by_hand():
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    # Ranks with ties: [1, 2.5, 2.5, 4] vs [1, 2, 3, 4] -> rho = 4.5 / sqrt(4.5 * 5).
    assert spearman([0, 1, 1, 2], [0, 1, 2, 3]) == pytest.approx(4.5 / np.sqrt(4.5 * 5))
    assert spearman([3.0], [1.0]) == 0.0  # too short
    assert not is_constant([1, 1, 2]) and is_constant([7]) and is_constant([])


@pytest.mark.parametrize(
    ("pred", "true", "match"),
    [
        (np.zeros((2, 2)), np.zeros((2, 2)), "pred must be 1D"),
        ([1, 2, 3], [[1, 2, 3]], "true must be 1D"),
        ([1, 2, 3], [1, 2], "equal lengths"),
        ([1, np.nan, 3], [1, 2, 3], "pred must be finite"),
        ([1, 2, 3], [1, np.inf, 3], "true must be finite"),
        (["a", "b"], [1, 2], "pred must be real-valued"),
    ],
)
def test_spearman_bad_inputs(pred, true, match):
    with pytest.raises(ValueError, match=match):
        spearman(pred, true)


def test_trajectory_spearman():
    perfect = np.arange(6, dtype=float)[::-1] * 3.0 + 1  # decreasing in t, like T - t
    reversed_ = np.arange(4, dtype=float)
    constant = np.full(5, 2.0)
    noisy = np.array([5.0, 5.0, 3.0, 4.0, 0.0])
    rho, n_const = trajectory_spearman([perfect, reversed_, constant, noisy], [5, 3, 4, 4])
    assert n_const == 1
    np.testing.assert_allclose(rho[:3], [1.0, -1.0, 0.0])
    assert rho[3] == pytest.approx(stats.spearmanr(noisy, [4, 3, 2, 1, 0]).statistic)
    assert rho.dtype == np.float64 and rho.shape == (4,)
    # Lengths are optional and, when given, must agree with the predictions.
    np.testing.assert_array_equal(trajectory_spearman([perfect, noisy])[0], rho[[0, 3]])
    with pytest.raises(ValueError, match="lengths"):
        trajectory_spearman([perfect], [4])
    with pytest.raises(ValueError, match="lengths"):
        trajectory_spearman([perfect], [5, 5])


@given(seeds, st.integers(10, 200))
def test_paper_protocol_indices(seed, n):
    idx = paper_protocol_indices(n, np.random.default_rng(seed))
    again = paper_protocol_indices(n, np.random.default_rng(seed))
    np.testing.assert_array_equal(idx, again)  # reproducible from the seed alone
    assert idx.shape == (10,) and idx.dtype == np.int64
    assert len(set(idx.tolist())) == 10 and idx.min() >= 0 and idx.max() < n


def test_paper_protocol_indices_bad():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="exceeds"):
        paper_protocol_indices(5, rng)
    with pytest.raises(ValueError, match="n_trajectories"):
        paper_protocol_indices(0, rng, k=1)


@given(seeds, st.lists(st.floats(-1, 1), min_size=2, max_size=50))
def test_bootstrap_mean_ci(seed, values):
    mean, low, high = bootstrap_mean_ci(values, np.random.default_rng(seed), n_resamples=200)
    assert np.isfinite([mean, low, high]).all()
    assert low <= mean <= high
    assert mean == pytest.approx(np.mean(values))
    again = bootstrap_mean_ci(values, np.random.default_rng(seed), n_resamples=200)
    assert again == (mean, low, high)


def test_bootstrap_mean_ci_degenerate():
    rng = np.random.default_rng(0)
    assert bootstrap_mean_ci([0.3], rng) == (0.3, 0.3, 0.3)
    assert bootstrap_mean_ci([0.5, 0.5, 0.5], rng) == (0.5, 0.5, 0.5)
    with pytest.raises(ValueError, match="values"):
        bootstrap_mean_ci([], rng)
    with pytest.raises(ValueError, match="values must be finite"):
        bootstrap_mean_ci([0.1, np.nan], rng)
    with pytest.raises(ValueError, match="confidence"):
        bootstrap_mean_ci([0.1, 0.2], rng, confidence=1.5)


def test_bootstrap_interval_narrows_with_more_data():
    rng = np.random.default_rng(1)
    x = rng.normal(size=2000)
    _, lo_small, hi_small = bootstrap_mean_ci(x[:20], np.random.default_rng(2))
    _, lo_big, hi_big = bootstrap_mean_ci(x, np.random.default_rng(2))
    assert hi_big - lo_big < hi_small - lo_small


@given(mazes(min_size=5, max_size=15), seeds)
def test_all_pairs_spearman(walls, seed):
    rng = np.random.default_rng(seed)
    fc = free_cells(walls)
    goals = fc[rng.choice(len(fc), size=3)]
    true = bfs_distances_batch(np.broadcast_to(walls, (3, *walls.shape)), goals).astype(float)
    true[true < 0] = np.inf  # walls: ignored
    # A strictly increasing transform of the truth ranks identically.
    pred = np.where(np.isinf(true), np.nan, np.sqrt(np.where(np.isinf(true), 0, true)) * 7 + 1)
    assume(not is_constant(true[:, ~walls].ravel()))
    assert all_pairs_spearman(pred, true, walls) == pytest.approx(1.0)
    # Pooled over goals: the same as one Spearman over the concatenated free cells.
    noisy = true + rng.normal(size=true.shape)
    expected = spearman(
        np.concatenate([noisy[g][~walls] for g in range(3)]),
        np.concatenate([true[g][~walls] for g in range(3)]),
    )
    assert all_pairs_spearman(noisy, true, walls) == pytest.approx(expected)
    per_goal_walls = np.broadcast_to(walls, true.shape)
    assert all_pairs_spearman(noisy, true, per_goal_walls) == pytest.approx(expected)


def test_all_pairs_spearman_bad_inputs():
    walls = np.zeros((4, 4), dtype=bool)
    with pytest.raises(ValueError, match="pred_map and true_map"):
        all_pairs_spearman(np.zeros((2, 4, 4)), np.zeros((3, 4, 4)), walls)
    with pytest.raises(ValueError, match="walls"):
        all_pairs_spearman(np.zeros((2, 4, 4)), np.zeros((2, 4, 4)), np.zeros((5, 5), bool))
    with pytest.raises(ValueError, match="walls must have dtype bool"):
        all_pairs_spearman(np.zeros((2, 4, 4)), np.zeros((2, 4, 4)), walls.astype(int))
    # Single-goal maps are accepted.
    m = np.arange(16.0).reshape(4, 4)
    assert all_pairs_spearman(m, m, walls) == pytest.approx(1.0)


def test_field_roughness_reference_points():
    from repro.core.maze import bfs_distances, generate_maze
    from repro.core.metrics import field_roughness

    walls = generate_maze(11, np.random.default_rng(0))
    bfs = bfs_distances(walls, (0, 0)).astype(float)
    bfs[walls] = np.inf
    w = walls[None]
    assert field_roughness(bfs[None], bfs[None], w) == pytest.approx(0.0)
    # Units do not matter: an affine image of the truth is as smooth as the truth.
    assert field_roughness((3 * bfs + 7)[None], bfs[None], w) == pytest.approx(0.0, abs=1e-9)
    assert field_roughness(np.zeros_like(bfs)[None], bfs[None], w) == pytest.approx(1.0)
    # Blocky: distances rounded to multiples of 4 are rougher than the truth.
    blocky = np.where(walls, np.inf, np.floor(np.where(walls, 0, bfs) / 4) * 4)
    assert field_roughness(blocky[None], bfs[None], w) > 0.3


# --------------------------------------------------------------------------- protocol noise


def test_protocol_draws_pick_k_distinct_values():
    # Powers of two: a draw's sum names its subset, so its popcount counts distinct picks.
    values = 2.0 ** np.arange(12)
    draws = protocol_draws(values, 4, 500, np.random.default_rng(0))
    sums = np.rint(draws * 4).astype(np.int64)
    assert draws.shape == (500,) and draws.dtype == np.float64
    assert all(bin(int(s)).count("1") == 4 for s in sums)
    # Every value is picked about k / n of the time (uniform subsets).
    picked = np.array([[(int(s) >> i) & 1 for i in range(12)] for s in sums])
    assert np.allclose(picked.mean(axis=0), 4 / 12, atol=0.08)


def test_protocol_draws_edge_cases():
    v = np.array([0.2, 0.4, 0.9])
    np.testing.assert_allclose(protocol_draws(v, 3, 5, np.random.default_rng(1)), v.mean())
    a = protocol_draws(v, 1, 50, np.random.default_rng(2))
    b = protocol_draws(v, 1, 50, np.random.default_rng(2))
    np.testing.assert_array_equal(a, b)  # the generator is the only randomness
    assert set(np.round(a, 6)) <= {0.2, 0.4, 0.9}
    with pytest.raises(ValueError, match="exceeds"):
        protocol_draws(v, 4, 10, np.random.default_rng(0))
    with pytest.raises(ValueError, match="n_draws"):
        protocol_draws(v, 1, 0, np.random.default_rng(0))


def test_quantile_table_and_mixture_by_hand():
    a = quantile_table(np.linspace(0.0, 1.0, 1001))  # uniform on [0, 1]
    b = quantile_table(np.linspace(1.0, 2.0, 1001))  # uniform on [1, 2]
    assert a.shape == (101,) and a[0] == 0.0 and a[-1] == 1.0
    np.testing.assert_allclose(a, QUANTILE_PROBS, atol=1e-12)
    assert mixture_cdf(a, 0.25) == pytest.approx(0.25)
    assert mixture_cdf(a, -1.0) == 0.0 and mixture_cdf(a, 5.0) == 1.0
    # The even mixture is uniform on [0, 2]: F(1) = 1/2, F(1.5) = 3/4.
    assert mixture_cdf([a, b], 1.0) == pytest.approx(0.5, abs=1e-9)
    assert mixture_cdf([a, b], 1.5) == pytest.approx(0.75)
    assert mixture_quantile([a, b], 0.75) == pytest.approx(1.5, abs=1e-6)
    assert mixture_quantile([a, b], 0.05) == pytest.approx(0.1, abs=1e-6)


@given(st.lists(st.floats(-1, 1), min_size=2, max_size=40), st.floats(0.01, 0.99))
def test_mixture_quantile_inverts_the_cdf(xs, p):
    t = quantile_table(np.array(xs))
    q = mixture_quantile(t, p)
    assert mixture_cdf(t, q) >= p - 1e-9
    assert mixture_cdf(t, q - 1e-6) <= p + 1e-9 or q - 1e-6 < t[0]


# ---------------------------------------------------------------------------- order, intervals


def test_order_violations_by_hand():
    from repro.core.metrics import order_violations

    # A 1x3 corridor in a 3x3 grid (row 0 free), goal at (0, 2): truth 2, 1, 0.
    walls = np.ones((1, 3, 3), dtype=bool)
    walls[0, 0] = False
    true = np.array([[[2.0, 1.0, 0.0], [9, 9, 9], [9, 9, 9]]])
    assert order_violations(true, true, walls) == 0.0
    assert order_violations(np.exp(true), true, walls) == 0.0  # monotone: no violation
    assert order_violations(np.zeros_like(true), true, walls) == 0.5  # ties count half
    wrong = np.array([[[1.0, 2.0, 0.0], [0, 0, 0], [0, 0, 0]]])  # the first pair reversed
    assert order_violations(wrong, true, walls) == 0.5  # 1 of 2 pairs
    nan_walls = np.where(walls, np.nan, true)
    assert order_violations(nan_walls, true, walls) == 0.0  # wall values are never read


def _slow_hierarchical(groups, rng, n_resamples, confidence=0.95):
    """Reference: the two-level bootstrap written as loops (same draw order)."""
    k = len(groups)
    picks = rng.integers(k, size=(n_resamples, k))
    means = np.empty((n_resamples, k))
    for i, g in enumerate(groups):
        slots = np.argwhere(picks == i)
        draws = rng.integers(len(g), size=(len(slots), len(g)))
        for (r, j), d in zip(slots, draws, strict=True):
            means[r, j] = np.mean(np.asarray(g)[d])
    stats = means.mean(axis=1)
    a = (1 - confidence) / 2
    return np.quantile(stats, [a, 1 - a])


def test_hierarchical_bootstrap_matches_a_loop_reference_and_holds_the_seed_spread():
    from repro.core.metrics import bootstrap_mean_ci, hierarchical_bootstrap_ci

    rng = np.random.default_rng(0)
    groups = [rng.normal(m, 0.3, 200) for m in (0.24, 0.11, 0.20)]
    mean, low, high = hierarchical_bootstrap_ci(groups, np.random.default_rng(7), n_resamples=500)
    ref = _slow_hierarchical(groups, np.random.default_rng(7), 500)
    assert mean == pytest.approx(np.mean([g.mean() for g in groups]))
    assert (low, high) == pytest.approx(tuple(ref))
    # Seeds that disagree widen the interval far past the pooled within-run one.
    _, plow, phigh = bootstrap_mean_ci(np.concatenate(groups), np.random.default_rng(7))
    assert high - low > 2 * (phigh - plow)
    # Seeds that agree: about the pooled width.
    same = [rng.normal(0.2, 0.3, 200) for _ in range(3)]
    _, slow_, shigh = hierarchical_bootstrap_ci(same, np.random.default_rng(1), n_resamples=500)
    assert shigh - slow_ < 2 * (phigh - plow)


def test_hierarchical_bootstrap_edge_cases():
    from repro.core.metrics import hierarchical_bootstrap_ci

    one = hierarchical_bootstrap_ci([np.array([0.5, 0.5])], np.random.default_rng(0))
    assert one == (0.5, 0.5, 0.5)
    with pytest.raises(BadInput):
        hierarchical_bootstrap_ci([], np.random.default_rng(0))
    with pytest.raises(BadInput):
        hierarchical_bootstrap_ci([np.array([np.nan])], np.random.default_rng(0))
