"""Rank-correlation metrics and confidence intervals (numpy + scipy).

The Spearman protocol (DESIGN, "Spearman"): per test trajectory, correlate the
predicted ``d(s_t, s_T)`` with the remaining steps ``T - t``, so a good model
scores near +1. A constant prediction has no rank correlation: it counts as 0
and callers report how many there were. Randomness comes only from
``np.random.Generator`` objects passed in; nothing here touches a global RNG.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np

from repro.errors import BadInput


def _check_vector(x, name: str) -> np.ndarray:
    arr = np.asarray(x)
    if arr.ndim != 1:
        raise BadInput(f"{name} must be 1D, got shape {arr.shape}")
    if arr.dtype == np.bool_ or not (
        np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)
    ):
        raise BadInput(f"{name} must be real-valued, got dtype {arr.dtype}")
    arr = arr.astype(np.float64, copy=False)
    if not np.isfinite(arr).all():
        raise BadInput(f"{name} must be finite (no NaN or inf)")
    return arr


def is_constant(x) -> bool:
    """True if ``x`` (1D) has fewer than two values or all its values are equal.

    Exact equality on purpose: ranks only see order, so values that differ by
    any amount are not tied.
    """
    arr = np.asarray(x).ravel()
    return bool(arr.size < 2 or (arr == arr[0]).all())


def spearman(pred, true) -> float:
    """Spearman rank correlation of two equal-length 1D real arrays (float in [-1, 1]).

    Built on :func:`scipy.stats.spearmanr` (ties get average ranks). If either
    input is constant or shorter than 2 the correlation is undefined; this
    returns 0.0 instead of NaN. ValueError for non-1D, unequal lengths or
    non-finite values.
    """
    p = _check_vector(pred, "pred")
    t = _check_vector(true, "true")
    if p.shape != t.shape:
        raise BadInput(f"pred and true must have equal lengths, got {len(p)} and {len(t)}")
    if is_constant(p) or is_constant(t):
        return 0.0
    from scipy import stats  # about 1 s to import: only where a number is computed

    rho = float(stats.spearmanr(p, t).statistic)
    # Rounding can push a perfect correlation a hair past 1.
    return float(np.clip(rho, -1.0, 1.0))


def trajectory_spearman(
    preds: Sequence[np.ndarray], lengths: Sequence[int] | np.ndarray | None = None
) -> tuple[np.ndarray, int]:
    """Per-trajectory Spearman of predicted distance against remaining steps.

    preds: one float array per trajectory, ``(T + 1,)`` holding the predicted
    ``d(s_t, s_T)`` for ``t = 0 .. T``; lengths: optional int ``(n,)`` of the
    ``T`` values, checked against the predictions. The target is ``T - t``.
    Returns ``(rho, n_constant)``: float64 ``(n,)`` correlations (0 for a
    constant prediction) and how many predictions were constant.
    """
    if lengths is not None:
        lengths = np.asarray(lengths)
        if lengths.shape != (len(preds),):
            raise BadInput(
                f"lengths must have one entry per trajectory ({len(preds)}), "
                f"got shape {lengths.shape}"
            )
    rho = np.zeros(len(preds), dtype=np.float64)
    n_constant = 0
    for i, pred in enumerate(preds):
        p = _check_vector(pred, f"preds[{i}]")
        if lengths is not None and len(p) != int(lengths[i]) + 1:
            raise BadInput(
                f"preds[{i}] has {len(p)} values but lengths[{i}] = {int(lengths[i])} "
                f"needs {int(lengths[i]) + 1}"
            )
        n_constant += is_constant(p)
        remaining = np.arange(len(p) - 1, -1, -1, dtype=np.float64)  # T - t
        rho[i] = spearman(p, remaining)
    return rho, n_constant


def paper_protocol_indices(
    n_trajectories: int, rng: np.random.Generator, k: int = 10
) -> np.ndarray:
    """The paper's protocol: ``k`` distinct trajectory indices drawn by ``rng``.

    Returns int64 ``(k,)`` in draw order; ValueError if ``k > n_trajectories``.
    """
    for name, v in (("n_trajectories", n_trajectories), ("k", k)):
        if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1:
            raise BadInput(f"{name} must be an integer >= 1, got {v!r}")
    if k > n_trajectories:
        raise BadInput(f"k = {k} exceeds n_trajectories = {n_trajectories}")
    return rng.choice(int(n_trajectories), size=int(k), replace=False).astype(np.int64)


QUANTILE_PROBS = np.linspace(0.0, 1.0, 101)  # the levels of a quantile table: 0%, 1%, ..., 100%


def protocol_draws(values, k: int, n_draws: int, rng: np.random.Generator) -> np.ndarray:
    """Means of ``k`` distinct entries of ``values``, over ``n_draws`` random draws.

    How much a protocol that averages ``k`` of ``n`` per-trajectory scores moves by
    the choice of trajectories alone (the paper's: ``k = 10``). Each draw is a
    uniform random ``k``-subset: the ``k`` smallest of ``n`` iid uniforms.
    values: float (n,), finite; returns float64 (n_draws,).
    """
    v = _check_vector(values, "values")
    for name, x in (("k", k), ("n_draws", n_draws)):
        if isinstance(x, bool) or not isinstance(x, int | np.integer) or x < 1:
            raise BadInput(f"{name} must be an integer >= 1, got {x!r}")
    if k > v.size:
        raise BadInput(f"k = {k} exceeds the {v.size} values")
    out = np.empty(int(n_draws), dtype=np.float64)
    chunk = max(1, 2_000_000 // v.size)  # bound the (chunk, n) uniforms' memory
    for lo in range(0, int(n_draws), chunk):
        m = min(chunk, int(n_draws) - lo)
        picks = np.argpartition(rng.random((m, v.size)), k - 1, axis=1)[:, :k]  # (m, k)
        out[lo : lo + m] = v[picks].mean(axis=1)
    return out


def quantile_table(x) -> np.ndarray:
    """Quantiles of ``x`` (1D finite floats) at :data:`QUANTILE_PROBS`: float64 (101,)."""
    v = _check_vector(x, "x")
    if v.size == 0:
        raise BadInput("x must not be empty")
    return np.quantile(v, QUANTILE_PROBS)


def mixture_cdf(tables, value: float) -> float:
    """P(X <= value) for X drawn from an equal mixture of distributions given by quantile
    tables (float (m, 101), rows non-decreasing), each read as piecewise linear."""
    t = np.atleast_2d(np.asarray(tables, dtype=np.float64))
    per = [_table_cdf(row, float(value)) for row in t]
    return float(np.mean(per))


def _table_cdf(row: np.ndarray, value: float) -> float:
    if value < row[0]:
        return 0.0
    if value >= row[-1]:
        return 1.0
    # Highest level whose quantile is <= value, interpolated to the next level.
    i = int(np.searchsorted(row, value, side="right")) - 1
    lo, hi = row[i], row[i + 1]
    frac = 0.0 if hi == lo else (value - lo) / (hi - lo)
    return float(QUANTILE_PROBS[i] + frac * (QUANTILE_PROBS[i + 1] - QUANTILE_PROBS[i]))


def mixture_quantile(tables, prob: float) -> float:
    """The ``prob`` quantile of the equal mixture of :func:`mixture_cdf` (a bisection on its
    CDF; exact to 1e-9 of the tables' range)."""
    t = np.atleast_2d(np.asarray(tables, dtype=np.float64))
    lo, hi = float(t[:, 0].min()), float(t[:, -1].max())
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        if mixture_cdf(t, mid) < prob:
            lo = mid
        else:
            hi = mid
    return hi


def bootstrap_mean_ci(
    values,
    rng: np.random.Generator,
    confidence: float = 0.95,
    n_resamples: int = 2000,
) -> tuple[float, float, float]:
    """Mean of ``values`` with a bootstrap confidence interval: ``(mean, low, high)``.

    values: 1D finite floats. Uses :func:`scipy.stats.bootstrap` (BCa, falling
    back to the percentile interval if BCa is undefined) with ``rng`` as its
    only randomness. With fewer than two values, or all values equal, there is
    no spread to resample: returns ``(mean, mean, mean)``. All three are finite.
    """
    v = _check_vector(values, "values")
    if v.size == 0:
        raise BadInput("values must not be empty")
    if not 0.0 < float(confidence) < 1.0:
        raise BadInput(f"confidence must be in (0, 1), got {confidence!r}")
    mean = float(v.mean())
    if is_constant(v):
        return mean, mean, mean
    from scipy import stats

    for method in ("BCa", "percentile"):
        with warnings.catch_warnings():  # BCa warns on near-degenerate data; handled below
            warnings.simplefilter("ignore")
            ci = stats.bootstrap(
                (v,),
                np.mean,
                n_resamples=int(n_resamples),
                confidence_level=float(confidence),
                method=method,
                rng=rng,
            ).confidence_interval
        low, high = float(ci.low), float(ci.high)
        if np.isfinite(low) and np.isfinite(high):
            break
    # Keep the reported interval around the reported mean, whatever the resampling did.
    return mean, min(low, mean), max(high, mean)


def all_pairs_spearman(pred_map, true_map, walls) -> float:
    """Spearman over every (free cell, goal) pair, pooled over all goals.

    pred_map, true_map: float ``(G, size, size)`` (or ``(size, size)`` for one
    goal), ``map[g, r, c]`` = distance from cell ``(r, c)`` to goal ``g``;
    walls: bool ``(size, size)`` shared by all goals, or ``(G, size, size)``.
    Only free cells are used (walls may hold inf/NaN). Returns a float.
    """
    pred = np.asarray(pred_map)
    true = np.asarray(true_map)
    w = np.asarray(walls)
    if pred.ndim == 2:  # a single goal
        pred = pred[None]
    if true.ndim == 2:
        true = true[None]
    if pred.ndim != 3 or pred.shape != true.shape:
        raise BadInput(
            f"pred_map and true_map must both be (G, size, size), got {pred.shape}, {true.shape}"
        )
    if w.dtype != np.bool_:
        raise BadInput(f"walls must have dtype bool, got {w.dtype}")
    if w.shape == pred.shape[1:]:
        w = np.broadcast_to(w, pred.shape)
    if w.shape != pred.shape:
        raise BadInput(f"walls must be {pred.shape[1:]} or {pred.shape}, got {w.shape}")
    free = ~w
    return spearman(pred[free], true[free])


def _maps(pred_maps, true_maps, walls) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Predicted and true maps as float64 and the free cells as bool, one (n, size, size)
    shape; BadInput naming the shapes otherwise."""
    pred = np.asarray(pred_maps, dtype=np.float64)
    true = np.asarray(true_maps, dtype=np.float64)
    free = ~np.asarray(walls, dtype=bool)
    if pred.shape != true.shape or pred.shape != free.shape or pred.ndim != 3:
        raise BadInput(
            f"maps and walls must share one (n, size, size) shape, got "
            f"{pred.shape}, {true.shape}, {free.shape}"
        )
    return pred, true, free


def field_roughness(pred_maps, true_maps, walls) -> float:
    """How far a predicted distance field is from stepping by one between neighbours.

    pred_maps, true_maps: float (n, size, size) (one goal per map); walls: bool
    (n, size, size). Each predicted map is first mapped onto the true distance's
    scale by the least-squares line ``a * pred + b`` over its free cells (so the
    measure ignores units, which contrastive distances lack); then the mean,
    over all pairs of neighbouring free cells, of ``| |difference| - 1 |`` is
    taken. The true BFS field scores 0; a blocky field (flat plateaus and
    jumps) or a noisy one scores high; a constant map scores 1. Returns the
    mean over maps (float).
    """
    pred, true, free = _maps(pred_maps, true_maps, walls)
    scores = np.empty(len(pred))
    for i in range(len(pred)):
        p, t, f = pred[i], true[i], free[i]
        x, y = p[f], t[f]
        var = x.var()
        a = 0.0 if var == 0 else float(((x - x.mean()) * (y - y.mean())).mean() / var)
        b = float(y.mean() - a * x.mean())
        q = np.where(f, a * np.where(f, p, 0.0) + b, 0.0)
        pairs_v = f[1:] & f[:-1]
        pairs_h = f[:, 1:] & f[:, :-1]
        dv = np.abs(q[1:] - q[:-1])[pairs_v]
        dh = np.abs(q[:, 1:] - q[:, :-1])[pairs_h]
        diffs = np.concatenate([dv, dh])
        scores[i] = float(np.abs(diffs - 1.0).mean()) if diffs.size else 0.0
    return float(scores.mean())


def integer_gap(maps, walls) -> float:
    """Mean distance of the predictions to the nearest integer, over free cells.

    maps: float (n, size, size); walls: bool (n, size, size). 0 when every
    prediction is a whole number of steps (a "sharply discretized" heatmap);
    0.25 when fractional parts are spread uniformly. Meant for step-valued
    (supervised) predictions: a contrastive distance has no unit, so its value
    here says nothing.
    """
    h = np.asarray(maps, dtype=np.float64)
    free = ~np.asarray(walls, dtype=bool)
    if h.shape != free.shape:
        raise BadInput(f"maps {h.shape} and walls {free.shape} must have one shape")
    x = h[free]
    if x.size == 0 or not np.isfinite(x).all():
        raise BadInput("integer_gap needs finite predictions on at least one free cell")
    return float(np.abs(x - np.round(x)).mean())


def loss_improvement(steps, losses) -> float:
    """Relative drop of the loss from the window ending at 75% of training to the end.

    steps: real (k,), the logged training steps in increasing order; losses: real (k,),
    the loss logged at each (one run's). Each window is the last 5% of the rows (at least
    one): those up to 75% of the last step (the first row if none is), and those up to
    the end (15k and 20k steps at paper scale). Returns ``(before - end) / |before|``, a
    float: positive = the loss still falls; 0.0 when ``before`` is 0. BadInput for
    non-1D, empty, unequal-length or non-finite input.
    """
    s = _check_vector(steps, "steps")
    x = _check_vector(losses, "losses")
    if s.shape != x.shape or s.size == 0:
        raise BadInput(
            f"steps and losses must be non-empty and of equal length, got {s.size} and {x.size}"
        )
    w = max(1, int(round(0.05 * s.size)))
    at = max(1, int(np.searchsorted(s, 0.75 * s[-1], side="right")))
    before = float(x[max(0, at - w) : at].mean())
    end = float(x[-w:].mean())
    return (before - end) / abs(before) if before != 0 else 0.0


def order_violations(pred_maps, true_maps, walls) -> float:
    """Share of neighbouring free-cell pairs whose predicted order contradicts the truth.

    pred_maps, true_maps: float (n, size, size), one goal per map; walls: bool (n, size,
    size). For every pair of 4-neighbouring free cells with different true distances, the
    pair is a violation when the prediction orders it the other way, half a violation when
    the prediction ties it. In a grid maze neighbours always differ by one true step, so
    every pair counts. Unchanged by any increasing transformation of the prediction: a
    monotone but curved field scores 0 like the truth; a constant map scores 0.5. Returns
    the mean over maps (float in [0, 1]); a map without such pairs is left out (0.0 if no
    map has one).
    """
    pred, true, free = _maps(pred_maps, true_maps, walls)
    scores = []
    for p, t, f in zip(pred, true, free, strict=True):
        p, t = np.where(f, p, 0.0), np.where(f, t, 0.0)  # walls may hold inf or NaN
        bad, count = 0.0, 0
        pairs = (  # (pred a, pred b, true a, true b, both free): vertical, then horizontal
            (p[1:], p[:-1], t[1:], t[:-1], f[1:] & f[:-1]),
            (p[:, 1:], p[:, :-1], t[:, 1:], t[:, :-1], f[:, 1:] & f[:, :-1]),
        )
        for pa, pb, ta, tb, both in pairs:
            m = both & (ta != tb)
            dp, dt = (pa - pb)[m], (ta - tb)[m]
            bad += float((np.sign(dp) == -np.sign(dt)).sum() + 0.5 * (dp == 0).sum())
            count += int(m.sum())
        if count:
            scores.append(bad / count)
    return float(np.mean(scores)) if scores else 0.0


def hierarchical_bootstrap_ci(
    groups: Sequence,
    rng: np.random.Generator,
    confidence: float = 0.95,
    n_resamples: int = 2000,
) -> tuple[float, float, float]:
    """Mean over groups of each group's mean, with a two-level percentile bootstrap interval:
    ``(mean, low, high)``.

    groups: one 1D finite float array per seed (a seed's per-trajectory values). Each
    resample draws the seeds with replacement, then each drawn seed's values with
    replacement, and takes the mean of the drawn seeds' means (every seed weighs the same,
    whatever its count). So the interval holds the spread between seeds as well as within
    them (rliable's stratified idea, one level up). One group: the within-seed bootstrap
    alone. The interval is widened to hold the mean if resampling left it outside.
    """
    vals = [_check_vector(g, f"groups[{i}]") for i, g in enumerate(groups)]
    if not vals or any(v.size == 0 for v in vals):
        raise BadInput("groups must be non-empty, each with at least one value")
    if not 0.0 < float(confidence) < 1.0:
        raise BadInput(f"confidence must be in (0, 1), got {confidence!r}")
    k, n_res = len(vals), int(n_resamples)
    mean = float(np.mean([v.mean() for v in vals]))
    picks = rng.integers(k, size=(n_res, k))  # (R, k): the seeds of each resample
    seed_means = np.empty((n_res, k))  # (R, k): each drawn seed's resampled mean
    for i, v in enumerate(vals):  # every slot that drew seed i resamples it afresh
        slots = picks == i
        draws = rng.integers(v.size, size=(int(slots.sum()), v.size))
        seed_means[slots] = v[draws].mean(axis=1)
    stats = seed_means.mean(axis=1)  # (R,)
    alpha = (1.0 - float(confidence)) / 2.0
    low, high = np.quantile(stats, [alpha, 1.0 - alpha])
    return mean, min(float(low), mean), max(float(high), mean)


def paired_difference(new, old, confidence: float = 0.95) -> tuple[float, float, float]:
    """Mean of the per-seed differences ``new - old`` with a Student-t interval:
    ``(mean, low, high)``.

    new, old: 1D finite floats, one value per seed, paired by position. With one pair the
    interval is undefined: ``(d, nan, nan)``. With pairs that all differ by the same amount
    the interval is that amount.
    """
    a, b = _check_vector(new, "new"), _check_vector(old, "old")
    if a.shape != b.shape or a.size == 0:
        raise BadInput(f"new and old must pair up, got {a.size} and {b.size} values")
    d = a - b
    mean = float(d.mean())
    if d.size < 2:
        return mean, math.nan, math.nan
    from scipy import stats

    half = float(stats.t.ppf(0.5 + confidence / 2, d.size - 1) * d.std(ddof=1) / np.sqrt(d.size))
    return mean, mean - half, mean + half
