"""Groups: R runs of one architecture trained as one model by the one trainer.

What is checked, at smoke scale on the CPU:
- every member consumes its own generator exactly as it does alone (same batches);
- a member trained in a group matches the same run trained alone at every logged step, in
  its snapshots and in its final weights, to within TOL (bitwise equality is not expected:
  a batched kernel need not round like a single one); the largest differences are printed
  (``pytest -s``);
- the same for a group whose members differ in dataset, n_trajectories, gamma, repeat and
  steps; and the evaluated metrics agree within the spread over seeds;
- a group killed at any step, or in the middle of a round of checkpoints, resumes and ends
  with the bits of an uninterrupted group;
- the operators of a group's update (vmapped loss, backward, Adam) are the same for
  R = 2, 4, 16;
- caching: one stage hash, whichever way a run was trained.
"""

from __future__ import annotations

import collections
import csv
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch.profiler import ProfilerActivity, profile

from repro.config import REGIMES, make_config
from repro.errors import ConfigError, TrainingDiverged
from repro.io import read_json
from repro.learn import train as train_mod
from repro.learn.batches import TrajectoryTensors
from repro.learn.methods import group_key, method_of
from repro.learn.runfiles import is_complete, load_model, stale, train_key
from repro.learn.stack import stack_batches
from repro.learn.train import Group, fresh_member, group_step, run_seeds, train, train_runs

CPU = torch.device("cpu")
# Largest absolute difference allowed between a group member and its run alone, at smoke
# scale (60 steps, or fewer): on every loss-log value, and on every weight of every snapshot
# and of model.pt. Measured on this machine (1 thread): at most 1.9e-6 on the loss log and
# 4.2e-7 on a weight (tests below, `pytest -s` prints each member's); the tolerance leaves
# room for other CPUs' kernels. Over many more steps the differences grow as any rounding
# difference does in training (it is chaotic): bitwise equality is for resumes only.
TOL = 5e-5


def smoke(name: str, regime: str = "procedural", seed: int = 0, **sets):
    return make_config(name, regime, seed, "smoke", sets)


def heterogeneous(regime: str = "procedural"):
    """Contrastive members that differ in every field a member may differ in (the loss's
    direction is not one: the loss branches on it)."""
    return [
        smoke("contrastive-normal", regime, 0),
        smoke("contrastive-stitching", regime, 1, gamma=0.98),
        smoke("contrastive-normal", regime, 2, repeat=4, n_trajectories=150, loop_prob=0.2),
        smoke("contrastive-stitching", regime, 3, repeat=2, steps=30),
    ]


def weights(path):
    return torch.load(path, weights_only=True)


def max_weight_diff(a, b) -> float:
    wa, wb = weights(a), weights(b)
    assert wa.keys() == wb.keys()
    return max((wa[k] - wb[k]).abs().max().item() for k in wa)


def same_weights(a, b) -> bool:
    wa, wb = weights(a), weights(b)
    return wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)


def loss_rows(run) -> list[dict[str, float]]:
    with open(run / "loss.csv") as f:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(f)]


def largest_difference(group_run, alone_run) -> tuple[float, float]:
    """(loss log, weights): the largest absolute differences between the two runs, after
    checking they logged the same steps and columns and saved the same snapshots."""
    a, b = loss_rows(group_run), loss_rows(alone_run)
    assert [r["step"] for r in a] == [r["step"] for r in b] and a[0].keys() == b[0].keys()
    log = max(abs(x[k] - y[k]) for x, y in zip(a, b, strict=True) for k in x)
    snaps = sorted(p.name for p in (alone_run / "snapshots").iterdir())
    assert sorted(p.name for p in (group_run / "snapshots").iterdir()) == snaps
    w = max(
        max_weight_diff(group_run / "snapshots" / s, alone_run / "snapshots" / s) for s in snaps
    )
    return log, max(w, max_weight_diff(group_run / "model.pt", alone_run / "model.pt"))


def compare_with_alone(configs, tmp_path, label: str) -> None:
    outs = [tmp_path / f"g{i}" for i in range(len(configs))]
    metas = train_runs(configs, outs, device="cpu", progress=False)
    for i, (c, out, meta) in enumerate(zip(configs, outs, metas, strict=True)):
        alone = train(c, tmp_path / f"alone{i}", device="cpu", progress=False)
        log, w = largest_difference(out, tmp_path / f"alone{i}")
        print(f"{label} member {i} ({c.run_id}): loss log {log:.3g}, weights {w:.3g}")
        assert log <= TOL and w <= TOL
        assert meta["trainer"] == {
            "kind": "group",
            "members": len(configs),
            "group": [x.run_id for x in configs],
        }
        assert set(meta) == set(alone) | {"trainer"}  # a run's run.json, plus the trainer
        assert meta["key"] == alone["key"] == train_key(c)  # one code
        assert not (out / "checkpoints").exists()
        model, config = load_model(out)  # evaluation loads a member as it loads any run
        assert config == c and type(model) is type(load_model(tmp_path / f"alone{i}")[0])


