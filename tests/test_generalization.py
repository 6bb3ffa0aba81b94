"""The generalization study (issue 15): its runs as declared, the frozen training-maze
sample, the snapshot evaluation, the summary section (absent without results), the figure,
the report's rule-chosen sentences, the README lines and the command line."""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from repro.cli import main as cli_main
from repro.config import (
    GENERALIZATION,
    SCALES,
    STUDY_FIELDS,
    RunConfig,
    make_config,
    make_eval_config,
)
from repro.core.data import TEST_MIN_LENGTH, make_dataset, maze_split
from repro.errors import ConfigError
from repro.io import read_json, write_json
from repro.learn.methods import run_cost
from repro.learn.train import train
from repro.paths import PROJECT, generalization_dir
from repro.report.checks import ProseCheckFailed
from repro.results.view import Summary
from repro.studies.generalization import prose
from repro.studies.generalization.evaluate import evaluate_study_run, up_to_date
from repro.studies.generalization.figure import draw_fig8_generalization, study_styles
from repro.studies.generalization.report import (
    generalization_context,
    paper_length_rows,
    reading_sentence,
)
from repro.studies.generalization.results import collect as collect_generalization
from repro.studies.generalization.results import study_of
from repro.studies.generalization.rules import fit_kind
from repro.studies.generalization.runs import (
    MAZES,
    OUTPUT,
    pick_sample,
    results,
    sample_file,
    study_runs,
    train_sample,
)
from repro.studies.registry import figure_draws as figure_names
from repro.studies.registry import headline, render

COMMITTED = PROJECT / "results" / "summary.json"
GENERALIZATION_SETS = {k for arm in GENERALIZATION.values() for _, sets in arm for k in sets}

# ---------------------------------------------------------------------------- declaration


def test_paper_study_is_as_the_issue_declares():
    runs = study_runs("paper")
    g = SCALES["paper"].generalization
    assert g.schedule() == (*range(5000, 50_001, 5000), *range(75_000, 200_001, 25_000))
    assert g.table_steps == (20_000, 50_000, 100_000, 200_000)
    assert len(runs) == 6 and {r.config.regime for r in runs} == {"procedural"}
    assert {r.config.steps for r in runs} == {200_000}
    models = [(r.config.name, r.config.head, r.config.direction, r.config.repeat) for r in runs]
    assert models[:4] == [
        ("supervised-normal", "regression", "backward", 1),
        ("supervised-normal", "classification", "backward", 1),
        ("contrastive-normal", "regression", "backward", 1),
        ("contrastive-normal", "regression", "symmetric", 4),
    ]
    data = [r for r in runs if r.arm == "data"]
    assert [r.config.n_trajectories for r in data] == [40_000, 40_000]
    assert [r.config.n_trajectories for r in runs if r.arm == "models"] == [4000] * 4
    assert len(study_runs("paper", 3)) == 18


def test_only_the_declared_fields_change_and_the_ids_name_them():
    for scale in SCALES:
        for r in study_runs(scale):
            base = make_config(r.config.name, "procedural", r.config.seed, scale)
            changed = {k for k, v in r.config.to_dict().items() if v != getattr(base, k)}
            assert changed == set(r.sets)  # lr and every other setting stay the scale's
            assert set(r.sets) - set(GENERALIZATION_SETS) <= set(STUDY_FIELDS)
            for name, value in r.sets.items():
                assert f"{value}" in r.id and (name in r.id or isinstance(value, str))
            assert r.folder(PROJECT).parent == generalization_dir(PROJECT)
            assert r.run_dir(PROJECT).is_relative_to(r.folder(PROJECT))
    ids = [r.id for r in study_runs("paper")]
    assert len(set(ids)) == len(ids)
    assert "procedural/supervised-normal+steps200000__s0" in ids
    assert (
        "procedural/contrastive-normal+symmetric+repeat4+n_trajectories40000+steps200000__s0" in ids
    )
    # two runs whose run ids coincide live in different folders
    sup = [r for r in study_runs("paper") if r.label.startswith("supervised-normal+")]
    assert len({(r.folder(PROJECT), r.config.run_id) for r in sup}) == len(sup)


