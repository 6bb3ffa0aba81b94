"""The maze-family study (issue 14): its cells as declared, the maze generator's quirks at
every size it uses, the figure's data and the sentence chosen from constructed summaries."""

from __future__ import annotations

import numpy as np
import pytest

from repro.config import CONFIGS, SCALES, RunConfig
from repro.core.maze import bfs_distances, generate_maze
from repro.paths import family_dir
from repro.results.paper_gap import REACH_EXPANDED, REACH_SOLVED, greedy_gap
from repro.results.view import Summary
from repro.studies.family.cells import cells, contexts, trained_configs
from repro.studies.family.figure import draw_fig7_family, family_series
from repro.studies.family.report import CHECKS, closest, family_best

SIZES_USED = sorted(
    {s for sc in SCALES.values() for s in sc.family.sizes}
    | {RunConfig(**sc.overrides).size for sc in SCALES.values()}
)


def test_paper_family_is_as_the_issue_declares():
    got = cells("paper")
    assert [(c.size, c.loop_prob) for c in got] == [
        (s, lp) for s in (10, 14, 20, 30) for lp in (0.0, 0.1, 0.3)
    ]
    assert [(c.size, c.loop_prob) for c in got if c.main] == [(20, 0.1)]  # the main study
    assert [c.size for c in got if c.trained] == [10, 20, 30]
    assert all(c.loop_prob == 0.1 for c in got if c.trained)


def test_cells_have_folders_of_their_own(tmp_path):
    main = next(c for c in cells("paper") if c.main)
    other = next(c for c in cells("paper") if not c.main)
    assert main.folder(tmp_path) == tmp_path  # the main cell is the main results folder
    assert other.folder(tmp_path) == family_dir(tmp_path, other.size, other.loop_prob)
    assert other.folder(tmp_path).parent == tmp_path / "family"


def test_trained_configs_change_only_size_and_loops():
    for cell in cells("smoke"):
        configs = trained_configs("smoke", cell)
        assert bool(configs) == cell.trained
        for c in configs:
            base = RunConfig(**{**SCALES["smoke"].overrides, **CONFIGS[c.name]}, regime="fixed")
            changed = {k for k, v in c.to_dict().items() if v != getattr(base, k)}
            assert changed <= {"size", "loop_prob"}
            assert (c.size, c.loop_prob, c.regime) == (cell.size, cell.loop_prob, "fixed")
        keys = contexts("smoke", cell)
        assert sorted(keys) == ["fixed__s0", "procedural"]
        assert {c.size for c in keys.values()} == {cell.size}


@pytest.mark.parametrize("size", SIZES_USED)
def test_maze_quirks_hold_at_every_size_used(size):
    # Rooms at even coordinates: free; both coordinates odd: wall; an even size leaves its
    # last row and column as wall. Every free cell is reachable from every other.
    assert size % 2 == 0, "every size the study uses is even, like the paper-scale 20"
    rng = np.random.default_rng(size)
    for loop_prob in (0.0, 0.1, 0.3):
        walls = generate_maze(size, rng, loop_prob)
        assert not walls[::2, ::2].any()
        assert walls[1::2, 1::2].all()
        assert walls[-1, :].all() and walls[:, -1].all()
        d = bfs_distances(walls, (0, 0))
        assert (d[~walls] >= 0).all()


def test_an_odd_size_has_rooms_on_its_last_row():
    walls = generate_maze(11, np.random.default_rng(0))
    assert not walls[-1, ::2].any()  # the behaviour the report's Decisions mention


# ---------------------------------------------------------------------------- constructed


PAPER = {
    name: {"greedy_solved": solved, "greedy_expanded": expanded}
    for name, solved, expanded in zip(
        CONFIGS, (0.3025, 0.14, 0.1475, 0.18), (10.9275, 9.2775, 9.4275, 11.485), strict=True
    )
}


def agg(v):
    return {"mean": v, "std": 0.0, "min": v, "max": v, "values": [v]}