# ---------------------------------------------------------------------------- batches


@pytest.mark.parametrize("regime", REGIMES)
def test_every_member_draws_the_batches_it_draws_alone(regime, monkeypatch):
    """Three group steps: each member's batches are the ones its run alone draws from the
    same seed, and its generator ends where the run's does."""
    groups = [
        heterogeneous(regime),
        [
            smoke("supervised-normal", regime, 0),
            smoke("supervised-stitching", regime, 5, n_trajectories=90),
        ],
    ]
    seen = []
    real = stack_batches
    monkeypatch.setattr(train_mod, "stack_batches", lambda b: seen.append(b) or real(b))
    for configs in groups:
        seen.clear()
        group = Group.of([fresh_member(c, CPU) for c in configs])
        alone = [torch.Generator().manual_seed(run_seeds(c.seed)[1]) for c in configs]
        for _ in range(3):
            group_step(group)
        for step in seen:
            for r, (m, g) in enumerate(zip(group.members, alone, strict=True)):
                own = method_of(m.config).sample(m.tensors, m.config, g)
                for key, value in own.items():
                    if value is not None:
                        assert torch.equal(value, step[r][key]), (m.config.run_id, key)
        for m, g in zip(group.members, alone, strict=True):
            assert torch.equal(m.state.gen.get_state(), g.get_state())


def _variant(c) -> dict:
    return {k: getattr(c, k) for k in ("gamma", "direction", "repeat", "n_trajectories", "steps")}


# ---------------------------------------------------------------------------- group vs alone


@pytest.mark.parametrize("name", ["supervised-normal", "contrastive-normal"])
def test_a_member_of_a_group_of_four_matches_its_run_alone(tmp_path, name):
    configs = [smoke(name, "procedural", seed) for seed in range(4)]
    compare_with_alone(configs, tmp_path, f"{name} x4")


def test_a_group_members_metrics_agree_with_alone_within_the_seed_spread(tmp_path):
    """The four members' evaluated metrics (smoke evaluation) against the same runs alone:
    each difference is within the spread of those runs over their seeds."""
    from repro.config import make_eval_config
    from repro.evaluation.evaluate import evaluate_run

    configs = [smoke("supervised-normal", "fixed", seed) for seed in range(4)]
    train_runs(configs, [tmp_path / f"g{i}" for i in range(4)], device="cpu", progress=False)
    ev, keys = make_eval_config("smoke"), []
    got = {"group": [], "alone": []}
    for i, c in enumerate(configs):
        train(c, tmp_path / f"a{i}", device="cpu", progress=False)
        for kind, run in (("group", tmp_path / f"g{i}"), ("alone", tmp_path / f"a{i}")):
            m = evaluate_run(run, ev, tmp_path)  # both judged on the same frozen sets
            got[kind].append(
                {
                    "spearman": m["spearman"]["full"]["mean"],
                    "search": m["planning"]["search"]["mean_expanded"],
                    "greedy": m["planning"]["greedy"]["solved_rate"],
                }
            )
            keys = list(got[kind][-1])
    for k in keys:
        alone = [row[k] for row in got["alone"]]
        spread = max(alone) - min(alone)
        gap = max(abs(g[k] - a[k]) for g, a in zip(got["group"], got["alone"], strict=True))
        print(f"{k}: largest group-vs-alone gap {gap:.3g}, spread over seeds {spread:.3g}")
        assert gap <= spread


def test_a_heterogeneous_group_matches_its_members_alone(tmp_path):
    compare_with_alone(heterogeneous(), tmp_path, "contrastive, heterogeneous")


def test_a_heterogeneous_supervised_group_matches_its_members_alone(tmp_path):
    configs = [
        smoke("supervised-normal", "fixed", 0, head="classification"),
        smoke("supervised-stitching", "fixed", 1, head="classification", n_trajectories=120),
        smoke("supervised-normal", "fixed", 2, head="classification", steps=40),
    ]
    compare_with_alone(configs, tmp_path, "supervised classification, heterogeneous")