def test_unit_command_lines_rebuild_each_study_run(tmp_path):
    from repro.cli import config_file
    from repro.pipeline.runs import train_unit
    from repro.studies.study import Placed

    for r in study_runs("smoke"):
        argv = train_unit(Placed(tmp_path, r.config, r.id), False, 1).argv
        assert config_file(Path(argv[argv.index("--config-file") + 1])) == r.config


def test_longest_first_puts_the_contrastive_runs_first():
    runs = sorted(study_runs("paper"), key=lambda r: run_cost(r.config), reverse=True)
    assert runs[0].config.method == "contrastive"


def test_schedule_lies_on_the_snapshot_grid_at_every_scale():
    for scale, sc in SCALES.items():
        g = sc.generalization
        every = RunConfig(**sc.overrides).snapshot_every
        assert all(s % every == 0 for s in g.schedule()), scale
        assert list(g.schedule()) == sorted(set(g.schedule())) and g.schedule()[-1] == g.steps
        assert RunConfig(**sc.overrides).steps in g.schedule()  # the paper's own length


def test_bad_study_settings_are_refused():
    g = SCALES["smoke"].generalization
    with pytest.raises(ConfigError, match="table_steps"):
        dataclasses.replace(g, table_steps=(7,))
    with pytest.raises(ConfigError, match="dense_until"):
        dataclasses.replace(g, dense_until=10 * g.steps)
    with pytest.raises(ConfigError, match="study-seeds"):
        study_runs("smoke", 0)
    with pytest.raises(ConfigError, match="scale"):
        study_runs("huge")


def test_declared_once():
    assert set(GENERALIZATION) == {"models", "data"}
    assert all(name.endswith("-normal") for arm in GENERALIZATION.values() for name, _ in arm)


# ---------------------------------------------------------------------------- training mazes


def test_training_sample_is_frozen_from_the_runs_own_training_mazes(root):
    c = study_runs("smoke")[0].config
    g = SCALES["smoke"].generalization
    sample = train_sample(c, g, root)
    assert sample_file(c, g, root).exists()
    assert sample_file(c, g, root).parent == root / "instances"
    again = train_sample(c, g, root)  # loaded from its file, the same bits
    assert again.content_hash() == sample.content_hash()
    assert len(sample) <= g.train_sample and (sample.lengths >= TEST_MIN_LENGTH).all()
    data = make_dataset(c.dataset, c.n_trajectories, c.seed, c.size, c.regime, c.loop_prob)
    pairs = {
        (data.mazes[data.maze_of[i]].tobytes(), data.path(i).tobytes()) for i in range(len(data))
    }
    for i in range(len(sample)):
        maze = sample.mazes[sample.maze_of[i]]
        assert (maze.tobytes(), sample.path(i).tobytes()) in pairs
        assert maze_split(maze) == "train"


def test_pick_sample_is_seeded_and_ordered():
    ds = make_dataset("normal", 300, 1, 8, "procedural")
    a = pick_sample(ds, 50, np.random.default_rng(3))
    b = pick_sample(ds, 50, np.random.default_rng(3))
    c = pick_sample(ds, 50, np.random.default_rng(4))
    assert a.content_hash() == b.content_hash() != c.content_hash()
    assert len(a) == 50 and len(pick_sample(ds, 10_000, np.random.default_rng(0))) == int(
        (ds.lengths >= TEST_MIN_LENGTH).sum()
    )
    fixed = make_dataset("normal", 100, 1, 8, "fixed")
    f = pick_sample(fixed, 20, np.random.default_rng(0))
    assert f.mazes.shape[0] == 1 and (f.maze_of == 0).all()


# ---------------------------------------------------------------------------- evaluation


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory):
    """One smoke study run trained and evaluated in a results folder of its own."""
    root = tmp_path_factory.mktemp("study")
    run = study_runs("smoke")[0]
    folder = run.run_dir(root)
    train(run.config, folder, device="cpu", progress=False)
    g = SCALES["smoke"].generalization
    out = evaluate_study_run(folder, make_eval_config("smoke"), g, run.folder(root))
    return root, run, out