def cell(size, loop_prob, off=None, manhattan=0.5, main=False):
    """A family cell; ``off`` = how far its trained runs' descent numbers sit from the
    paper's (solved +off, expanded +20 off); untrained if None."""
    runs = {}
    if off is not None:
        for name, p in PAPER.items():
            runs[name] = {
                "metrics": {
                    "greedy_solved": agg(0.9),
                    "greedy_expanded": agg(50.0),
                    "greedy_revisit_solved": agg(0.9),
                    "greedy_revisit_expanded": agg(300.0),
                    "greedy_descent_solved": agg(p["greedy_solved"] + off),
                    "greedy_descent_expanded": agg(p["greedy_expanded"] + 20 * off),
                    "search_expanded": agg(40.0 + size),
                }
            }
    baselines = {
        "procedural": {
            "manhattan": {
                "greedy_solved": agg(manhattan),
                "greedy_descent_solved": agg(manhattan / 2),
                "search_expanded": agg(float(size)),
            }
        }
    }
    return {
        "size": size,
        "loop_prob": loop_prob,
        "trained": off is not None,
        "main": main,
        "baselines": baselines,
        "runs": runs,
    }


def family_summary(offs=(0.2, 0.03, 0.08)):
    family = []
    for size, off in zip((10, 20, 30), offs, strict=True):
        family.append(cell(size, 0.0))
        family.append(cell(size, 0.1, off=off, manhattan=size / 40, main=size == 20))
    return Summary.from_dict({"scale": "paper", "paper": {"results": PAPER}, "family": family})


def test_the_closest_cell_and_rule_and_the_checks_of_its_sentence():
    s = family_summary()
    c, g = family_best(s)
    assert (c.size, g.rule) == (20, "descent")
    assert g.solved == pytest.approx(0.03) and g.expanded == pytest.approx(0.6)
    near = closest(s)
    assert [near[k] for k in ("size", "loop", "rule", "in_reach")] == ["20", "0.1", "descent", True]
    assert CHECKS["family-in-reach"].test(s)[0] and not CHECKS["family-out-of-reach"].test(s)[0]
    far = family_summary(offs=(0.3, 0.2, 0.4))
    assert closest(far)["rule"] == "descent" and not closest(far)["in_reach"]
    assert CHECKS["family-out-of-reach"].test(far)[0] and not CHECKS["family-in-reach"].test(far)[0]
    none = Summary.from_dict({"scale": "paper", "paper": {"results": PAPER}, "family": []})
    assert closest(none) == {} and not CHECKS["family-out-of-reach"].test(none)[0]


def test_gap_is_the_mean_absolute_difference():
    ours = {n: {"greedy_descent_solved": p["greedy_solved"] + 0.12} for n, p in PAPER.items()}
    for n, p in PAPER.items():
        ours[n]["greedy_descent_expanded"] = p["greedy_expanded"] - 3.0
    g = greedy_gap(lambda n, k: ours[n][k], lambda n, k: PAPER[n][k], "descent")
    assert (g.solved, g.expanded) == pytest.approx((0.12, 3.0))
    assert g.distance == pytest.approx(max(0.12 / REACH_SOLVED, 3.0 / REACH_EXPANDED))
    assert not g.within_reach and not g.near  # 2.4 tolerances away in solved rate


def test_fig7_plots_the_family_series():
    s = family_summary()
    fig = draw_fig7_family(s)
    solved_ax = fig.axes[0]
    series = family_series(s, "greedy_descent", "solved")
    sizes = [x for x, _ in series["trained"]]
    assert sizes == [10, 20, 30]  # only the trained loop_prob
    plotted = {
        line.get_label(): (list(line.get_xdata()), list(line.get_ydata()))
        for line in solved_ax.lines
    }
    x, y = plotted["descent, trained"]
    assert x == sizes and y == pytest.approx([v for _, v in series["trained"]])
    means = [
        np.mean([PAPER[n]["greedy_solved"] + off for n in CONFIGS]) for off in (0.2, 0.03, 0.08)
    ]
    assert y == pytest.approx(means)
    # The Manhattan line (dashed, no label) follows the procedural baseline: size / 40.
    dashed = [line for line in solved_ax.lines if line.get_linestyle() == "--"]
    assert any(list(line.get_ydata()) == pytest.approx([0.25, 0.5, 0.75]) for line in dashed)


def test_fig7_says_when_the_family_did_not_run():
    fig = draw_fig7_family(Summary.from_dict({"scale": "paper"}))
    assert all(not ax.lines for ax in fig.axes)