# ---------------------------------------------------------------------------- resume


class Interrupt(Exception):
    pass


@pytest.mark.parametrize("stop_at", [1, 20, 33, 59])
def test_a_killed_group_resumes_to_the_bits_of_an_uninterrupted_group(tmp_path, stop_at):
    configs = heterogeneous()  # 60 steps, checkpoints every 20; the last member stops at 30
    whole = [tmp_path / f"whole{i}" for i in range(4)]
    cut = [tmp_path / f"cut{i}" for i in range(4)]
    train_runs(configs, whole, device="cpu", progress=False)

    def boom(step):
        if step == stop_at:
            raise Interrupt

    with pytest.raises(Interrupt):
        train_runs(configs, cut, device="cpu", progress=False, on_step=boom)
    metas = train_runs(configs, cut, device="cpu", progress=False)
    for c, a, b, meta in zip(configs, whole, cut, metas, strict=True):
        if stop_at > c.steps:
            assert meta.get("cached")  # it had finished before the kill
        else:
            assert meta["resumed_from_step"] == stop_at - stop_at % 20
        assert same_weights(a / "model.pt", b / "model.pt")
        assert (a / "loss.csv").read_text() == (b / "loss.csv").read_text()
        for snap in (a / "snapshots").iterdir():
            assert same_weights(snap, b / "snapshots" / snap.name)


def test_a_kill_inside_a_round_of_checkpoints_resumes_exactly(tmp_path, monkeypatch):
    """Members write their checkpoints one after another: killed after the first member
    wrote step 40's, the group resumes every member from step 20 (the first from the
    checkpoint it kept as prev.pt), so it is the same group and ends with the same bits."""
    configs = [smoke("supervised-normal", "procedural", seed) for seed in range(3)]
    whole = [tmp_path / f"whole{i}" for i in range(3)]
    cut = [tmp_path / f"cut{i}" for i in range(3)]
    train_runs(configs, whole, device="cpu", progress=False)
    real = train_mod.save_on_schedule

    def second_member_killed_at_40(config, state, out, started):
        if state.step == 40 and out == cut[1]:
            raise Interrupt
        real(config, state, out, started)

    monkeypatch.setattr(train_mod, "save_on_schedule", second_member_killed_at_40)
    with pytest.raises(Interrupt):
        train_runs(configs, cut, device="cpu", progress=False)
    assert (cut[0] / "checkpoints/prev.pt").exists()
    monkeypatch.setattr(train_mod, "save_on_schedule", real)
    metas = train_runs(configs, cut, device="cpu", progress=False)
    assert [m["resumed_from_step"] for m in metas] == [20, 20, 20]
    for a, b in zip(whole, cut, strict=True):
        assert same_weights(a / "model.pt", b / "model.pt")
        assert (a / "loss.csv").read_text() == (b / "loss.csv").read_text()


# ---------------------------------------------------------------------------- operators


def count_ops(fn) -> int:
    """Operators the torch profiler records while ``fn`` runs (nested ones included)."""
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        fn()
    return sum(collections.Counter(e.name for e in prof.events()).values())


@pytest.mark.parametrize("name", ["supervised-normal", "contrastive-normal"])
@pytest.mark.parametrize("regime", REGIMES)
def test_a_group_update_has_the_same_operators_for_any_group_size(name, regime):
    """The vmapped loss, backward and Adam of a group step: the same operators for R = 2, 4
    and 16 (what makes a launch-bound GPU step cost the same for any R). Drawing the batches
    is each member's own sample() (its own generator), so its operators grow by the same
    count per member. Sizes: a 12 x 12 maze and hidden 256, so that every zero-filled
    gradient is past the CPU's small-tensor shortcut (which skips a fill_ below 32768
    elements, as paper-scale tensors always are)."""
    base = smoke(name, regime, 0, size=12, hidden=256, n_trajectories=50)
    member = fresh_member(base, CPU)
    data = (member.ds, member.tensors)
    updates, draws = {}, {}
    for members in (2, 4, 16):
        configs = [smoke(name, regime, s, size=12, hidden=256) for s in range(members)]
        group = Group.of([fresh_member(c, CPU, data) for c in configs])

        def draw(g=group):
            method = method_of(g.members[0].config)
            return stack_batches(
                [method.sample(m.tensors, m.config, m.state.gen) for m in g.members]
            )

        group.stacked.step(draw())  # the first step allocates the optimizer's state
        batch: dict = {}
        draws[members] = count_ops(lambda b=batch, d=draw: b.update(d()))
        updates[members] = count_ops(lambda g=group, b=batch: g.stacked.step(b))
    print(f"{name} {regime}: operators of an update {updates}, of the draws {draws}")
    assert updates[2] == updates[4] == updates[16]
    per_member = (draws[16] - draws[4]) / 12
    assert draws[4] - draws[2] == 2 * per_member and per_member > 0