def test_every_snapshot_is_scored_on_both_kinds_of_mazes(evaluated):
    root, run, out = evaluated
    g = SCALES["smoke"].generalization
    assert [s["step"] for s in out["snapshots"]] == list(g.schedule())
    rows = _rows(run.run_dir(root) / "loss.csv")
    loss = {int(float(r["step"])): float(r["loss"]) for r in rows}
    for snap in out["snapshots"]:
        assert set(snap) == {"step", "loss", *MAZES}
        assert snap["loss"] == loss[snap["step"]]
        assert set(snap["train_mazes"]) == {"spearman_full", "all_pairs"}
        assert {"spearman_full", "spearman_paper", "all_pairs", "greedy_solved"} <= set(
            snap["unseen_mazes"]
        )
    oracle = out["baselines"]["oracle"]
    assert oracle["train_mazes"]["spearman_full"] == pytest.approx(1.0)
    assert oracle["unseen_mazes"]["greedy_solved"] == 1.0
    assert out["train_sample"]["n"] == g.train_sample


def _rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_evaluation_is_cached_and_an_edit_is_caught(evaluated, tmp_path):
    root, run, _ = evaluated
    ev, g = make_eval_config("smoke"), SCALES["smoke"].generalization
    assert up_to_date(run.run_dir(root), ev, g)
    other = dataclasses.replace(g, sample_seed=g.sample_seed + 1)
    assert not up_to_date(run.run_dir(root), ev, other)  # another sample: recompute
    data = read_json(run.run_dir(root) / OUTPUT)
    data["snapshots"][0]["loss"] = 0.0
    copy = tmp_path / "run"
    shutil.copytree(run.run_dir(root), copy)
    write_json(copy / OUTPUT, data)
    assert not up_to_date(copy, ev, g)


def test_summary_section_only_with_results(evaluated, tmp_path):
    root, run, out = evaluated
    assert collect_generalization(tmp_path, "smoke") is None  # no study folder: no section
    found = results(root, "smoke")
    assert [len(f) for _, f in found] == [1, 0, 0, 0, 0, 0]
    study = collect_generalization(root, "smoke")
    assert [r["label"] for r in study["runs"]] == [run.label]
    entry = study["runs"][0]
    assert entry["steps"] == list(SCALES["smoke"].generalization.schedule())
    assert entry["unseen_mazes"]["spearman_full"][-1]["mean"] == pytest.approx(
        out["snapshots"][-1]["unseen_mazes"]["spearman_full"]
    )
    view = study_of(Summary.from_dict({"scale": "smoke", "generalization": study}))
    assert view.runs[0].at("train_mazes", "spearman_full", 240) is not None


def test_the_committed_summary_shows_the_study_only_with_its_section():
    assert COMMITTED.exists(), COMMITTED
    committed = read_json(COMMITTED)
    assert "generalization" in committed  # the study ran at paper scale (issue 15)
    assert "fig8_generalization" in figure_names(committed)
    d = {k: v for k, v in committed.items() if k != "generalization"}  # as before it ran
    assert study_of(Summary.from_dict(d)) is None
    assert "fig8_generalization" not in figure_names(d)
    assert "Generalization to unseen mazes" not in render(d)
    assert "Generalization study" not in headline(d, None)


# ---------------------------------------------------------------------------- constructed


def agg(v):
    return {"mean": v, "std": 0.0, "min": v, "max": v, "values": [v]}


STEPS = [5000, 10_000, 20_000, 50_000, 100_000, 200_000]


def curve(label, arm, config, sets, train, unseen, n=4000, manhattan=0.8):
    """A study run's summary entry with the given Spearman curves (one seed)."""

    def series(values):
        return {
            "spearman_full": [agg(v) for v in values],
            "spearman_paper": [agg(v) for v in values],
            "all_pairs": [agg(v) for v in values],
            "greedy_solved": [agg(0.1) for _ in values],
            "search_expanded": [agg(50.0) for _ in values],
        }

    level = {"spearman_full": agg(manhattan), "all_pairs": agg(0.7), "greedy_solved": agg(0.5)}
    oracle = {"spearman_full": agg(1.0)}
    return {
        "label": label,
        "arm": arm,
        "config": config,
        "sets": sets,
        "seeds": [0],
        "n_trajectories": n,
        "train_sample": 1000,
        "steps": STEPS,
        "loss": [agg(1.0) for _ in STEPS],
        "train_mazes": series(train),
        "unseen_mazes": series(unseen),
        "baselines": {
            "manhattan": {"train_mazes": level, "unseen_mazes": level},
            "oracle": {"train_mazes": oracle, "unseen_mazes": oracle},
        },
    }


