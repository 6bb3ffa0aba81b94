"""Measure a trained model, or a baseline heuristic, the way the paper does and more.

Every scorer (a trained model or a baseline) answers one question,
``pairs(mazes, maze_index, states, goals) -> d``, and everything else is built
on it: per-trajectory Spearman under both protocols, the all-pairs rank
correlation against BFS, heatmaps, and planning in both modes on frozen
instances. Results go to ``metrics.json`` beside the run (models) or to
``results/baselines.json`` (baselines), written atomically, NaN refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from repro import cachekey
from repro.cachekey import Key
from repro.config import EvalConfig, RunConfig, config_hash
from repro.core.data import Dataset, load_dataset, make_dataset, save_dataset
from repro.core.heuristics import BASELINES, BaselineScorer, heuristic_maps
from repro.core.maze import HALVES, quadrant_map
from repro.core.metrics import (
    all_pairs_spearman,
    bootstrap_mean_ci,
    field_roughness,
    integer_gap,
    order_violations,
    paper_protocol_indices,
    protocol_draws,
    quantile_table,
    trajectory_spearman,
)
from repro.core.overlap import BANDS, band_name, overlap_table
from repro.core.planning import MODES, PLANNERS, PlanStats, plan_many, solved_rate_curve
from repro.core.walluse import detour_mask, detour_spearman, finite_for_ranks, shuffled_mazes
from repro.io import has_valid_content_hash, read_json, with_content_hash, write_json
from repro.learn.runfiles import load_model, run_modules
from repro.learn.scorer import ModelScorer
from repro.paths import baselines_file, instances_dir

# ---------------------------------------------------------------------------- instances


def context_key(config: RunConfig) -> str:
    """Which evaluation data a run is judged on: its maze (fixed) or the shared unseen mazes."""
    return f"fixed__s{config.seed}" if config.regime == "fixed" else "procedural"


def eval_dataset(kind: str, config: RunConfig, ev: EvalConfig, root: Path) -> Dataset:
    """The frozen test ('test') or planning ('plan') set a run is evaluated on.

    Fixed regime: drawn in the run's own maze (its seed), from a stream
    disjoint from training. Procedural: unseen mazes from ``ev.eval_seed``,
    the same for every run. Saved under ``<root>/instances/`` the first time
    and loaded (content hash checked) afterwards.
    """
    n = ev.n_test if kind == "test" else ev.n_plan
    seed = config.seed if config.regime == "fixed" else ev.eval_seed
    name = f"{config.regime}-{kind}-size{config.size}-lp{config.loop_prob}-n{n}-seed{seed}.npz"
    path = instances_dir(root) / name
    if path.exists():
        return load_dataset(path)
    ds = make_dataset(kind, n, seed, config.size, config.regime, config.loop_prob)
    save_dataset(ds, path)
    return ds


# ---------------------------------------------------------------------------- metrics


def trajectory_predictions(scorer, ds: Dataset, maze_of: np.ndarray | None = None):
    """Predicted d(s_t, s_T) along every path: one float64 (T + 1,) array per trajectory.
    maze_of: int (n,) the maze each path is scored in (default its own, ``ds.maze_of``)."""
    goal_rows = ds.offsets[1:] - 1  # last cell of each path
    per_cell_traj = np.repeat(np.arange(len(ds)), ds.lengths + 1)
    goals = ds.cells[goal_rows][per_cell_traj]
    mazes = ds.maze_of if maze_of is None else maze_of
    pred = scorer.pairs(ds.mazes, mazes[per_cell_traj], ds.cells, goals)
    return np.split(pred, ds.offsets[1:-1])


def spearman_metrics(
    preds: list[np.ndarray], ds: Dataset, ev: EvalConfig
) -> tuple[dict[str, Any], np.ndarray]:
    """Both Spearman protocols (the paper's 10 trajectories and the full test set), and the
    per-trajectory Spearman float (n,) they summarise (the quadrant split reuses it)."""
    rho, n_constant = trajectory_spearman(preds, ds.lengths)
    picks = paper_protocol_indices(len(ds), np.random.default_rng(ev.protocol_seed), ev.n_paper)
    _, paper_constant = trajectory_spearman([preds[i] for i in picks])
    mean, low, high = bootstrap_mean_ci(
        rho, np.random.default_rng(ev.bootstrap_seed), n_resamples=ev.n_bootstrap
    )
    # How far the paper's protocol (the mean over n_paper trajectories) moves by chance alone.
    draws = protocol_draws(rho, ev.n_paper, ev.n_draws, np.random.default_rng(ev.draws_seed))
    out = {
        "paper": {
            "mean": float(rho[picks].mean()),
            "per_trajectory": rho[picks].tolist(),
            "indices": picks.tolist(),
            "n_constant": int(paper_constant),
        },
        "full": {
            "mean": mean,
            "ci_low": low,
            "ci_high": high,
            "n": len(rho),
            "n_constant": int(n_constant),
            "per_trajectory": rho.tolist(),  # for intervals over seeds and trajectories
        },
        "protocol_draws": {
            "k": ev.n_paper,
            "n_draws": ev.n_draws,
            "quantiles": quantile_table(draws).tolist(),  # at 0%, 1%, ..., 100%
        },
    }
    return out, rho


def all_pairs_metric(scorer, ds: Dataset, ev: EvalConfig) -> float:
    """Rank correlation over every (cell, goal) pair of the first test mazes, against BFS."""
    maze_ids = np.unique(ds.maze_of)[: ev.n_allpairs]
    preds, truths, walls = [], [], []
    for m in maze_ids:
        maze = ds.mazes[m]
        goals = np.argwhere(~maze)  # every free cell is a goal
        idx = np.full(len(goals), m)
        preds.append(heuristic_maps(scorer, ds.mazes, idx, goals))
        truths.append(heuristic_maps(BaselineScorer("oracle"), ds.mazes, idx, goals))
        walls.append(np.broadcast_to(maze, preds[-1].shape))
    return all_pairs_spearman(np.concatenate(preds), np.concatenate(truths), np.concatenate(walls))


def endpoints(ds: Dataset) -> tuple[np.ndarray, np.ndarray]:
    """First and last cell of every path: int (n, 2) each."""
    return ds.cells[ds.offsets[:-1]], ds.cells[ds.offsets[1:] - 1]


def same_quadrant(ds: Dataset) -> np.ndarray:
    """Whether each path's start and goal lie in one quadrant: bool (n,).

    Cross-quadrant pairs are the ones a model trained on stitching data never
    saw as one trajectory; it must join pieces of different ones.
    """
    starts, goals = endpoints(ds)
    q = quadrant_map(ds.size)
    return q[starts[:, 0], starts[:, 1]] == q[goals[:, 0], goals[:, 1]]


def plan_all(
    scorer, plan: Dataset, ev: EvalConfig, planners: tuple[str, ...] = tuple(PLANNERS)
) -> tuple[np.ndarray, dict[str, PlanStats]]:
    """Heuristic maps (n, S, S) of every planning instance and its PlanStats under each
    planner (names of ``PLANNERS``: search, and greedy under each rule)."""
    starts, goals = endpoints(plan)
    h = heuristic_maps(scorer, plan.mazes, plan.maze_of, goals)
    walls = plan.mazes[plan.maze_of]
    return h, {
        name: plan_many(walls, starts, goals, h, ev.budget, *PLANNERS[name]) for name in planners
    }


def plan_summary(stats: PlanStats, bfs: np.ndarray, mask: np.ndarray) -> dict[str, Any]:
    """Solved rate, mean expansions and generated cells (all and solved) and path / BFS ratio
    over ``mask``."""
    solved = stats.solved[mask]
    expanded = stats.expanded[mask]
    generated = stats.generated[mask]
    ratio = stats.path_len[mask][solved] / bfs[mask][solved]
    some, any_solved = bool(mask.any()), bool(solved.any())
    return {
        "solved_rate": float(solved.mean()) if some else None,
        "mean_expanded": float(expanded.mean()) if some else None,
        "mean_expanded_solved": float(expanded[solved].mean()) if any_solved else None,
        "mean_generated": float(generated.mean()) if some else None,
        "mean_generated_solved": float(generated[solved].mean()) if any_solved else None,
        "path_ratio": float(ratio.mean()) if any_solved else None,
        "n": int(mask.sum()),
    }


def planning_metrics(stats: dict[str, PlanStats], plan: Dataset, ev: EvalConfig) -> dict:
    """Every planner's summary on the frozen instances, with solved-rate-vs-budget curves.
    stats: the per-instance PlanStats of each planner (from :func:`plan_all`)."""
    out: dict[str, Any] = {}
    everything = np.ones(len(plan), dtype=bool)
    for mode, st in stats.items():
        out[mode] = plan_summary(st, plan.lengths.astype(np.float64), everything)
        out[mode]["curve"] = solved_rate_curve(st.expanded, st.solved, ev.budget).tolist()
    return out


def field_metrics(h: np.ndarray, plan: Dataset) -> dict[str, float]:
    """Roughness against BFS, order violations and the integer gap of the planning
    instances' heuristic maps h: float (n_plan, S, S)."""
    _, goals = endpoints(plan)
    oracle = heuristic_maps(BaselineScorer("oracle"), plan.mazes, plan.maze_of, goals)
    walls = plan.mazes[plan.maze_of]
    return {
        "roughness": field_roughness(h, oracle, walls),
        "order_violations": order_violations(h, oracle, walls),
        "integer_gap": integer_gap(h, walls),
    }


def band_metrics(rho: np.ndarray, test: Dataset) -> dict[str, Any]:
    """Full-test Spearman of same- and cross-quadrant trajectories per band of length.

    rho: float (n_test,) per-trajectory Spearman. Returns {half: {band: {'n', 'spearman'}}}
    ('spearman' None for an empty band)."""
    same = same_quadrant(test)
    length = test.lengths
    out: dict[str, Any] = {}
    for half, hmask in zip(HALVES, (same, ~same), strict=True):
        out[half] = {}
        for band in BANDS:
            lo, hi = band
            m = hmask & (length >= lo) & (length <= (np.inf if hi is None else hi))
            out[half][band_name(band)] = {
                "n": int(m.sum()),
                "spearman": float(rho[m].mean()) if m.any() else None,
            }
    return out


def wall_metrics(
    scorer, test: Dataset, preds: list[np.ndarray], stats: dict[str, PlanStats], plan: Dataset
) -> dict[str, Any]:
    """Does the scorer use the walls (:mod:`repro.core.walluse`)? The Spearman on detour
    states; the full-test Spearman with every test trajectory scored in another test
    maze's walls (None in the fixed regime, which has one maze); and planning on the
    detour instances."""
    detour, n_traj, n_states = detour_spearman(preds, test.paths)
    shuffled = None
    if len(test.mazes) > 1:
        other = shuffled_mazes(len(test.mazes))[test.maze_of]
        moved = trajectory_predictions(scorer, test, other)
        shuffled = float(trajectory_spearman([finite_for_ranks(p) for p in moved])[0].mean())
    starts, goals = endpoints(plan)
    mask = detour_mask(starts, goals, plan.lengths)
    bfs = plan.lengths.astype(np.float64)
    return {
        "detour_spearman": detour,
        "detour_trajectories": n_traj,
        "detour_states": n_states,
        "shuffled_spearman_full": shuffled,
        "n_plan_detour": int(mask.sum()),
        "plan_detour": {mode: plan_summary(stats[mode], bfs, mask) for mode in MODES},
    }


def quadrant_metrics(
    rho: np.ndarray, test: Dataset, stats: dict[str, PlanStats], plan: Dataset
) -> dict[str, Any]:
    """Full-test Spearman and planning on same-quadrant and on cross-quadrant pairs.

    rho: float (n_test,) per-trajectory Spearman; stats: PlanStats per planner (the
    paper's two modes are split; the other greedy rules are not).
    """
    same_t, same_p = same_quadrant(test), same_quadrant(plan)
    bfs = plan.lengths.astype(np.float64)
    out: dict[str, Any] = {}
    for half, tmask, pmask in zip(HALVES, (same_t, ~same_t), (same_p, ~same_p), strict=True):
        out[half] = {
            "n_test": int(tmask.sum()),
            "n_plan": int(pmask.sum()),
            "spearman_full": float(rho[tmask].mean()) if tmask.any() else None,
            **{mode: plan_summary(stats[mode], bfs, pmask) for mode in MODES},
        }
    return out


def snapshot_metrics(scorer, test: Dataset, plan: Dataset, ev: EvalConfig) -> dict[str, Any]:
    """The training-length study's metrics of one set of weights (no bootstrap, no maps kept)."""
    preds = trajectory_predictions(scorer, test)
    rho, _ = trajectory_spearman(preds, test.lengths)
    picks = paper_protocol_indices(len(test), np.random.default_rng(ev.protocol_seed), ev.n_paper)
    _, stats = plan_all(scorer, plan, ev, MODES)
    out = {"spearman_paper": float(rho[picks].mean()), "spearman_full": float(rho.mean())}
    out["detour_spearman"] = detour_spearman(preds, test.paths)[0]  # None: no detour states
    for mode, st in stats.items():
        out[f"{mode}_solved"] = float(st.solved.mean())
        out[f"{mode}_expanded"] = float(st.expanded.mean())
    return out


def heatmap_figure_data(scorer, ds: Dataset, ev: EvalConfig) -> dict[str, Any]:
    """The heatmap of one fixed test maze and goal, and the BFS truth beside it."""
    i = ev.heatmap_index
    m = ds.maze_of[i : i + 1]
    goal = ds.path(i)[-1][None]
    pred = heuristic_maps(scorer, ds.mazes, m, goal)[0]
    true = heuristic_maps(BaselineScorer("oracle"), ds.mazes, m, goal)[0]
    walls = ds.mazes[m[0]]

    def as_list(a: np.ndarray) -> list:  # JSON: null on walls
        return [
            [None if w else float(v) for v, w in zip(r, wr, strict=True)]
            for r, wr in zip(a, walls, strict=True)
        ]

    return {
        "index": i,
        "goal": goal[0].tolist(),
        "walls": walls.astype(int).tolist(),
        "pred": as_list(pred),
        "bfs": as_list(true),
    }


def evaluate_scorer(scorer, config: RunConfig, ev: EvalConfig, root: Path) -> dict[str, Any]:
    """Every metric of one scorer on the evaluation data of ``config``'s context (the
    frozen sets of the results folder ``root``)."""
    test = eval_dataset("test", config, ev, root)
    plan = eval_dataset("plan", config, ev, root)
    preds = trajectory_predictions(scorer, test)
    spear, rho = spearman_metrics(preds, test, ev)
    h, stats = plan_all(scorer, plan, ev)
    planning = planning_metrics(stats, plan, ev)
    fields = field_metrics(h, plan)
    by_quadrant = quadrant_metrics(rho, test, stats, plan)
    allpairs = all_pairs_metric(scorer, test, ev)
    paper = spear["paper"]["indices"]
    return {
        "spearman": spear,
        "all_pairs_spearman": allpairs,
        **fields,
        "planning": planning,
        "by_quadrant": by_quadrant,
        "by_band": band_metrics(rho, test),
        "walls": wall_metrics(scorer, test, preds, stats, plan),
        "figures": {
            "trajectories": [
                {
                    "index": i,
                    "pred": preds[i].tolist(),
                    "true": list(range(int(test.lengths[i]), -1, -1)),
                }
                for i in paper
            ],
            "heatmap": heatmap_figure_data(scorer, test, ev),
        },
    }


# ---------------------------------------------------------------------------- entry points


def metrics_key(run: Path, ev: EvalConfig) -> Key:
    """What a run's metrics.json must match to be reused (:mod:`repro.cachekey`): its model
    and snapshots, the evaluation settings and the evaluation code."""
    meta = read_json(run / "run.json")
    return cachekey.make(
        "evaluate",
        run_modules(meta),
        eval=config_hash(ev),
        model=meta["model_sha256"],
        snapshots=cachekey.of_value(meta["snapshots_sha256"]),
    )


def metrics_stale(run: Path, ev: EvalConfig) -> list[str]:
    """Why ``run/metrics.json`` must be (re)computed: [] when it is intact (content hash)
    and made under the current key."""
    run = Path(run)
    return cachekey.stale_result(run / "metrics.json", lambda: metrics_key(run, ev))


def metrics_up_to_date(run: Path, ev: EvalConfig) -> bool:
    """True when ``run/metrics.json`` is intact and matches the run's model, settings and
    evaluation code."""
    return not metrics_stale(run, ev)


def evaluate_run(
    run: Path, ev: EvalConfig, root: Path, device: str = "cpu", force: bool = False
) -> dict:
    """Write ``metrics.json`` beside a finished run (skipped if up to date) and return it;
    the run is scored on the frozen sets of the results folder ``root`` it belongs to."""
    run = Path(run)
    model, config = load_model(run, device)
    out = run / "metrics.json"
    if not force and metrics_up_to_date(run, ev):
        return read_json(out)
    key = metrics_key(run, ev)
    snapshots = read_json(run / "run.json")["snapshots_sha256"]
    metrics = evaluate_scorer(ModelScorer(model, config), config, ev, root)
    test, plan = eval_dataset("test", config, ev, root), eval_dataset("plan", config, ev, root)
    metrics["training_length"] = [  # the weights saved every snapshot_every steps
        {"step": int(name[len("step_") : -len(".pt")])}
        | snapshot_metrics(ModelScorer(load_model(run, device, name)[0], config), test, plan, ev)
        for name in sorted(snapshots)
    ]
    train = make_dataset(
        config.dataset, config.n_trajectories, config.seed, config.size, config.regime,
        config.loop_prob,
    )  # fmt: skip
    metrics["data"] = overlap_table(train, test, plan)  # what its tests can measure
    result = {
        "run_id": config.run_id,
        "config": config.to_dict(),
        "eval_config": ev.to_dict(),
        "key": key,
        **metrics,
    }
    result = with_content_hash(result)  # an edited number is caught on the next run
    write_json(out, result)
    return result


def baselines_key(config: RunConfig, ev: EvalConfig) -> Key:
    """What a baselines entry must match to be reused: its context's maze family, the
    evaluation settings and code."""
    context = cachekey.of_value({"size": config.size, "loop_prob": config.loop_prob})
    return cachekey.make("evaluate", eval=config_hash(ev), context=context)


def _read_baselines(path: Path) -> dict:
    try:
        data = read_json(path) if path.exists() else {}
    except ValueError:
        data = {}  # damaged: every context is recomputed
    return data if isinstance(data, dict) else {}


def baselines_stale(config: RunConfig, ev: EvalConfig, root: Path) -> list[str]:
    """Why the baselines of ``config``'s evaluation context must be (re)computed ([] when
    its entry in the results folder ``root``'s baselines.json is current)."""
    entry = _read_baselines(baselines_file(root)).get(context_key(config))
    if entry is None:
        return ["not evaluated"]
    if not has_valid_content_hash(entry):
        return ["its entry is damaged (content hash)"]
    return cachekey.changes(entry.get("key"), baselines_key(config, ev))


def evaluate_baselines(config: RunConfig, ev: EvalConfig, root: Path, force: bool = False) -> dict:
    """Score the three baselines on ``config``'s evaluation context; update the results
    folder ``root``'s baselines.json."""
    path = baselines_file(root)
    data = _read_baselines(path)
    key = context_key(config)
    if not force and not baselines_stale(config, ev, root):
        return data[key]
    entry = {"key": baselines_key(config, ev), "eval_config": ev.to_dict()}
    for kind in BASELINES:
        entry[kind] = evaluate_scorer(BaselineScorer(kind), config, ev, root)
    entry = with_content_hash(entry)
    data[key] = entry
    write_json(path, data)
    return entry