# ---------------------------------------------------------------------------- caching


def test_one_stage_hash_whichever_way_a_run_was_trained(tmp_path, monkeypatch):
    """A run trained in a group is complete for a run alone and for a group, and the other
    way round (one trainer, one code hash); new training code makes both stale."""
    a, b = smoke("supervised-normal", "fixed", 0), smoke("supervised-normal", "fixed", 1)
    group = train_runs([a, b], [tmp_path / "a", tmp_path / "b"], device="cpu", progress=False)
    assert is_complete(tmp_path / "a", a) and group[0]["trainer"]["members"] == 2
    again = train(a, tmp_path / "a", device="cpu", progress=False)
    assert again.get("cached") and again["model_sha256"] == group[0]["model_sha256"]
    c = smoke("supervised-normal", "fixed", 2)
    alone = train(c, tmp_path / "c", device="cpu", progress=False)
    assert "trainer" not in alone
    reused = train_runs([c, a], [tmp_path / "c", tmp_path / "a"], device="cpu", progress=False)
    assert (
        all(m.get("cached") for m in reused) and reused[0]["model_sha256"] == alone["model_sha256"]
    )
    monkeypatch.setattr("repro.cachekey.code_hash", lambda stage, **kw: "changed-code")
    assert not is_complete(tmp_path / "a", a) and not is_complete(tmp_path / "c", c)
    assert stale(tmp_path / "a", a) == ["code or library versions changed"]


def test_runs_of_different_architectures_are_refused(tmp_path):
    two = [tmp_path / "a", tmp_path / "b"]
    with pytest.raises(ConfigError, match="architectures.*differ in method"):
        train_runs([smoke("supervised-normal"), smoke("contrastive-normal")], two, progress=False)
    with pytest.raises(ConfigError, match="differ in direction"):  # the loss branches on it
        train_runs(
            [smoke("contrastive-normal"), smoke("contrastive-normal", seed=1, direction="forward")],
            two,
            progress=False,
        )
    with pytest.raises(ConfigError, match="same folder"):
        train_runs([smoke("supervised-normal")] * 2, [two[0]] * 2, progress=False)
    assert not any(tmp_path.iterdir())


def test_the_group_key_comes_from_the_registry():
    """What members must share: the common fields, and each method's own (SHARED)."""
    sup, con = smoke("supervised-normal"), smoke("contrastive-normal")
    assert dict(group_key(sup))["head"] == "regression" and "direction" not in dict(group_key(sup))
    assert {"embed_dim", "direction"} <= set(dict(group_key(con)))
    for field in ("seed", "dataset", "gamma", "repeat", "steps", "n_trajectories"):
        assert field not in dict(group_key(con))


@pytest.mark.faults
def test_a_diverged_member_leaves_the_group_and_the_others_finish(tmp_path, monkeypatch):
    configs = [smoke("supervised-normal", "fixed", seed) for seed in range(3)]
    outs = [tmp_path / f"m{i}" for i in range(3)]
    real, calls = TrajectoryTensors.sample_pairs, {"n": 0}

    def poisoned(self, batch, g):
        out = real(self, batch, g)
        calls["n"] += 1
        if calls["n"] == 26 * 3 + 2:  # step 27's batch of member 1 (members draw in turn)
            out["target"] = out["target"].clone()
            out["target"][0] = float("nan")
        return out

    monkeypatch.setattr(TrajectoryTensors, "sample_pairs", poisoned)
    with pytest.raises(TrainingDiverged, match=r"supervised-normal__s1.*step 27.*step 20"):
        train_runs(configs, outs, device="cpu", progress=False)
    assert [(o / "run.json").exists() for o in outs] == [True, False, True]
    monkeypatch.setattr(TrajectoryTensors, "sample_pairs", real)
    metas = train_runs(configs, outs, device="cpu", progress=False)
    assert metas[1]["resumed_from_step"] == 20 and metas[0].get("cached")
    alone = train(configs[1], tmp_path / "alone", device="cpu", progress=False)
    log, w = largest_difference(outs[1], tmp_path / "alone")
    assert log <= TOL and w <= TOL and alone["status"] == "complete"