RISING = [0.1, 0.2, 0.3, 0.5, 0.7, 0.85]


def study_dict(runs=None):
    """Supervised: both curves rise together; contrastive: peaks at 50k while the gap grows;
    supervised on 40,000 mazes: higher on unseen mazes than on its training mazes."""
    sup = ("supervised-normal+steps200000", "models", "supervised-normal", {"steps": 200_000})
    con = ("contrastive-normal+steps200000", "models", "contrastive-normal", {"steps": 200_000})
    more = {"steps": 200_000, "n_trajectories": 40_000}
    sup40 = ("supervised-normal+n_trajectories40000+steps200000", "data", "supervised-normal", more)
    default = [
        curve(*sup, [v + 0.01 for v in RISING], RISING),
        curve(*con, [0.3, 0.5, 0.6, 0.8, 0.9, 0.95], [0.3, 0.4, 0.5, 0.6, 0.5, 0.4]),
        curve(*sup40, RISING, [0.1, 0.2, 0.4, 0.6, 0.8, 0.9], n=40_000),
    ]
    return {
        "schedule": STEPS,
        "table_steps": [20_000, 50_000, 100_000, 200_000],
        "runs": default if runs is None else runs,
    }


def one_run(train, unseen):
    """The view of a study with one supervised run of the given curves."""
    d = study_dict([curve("x", "models", "supervised-normal", {}, train, unseen)])
    return study_of(Summary.from_dict({"scale": "paper", "generalization": d})).runs[0]


def view():
    return study_of(Summary.from_dict({"scale": "paper", "generalization": study_dict()}))


def test_reach_follows_the_rule():
    sup, con, sup40 = view().runs
    assert prose.reach(sup)["kind"] == "passes" and prose.reach(sup)["step"] == 200_000
    k = prose.reach(con)
    assert k["kind"] == "never" and (k["best"], k["best_step"]) == (0.6, 50_000)
    assert prose.reach(sup40)["kind"] == "passes"
    near = one_run([0.9] * 6, [0.5, 0.6, 0.7, 0.79, 0.8, 0.8])  # within 0.02 of 0.800
    assert prose.reach(near)["kind"] == "reaches" and prose.reach(near)["step"] == 50_000


def test_the_prose_checks_read_the_runs_by_the_rules():
    s = Summary.from_dict({"scale": "paper", "generalization": study_dict()})
    # The supervised runs pass Manhattan's 0.800 at 200,000 steps: no sentence of "none
    # passes" or "the supervised models come level and stay" may be printed.
    assert not prose.none_passes(s)[0] and not prose.supervised_reach(s)[0]
    assert prose.contrastive_never(s)[0]  # its best is 0.600
    assert not prose.supervised_overfit(s)[0]  # it underfits: both rise, the gap stays
    assert not prose.contrastive_underfit(s)[0]  # it overfits
    # 40,000 mazes: unseen 0.850 -> 0.900 (beyond 0.02), the gap 0.010 -> -0.050.
    holds, n = prose.more_mazes_close_gap(s)
    assert not holds and n["supervised, regression (40,000 mazes) unseen change"] == (
        pytest.approx(0.05)
    )
    level = [0.5, 0.6, 0.7, 0.79, 0.8, 0.8]
    runs = [curve("x", "models", "supervised-normal", {}, [v + 0.01 for v in level], level)]
    s = Summary.from_dict({"scale": "paper", "generalization": study_dict(runs)})
    assert prose.none_passes(s)[0] and prose.supervised_reach(s)[0]
    assert not prose.contrastive_never(s)[0]  # no contrastive run: nothing to say


def test_fit_kinds_tell_underfitting_from_overfitting():
    sup, con, _ = view().runs
    kind, f = fit_kind(sup, 20_000)
    assert kind == "underfits" and f["step0"] == 20_000  # both rise, the gap stays 0.01
    kind, f = fit_kind(con, 20_000)
    assert kind == "overfits" and f["peak_step"] == 50_000
    assert fit_kind(one_run([0.5] * 6, [0.4] * 6), 20_000)[0] == "flat"
    assert fit_kind(one_run([0.3, 0.4, 0.5, 0.7, 0.9, 0.95], [0.3] * 6), 20_000)[0] == "gap grows"
    assert fit_kind(one_run([0.9] * 6, [0.3, 0.4, 0.5, 0.7, 0.8, 0.9]), 20_000)[0] == "gap closes"


def test_paper_numbers_are_compared_at_the_papers_length_only():
    paper = {
        "supervised-normal": {"spearman": 0.807, "greedy_solved": 0.3, "search_expanded": 46.7},
        "contrastive-normal": {"spearman": 0.848, "greedy_solved": 0.15, "search_expanded": 44.7},
    }
    printed = {name: {"spearman": f"{v['spearman']:.3f}"} for name, v in paper.items()}
    d = {"scale": "paper", "generalization": study_dict()}
    s = Summary.from_dict({**d, "paper": {"results": paper, "printed": printed}})
    rows = paper_length_rows(s, study_of(s), 20_000)
    # One row per paper number and run of its model, every run at 20,000 steps (the third
    # schedule step: 0.3 supervised, 0.4 on 40,000 mazes, 0.5 contrastive), never the
    # snapshot closest to the paper (the supervised 40,000-maze run reaches 0.800 at 100k).
    sup = [r for r in rows if r["metric"].startswith("Spearman") and r["model"].startswith("Sup")]
    assert [(r["run"], r["ours"], r["diff"]) for r in sup] == [
        ("supervised, regression (4,000 mazes)", "0.300", "-0.507"),
        ("supervised, regression (40,000 mazes)", "0.400", "-0.407"),
    ]
    assert len(rows) == 3 * 3  # 3 paper numbers x (2 supervised runs + 1 contrastive)
    text = reading_sentence(s, study_of(s), "supervised", 20_000)
    assert "(0.807) against our 2 supervised runs at its 20,000 steps" in text
    assert "(0.300 to 0.400 under its 10-trajectory protocol): 0 within 0.05." in text
    text = reading_sentence(s, study_of(s), "contrastive", 50_000)  # 0.6 at 50k
    assert "(0.600 to 0.600 under its 10-trajectory protocol): 0 within 0.05." in text


def test_report_section_renders_only_with_the_study():
    assert COMMITTED.exists(), COMMITTED
    d = read_json(COMMITTED)
    d.pop("generalization", None)
    assert "Generalization to unseen mazes" not in render(d)
    assert generalization_context(Summary.from_dict(d)) == {"ran": False}
    d["generalization"] = study_dict()
    with pytest.raises(ProseCheckFailed, match="gen-none-passes"):  # the study's own words
        render(d)  # are contradicted by this made-up study (its supervised runs pass)
    tex = render(d, strict=False)  # marked instead
    assert "[check gen-none-passes fails]" in tex
    assert "\\section{Generalization to unseen mazes}" in tex
    assert "fig8_generalization.pdf" in tex and "0.850 / 0.860" in tex  # 200k: unseen / train
    assert "\\paragraph{10 times more mazes.}" in tex
    ctx = generalization_context(Summary.from_dict(d))
    assert ctx["steps"] == ["20k", "50k", "100k", "200k"]
    assert ctx["rows"][-1]["model"] == "Manhattan"


def test_fig8_draws_every_run_with_levels_and_log_steps():
    d = {"scale": "paper", "generalization": study_dict()}
    assert "fig8_generalization" in figure_names(d)
    fig = draw_fig8_generalization(d)
    ax = fig.axes[1]  # Spearman on unseen mazes
    assert ax.get_xscale() == "log"
    runs = [line for line in ax.lines if len(line.get_xdata()) == len(STEPS)]
    assert len(runs) == 3
    assert list(runs[0].get_ydata()) == [0.1, 0.2, 0.3, 0.5, 0.7, 0.85]
    levels = {line.get_label(): line.get_ydata()[0] for line in ax.lines if line not in runs}
    assert levels["Manhattan"] == 0.8 and levels["Oracle (BFS)"] == 1.0
    styles = study_styles(view())
    sup, _, sup40 = view().runs
    assert styles[sup40.label]["color"] == styles[sup.label]["color"]
    assert styles[sup40.label]["linestyle"] == "--"