# ---------------------------------------------------------------------------- CLI


def run_cli(*args, results):
    import os

    env = {**os.environ, "REPRO_RESULTS": str(results)}
    return subprocess.run(
        [sys.executable, "-m", "repro", *args], capture_output=True, text=True, env=env, timeout=120
    )


@pytest.mark.parametrize("command", ["train", "train-group"])  # train-group: the alias
def test_cli_trains_a_group_and_reuses_it(tmp_path, command):
    args = (command, "--scale", "smoke", "--device", "cpu")
    members = (
        "--member",
        "contrastive-normal/fixed/0",
        "--member",
        "contrastive-normal/fixed/1,gamma=0.98",
    )
    out = run_cli(*args, *members, results=tmp_path)
    assert out.returncode == 0, out.stderr
    meta = read_json(tmp_path / "runs/fixed/contrastive-normal+gamma0.98__s1/run.json")
    assert meta["trainer"]["members"] == 2 and meta["config"]["gamma"] == 0.98
    out = run_cli(*args, *members, results=tmp_path)
    assert out.stdout.count("already complete") == 2


@pytest.mark.parametrize(
    ("member", "name"),
    [
        ("contrastive-normal/fixed", "--member"),
        ("contrastive-normal/wobbly/0", "regime"),
        ("contrastive-normal/fixed/0,gamma=2", "gamma"),
        ("contrastive-sideways/fixed/0", "contrastive-sideways"),
    ],
)
def test_cli_bad_member_is_exit_2_naming_it(tmp_path, member, name, repro_cli):
    out = repro_cli(tmp_path, "train", "--scale", "smoke", "--member", member)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert name in out.stderr and len(out.stderr.strip().splitlines()) == 1


# ---------------------------------------------------------------------------- the pipeline


def test_reproduce_sends_one_group_per_architecture(root, monkeypatch):
    from repro.cli import config_file
    from repro.config import ablation_configs
    from repro.pipeline import reproduce, runs
    from repro.pipeline.units import ExecutorConfig

    sent = []

    class Recorder:
        def run(self, units, what):
            sent.extend(units)

    monkeypatch.setattr(runs, "make_executor", lambda ex, root: Recorder())
    configs = reproduce.all_configs("smoke", 2) + ablation_configs("smoke")
    runs.stage_train(
        reproduce.main_runs(root, configs), False, ExecutorConfig(trainer="group"), root
    )
    groups = [
        [
            config_file(Path(path))
            for flag, path in zip(u.argv, u.argv[1:], strict=False)
            if flag == "--config-file"
        ]
        for u in sent
    ]
    assert all("train" in u.argv and "--set" not in u.argv for u in sent)
    assert sorted(c.run_id for g in groups for c in g) == sorted(c.run_id for c in configs)
    assert all(len({group_key(c) for c in g}) == 1 for g in groups)
    assert len(groups) == len({group_key(c) for c in configs})
    assert {c for g in groups for c in g} == set(configs)  # every member rebuilt exactly
    if not torch.cuda.is_available():
        assert runs.training_path(ExecutorConfig()) == "single"  # auto: CPU keeps single


def test_an_unknown_trainer_is_bad_input_naming_the_option(tmp_path, repro_cli):
    from repro.errors import BadInput
    from repro.pipeline.units import ExecutorConfig

    with pytest.raises(BadInput, match="--trainer"):
        ExecutorConfig(trainer="sideways")
    out = repro_cli(tmp_path, "reproduce", "--scale", "smoke", "--trainer", "sideways")
    assert out.returncode == 2 and "--trainer" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.slow
def test_smoke_reproduce_through_groups(tmp_path):
    """The whole smoke pipeline with --trainer group: every run trained in a group, every
    stage done; a second run redoes nothing."""
    argv = [sys.executable, "-m", "repro", "--results", str(tmp_path), "reproduce"]
    argv += ["--scale", "smoke", "--no-family", "--ablation-seeds", "0", "--trainer", "group"]
    argv += ["--no-pdf"]  # the report is the runs' summary's, whoever trained them
    out = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout + out.stderr
    runs = sorted(tmp_path.glob("runs/*/*/run.json"))
    assert len(runs) == 12 and all(read_json(r)["trainer"]["kind"] == "group" for r in runs)
    assert all((r.parent / "metrics.json").exists() for r in runs)
    again = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    assert "train: all 12 runs up to date (skipped)" in again.stdout