def test_readme_lines_give_the_unseen_maze_spearman_beside_manhattan():
    d = {"scale": "paper", "seeds": [0], "generalization": study_dict()}
    text = headline(d, {"studies": {"generalization": {"wall_s": 3000.0, "cpu_s": 5400.0}}})
    assert "| model | 4,000 mazes | 40,000 mazes |" in text
    row = (
        "| supervised, regression | 0.300 / 0.500 / 0.700 / 0.850 | 0.400 / 0.600 / 0.800 / 0.900 |"
    )
    assert row in text
    assert "| Manhattan (no training) | 0.800 | 0.800 |" in text
    assert "took 50.0 min on this machine (2 CPU cores, local executor, 90.0 CPU-min" in text


# ---------------------------------------------------------------------------- command line


@pytest.mark.parametrize(
    "argv, says",
    [
        (["reproduce", "--scale", "smoke", "--studies", "nonsense"], "unknown study"),
        (["reproduce", "--scale", "smoke", "--studies", "generalization", "--study-seeds", "0"],
         "--study-seeds"),
        (["evaluate-generalization", "--run", "procedural/nothing__s0", "--scale", "smoke"],
         "does not exist"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_and_exit_2(argv, says, capsys, _isolated_results):
    assert cli_main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and says in err and len(err.strip().splitlines()) == 1
    assert not any(_isolated_results.iterdir())  # nothing written


@pytest.mark.slow
def test_smoke_study_through_reproduce(quick_reference, tmp_path):
    """The study's smoke version through the pipeline (what CI runs): trained, evaluated,
    summarised, drawn and reported; a rerun redoes nothing of it."""
    from conftest import NO_ABLATIONS, copy_results, smoke_argv

    results = copy_results(quick_reference, tmp_path / "results")
    argv = smoke_argv(*NO_ABLATIONS, "--studies", "generalization", quick=True)
    env = {**os.environ, "REPRO_RESULTS": str(results)}
    out = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=900)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "train: all 12 runs up to date (skipped)" in out.stdout
    runs = study_runs("smoke")
    for r in runs:
        assert (r.run_dir(results) / OUTPUT).exists(), r.id
        assert r.id in out.stdout
    summary = read_json(results / "summary.json")
    assert [r["label"] for r in summary["generalization"]["runs"]] == [r.label for r in runs]
    judged = summary["generalization"]["claims"]  # C1-C3, C7 again at every table step
    assert [c["id"] for c in judged] == ["C1", "C2", "C3", "C7"]
    steps = [str(s) for s in SCALES["smoke"].generalization.table_steps]
    assert all(sorted(c["regimes"]) == sorted(steps) for c in judged)  # JSON sorts the keys
    assert (results / "figures" / "fig8_generalization.pdf").exists()
    timings = read_json(results / "timings.json")
    assert timings["studies"]["generalization"]["wall_s"] > 0
    again = subprocess.run(
        [*argv], capture_output=True, text=True, env=env, timeout=900
    )  # a second run: nothing of the study to redo
    assert again.returncode == 0, again.stdout + again.stderr
    assert "generalization: all 6 runs up to date (skipped)" in again.stdout
    assert "generalization: all 6 runs evaluated (skipped)" in again.stdout
    assert "summary: up to date (skipped)" in again.stdout
    plain_argv = smoke_argv(*NO_ABLATIONS, quick=True)  # no --studies
    plain = subprocess.run(plain_argv, capture_output=True, text=True, env=env, timeout=900)
    assert plain.returncode == 0 and "generalization:" not in plain.stdout
    assert read_json(results / "summary.json") == summary  # its results stay in the summary
    assert json.loads((results / "timings.json").read_text())["studies"] == timings["studies"]


def test_no_torch_in_the_studys_declaration():
    code = "import sys, repro.studies.generalization.runs; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr
