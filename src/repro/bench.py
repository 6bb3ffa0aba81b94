"""``nox -s bench``: speed and memory, measured in one run, written to results/bench.json.

Every figure is a median over several timed windows after a warm-up, and every
ratio compares two things measured in this same process, because the machine
is shared and noisy. Measured:

a. training samples/s of each method and regime at paper settings (our trainer's step);
b. the same model and loss trained "the common way" (a Dataset whose __getitem__
   encodes one one-hot sample, a DataLoader with batch 64 and shuffle, a dense
   first layer, torch's default Adam) as a reference, and our speed-up over it;
c. the machine's limit: the dense matrix products of that model (forward and
   backward, same shapes) timed alone, and our step time over that;
d. evaluation (planning 400 instances in both modes with heuristic maps; the
   full-test-set Spearman) and building a paper-scale dataset;
e. peak memory (RSS) of a paper-scale training process;
f. the stage times of the last paper-scale reproduce (results/timings.json);
g. groups: the time of one step per member when R runs train as one group (stacked
   parameters, one vmapped loss), for R in :data:`GROUP_SIZES`, on the device the bench
   runs on (R = 1 is a run alone);
h. the local executor: the time of a unit's fresh process (and of the first, which starts
   the forkserver);
i. the other registered models (the convolutional ones): their training step at paper
   settings beside the MLP's of the same objective.
"""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from repro.config import REGIMES, make_config, make_eval_config
from repro.core.data import make_dataset
from repro.core.heuristics import BaselineScorer
from repro.errors import BadInput
from repro.evaluation.evaluate import (
    eval_dataset,
    plan_all,
    spearman_metrics,
    trajectory_predictions,
)
from repro.io import read_json, write_json
from repro.learn.batches import TrajectoryTensors
from repro.learn.methods import METHODS, build_model, method_of
from repro.learn.optim import FusedAdam
from repro.learn.runfiles import resolve_device
from repro.learn.scorer import ModelScorer
from repro.learn.train import Group, fresh_member, group_step
from repro.learn.trunk import ResidualBlock
from repro.paths import chosen_results, default_results_dir, is_default, timings_file
from repro.report import readme

BATCH = 64
CPU = torch.device("cpu")
# The paper's two models, which sections a-c and g measure; every other registered model
# (a convolutional one, say) is timed in section i beside the MLP of its objective.
PAPER_METHODS = ("supervised", "contrastive")


def _sync(device: torch.device) -> None:
    """Wait for queued GPU work, so a timer measures it (nothing to wait for on the CPU)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def median_time(
    fn, repeats: int, windows: int = 7, warmup: int = 20, device: torch.device = CPU
) -> float:
    """Median over ``windows`` of the mean time of ``repeats`` calls (s), after a warm-up."""
    for _ in range(warmup):
        fn()
    _sync(device)
    times = []
    for _ in range(windows):
        t = time.perf_counter()
        for _ in range(repeats):
            fn()
        _sync(device)
        times.append((time.perf_counter() - t) / repeats)
    return statistics.median(times)


# ---------------------------------------------------------------------------- a. ours


def our_step(method: str, regime: str, device: torch.device = CPU, sets: dict | None = None):
    """One training step of our trainer (sampler, loss, fused Adam), as a closure; ``sets``
    overrides configuration fields (a variant's head or trunk)."""
    config = make_config(f"{method}-normal", regime, 0, "paper", sets or {})
    ds = make_dataset("normal", config.n_trajectories, 0, config.size, regime)
    tensors = TrajectoryTensors.from_dataset(ds, device, regime == "procedural")
    model = build_model(config, torch.Generator().manual_seed(0)).to(device)
    opt = FusedAdam(model.parameters(), lr=config.lr)
    g = torch.Generator(device=device).manual_seed(1)
    impl = method_of(config)

    def step() -> None:
        loss, info = impl.loss(model, impl.sample(tensors, config, g), config)
        loss.item()
        opt.zero_grad()
        loss.backward()
        opt.step()

    return step, ds, config


# ---------------------------------------------------------------------------- b. reference


class DenseTrunk(nn.Module):
    """The same network with a dense first layer on the concatenated one-hots (and walls)."""

    def __init__(self, in_features: int, hidden: int, n_blocks: int, out_dim: int) -> None:
        super().__init__()
        self.inp = nn.Linear(in_features, hidden)
        self.blocks = nn.Sequential(*[ResidualBlock(hidden) for _ in range(n_blocks)])
        self.out = nn.Linear(hidden, out_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.blocks(self.inp(x)))


class OneSampleDataset(torch.utils.data.Dataset):
    """Item i: a training pair from trajectory i, encoded as one-hot vectors in __getitem__."""

    def __init__(self, ds, method: str, regime: str, gamma: float = 0.9) -> None:
        self.paths, self.walls = ds.paths, ds.walls
        self.method, self.regime, self.gamma = method, regime, gamma
        self.cells = ds.size * ds.size
        self.size = ds.size
        self.rng = random.Random(0)

    def __len__(self) -> int:
        return len(self.paths)

    def _onehot(self, cell) -> torch.Tensor:
        v = torch.zeros(self.cells)
        v[int(cell[0]) * self.size + int(cell[1])] = 1.0
        return v

    def __getitem__(self, i: int):
        path = self.paths[i]
        T = len(path) - 1
        walls = [torch.from_numpy(self.walls[i].reshape(-1).astype(np.float32))]
        walls = walls if self.regime == "procedural" else []
        if self.method == "supervised":
            a, b = sorted(self.rng.randint(0, T) for _ in range(2))
            x = torch.cat([self._onehot(path[a]), self._onehot(path[b]), *walls])
            return x, torch.tensor(float(b - a))
        a = self.rng.randint(0, T - 1)
        k = 1
        while self.rng.random() < self.gamma:
            k += 1
        b = min(a + k, T)
        return torch.cat([self._onehot(path[a]), *walls]), torch.cat(
            [self._onehot(path[b]), *walls]
        )


def reference_step(method: str, regime: str, ds, config, device: torch.device = CPU):
    """One step the common way: DataLoader over per-sample encoding, dense model, default Adam."""
    cells = config.size * config.size
    walls = cells if regime == "procedural" else 0
    if method == "supervised":
        nets = nn.ModuleList([DenseTrunk(2 * cells + walls, config.hidden, config.n_blocks, 1)])
    else:
        nets = nn.ModuleList(
            [
                DenseTrunk(cells + walls, config.hidden, config.n_blocks, config.embed_dim)
                for _ in range(2)
            ]
        )
    nets = nets.to(device)
    opt = torch.optim.Adam(nets.parameters(), lr=config.lr)
    loader = torch.utils.data.DataLoader(
        OneSampleDataset(ds, method, regime),
        batch_size=BATCH,
        shuffle=True,
        generator=torch.Generator().manual_seed(0),
    )
    batches = iter(loader)

    def step() -> None:
        nonlocal batches
        try:
            x, y = next(batches)
        except StopIteration:
            batches = iter(loader)
            x, y = next(batches)
        x, y = x.to(device), y.to(device)
        if method == "supervised":
            loss = nn.functional.mse_loss(nn.functional.softplus(nets[0](x)[:, 0]), y)
        else:
            logits = -torch.cdist(nets[0](x), nets[1](y))
            loss = nn.functional.cross_entropy(logits.T, torch.arange(len(x), device=device))
        loss.item()
        opt.zero_grad()
        loss.backward()
        opt.step()

    return step


# ---------------------------------------------------------------------------- c. dense limit


def dense_matmul_step(method: str, regime: str, config, device: torch.device = CPU):
    """The dense model's matrix products alone: forward, input-grad and weight-grad products."""
    cells = config.size * config.size
    walls = cells if regime == "procedural" else 0
    h = config.hidden
    nets = 1 if method == "supervised" else 2
    first_in = 2 * cells + walls if method == "supervised" else cells + walls
    out_dim = 1 if method == "supervised" else config.embed_dim
    g = torch.Generator().manual_seed(0)
    x = torch.rand(BATCH, first_in, generator=g)
    w_in = torch.rand(first_in, h, generator=g)
    w_h = torch.rand(h, h, generator=g)
    w_out = torch.rand(h, out_dim, generator=g)
    a = torch.rand(BATCH, h, generator=g)
    d_out = torch.rand(BATCH, out_dim, generator=g)
    x, w_in, w_h, w_out, a, d_out = (t.to(device) for t in (x, w_in, w_h, w_out, a, d_out))

    def step() -> None:
        for _ in range(nets):
            torch.mm(x, w_in)  # first layer forward
            torch.mm(x.T, a)  # its weight gradient (no input gradient: the data)
            for _ in range(config.n_blocks):
                torch.mm(a, w_h)  # forward
                torch.mm(a, w_h.T)  # input gradient
                torch.mm(a.T, a)  # weight gradient
            torch.mm(a, w_out)
            torch.mm(d_out, w_out.T)
            torch.mm(a.T, d_out)

    return step


# ---------------------------------------------------------------------------- g. groups

GROUP_SIZES = (1, 2, 4, 8, 16, 40)  # members of a group


def group_step_closure(
    method: str, regime: str, members: int, device: torch.device = CPU, scale: str = "paper"
):
    """One step of a group of ``members`` runs (seeds 0..R-1) as the trainer takes it (R = 1:
    the plain call of a run alone; R > 1: the vmapped loss over stacked parameters), as a
    closure. The members share one dataset here (what they draw does not change the
    time of a step), so that a group of 40 is not 40 datasets to build."""
    base = make_config(f"{method}-normal", regime, 0, scale)
    ds = make_dataset("normal", base.n_trajectories, 0, base.size, regime)
    data = (ds, TrajectoryTensors.from_dataset(ds, device, regime == "procedural"))
    configs = [make_config(f"{method}-normal", regime, seed, scale) for seed in range(members)]
    group = Group.of([fresh_member(c, device, data) for c in configs])
    return lambda: group_step(group)


def bench_groups(
    device: torch.device = CPU, scale: str = "paper", sizes: tuple[int, ...] = GROUP_SIZES
) -> dict[str, dict[str, float]]:
    """{'method/regime': {'R': ms}}: the time of one group step over R, for each R."""
    out: dict[str, dict[str, float]] = {}
    for method in PAPER_METHODS:
        for regime in REGIMES:
            per_member = {}
            for members in sizes:
                step = group_step_closure(method, regime, members, device, scale)
                repeats = max(1, 40 // members)  # about 40 member-steps a window
                t = median_time(step, repeats, windows=5, warmup=3, device=device)
                per_member[str(members)] = 1e3 * t / members
            out[f"{method}/{regime}"] = per_member
            cells = "".join(f"{v:>9.3f}" for v in per_member.values())
            print(f"{method:<12}{regime:<12}{cells}")
    return out


# ---------------------------------------------------------------------------- i. other models


# Variants of a registered model that the studies train, timed beside its default: the
# stitching study's other heads, the walls study's other trunk. Key: 'method+label/regime'.
VARIANTS: dict[str, tuple[tuple[str, dict[str, Any]], ...]] = {
    "contrastive_qm": (("metric", {"qm_head": "metric"}), ("mrn", {"qm_head": "mrn"})),
    "supervised_conv": (("recurrent", {"conv_arch": "recurrent"}),),
}


def bench_other_models(device: torch.device = CPU, repeats: int = 5) -> dict[str, dict]:
    """{'method/regime' or 'method+variant/regime': {'step_ms', 'mlp_step_ms', 'over_mlp'}}:
    one training step at paper settings of every registered model beyond the paper's (and
    its VARIANTS), beside the MLP model of its objective (the method name's part before '_',
    e.g. supervised_conv -> supervised)."""
    out: dict[str, dict] = {}
    for method in (m for m in METHODS if m not in PAPER_METHODS):
        base = method.split("_")[0] if method.split("_")[0] in PAPER_METHODS else PAPER_METHODS[0]
        for label, sets in (("", {}), *VARIANTS.get(method, ())):
            name = f"{method}+{label}" if label else method
            for regime in REGIMES:
                step = our_step(method, regime, device, sets)[0]
                mlp = our_step(base, regime, device)[0]
                t = median_time(step, repeats, windows=3, warmup=2, device=device)
                t_mlp = median_time(mlp, 50, windows=3, warmup=5, device=device)
                out[f"{name}/{regime}"] = {
                    "step_ms": 1e3 * t, "mlp_step_ms": 1e3 * t_mlp, "over_mlp": t / t_mlp,
                }  # fmt: skip
                print(f"{name:<26}{regime:<12}{1e3 * t:>9.2f} ms, MLP {1e3 * t_mlp:>7.2f} ms")
    return out


# ---------------------------------------------------------------------------- h. units


def bench_units(n: int = 20) -> dict[str, float]:
    """The local executor's cost of a unit: the first unit (the forkserver's start and
    imports included) and the median of ``n`` more, each a fresh process running
    ``python -m repro train --help``, one at a time. Seconds."""
    import contextlib
    import io

    from repro.pipeline.executor import LocalExecutor
    from repro.pipeline.units import Unit

    def one() -> float:
        t = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            LocalExecutor(1).run([Unit("help", ("train", "--help"))], "bench")
        return time.perf_counter() - t

    first = one()
    return {"first_unit_s": first, "unit_s": statistics.median(one() for _ in range(n))}


# ---------------------------------------------------------------------------- d, e, f


def bench_evaluation() -> dict[str, float]:
    ev = make_eval_config("paper")
    config = make_config("supervised-normal", "procedural", 0, "paper")
    model = build_model(config, torch.Generator().manual_seed(0))
    with tempfile.TemporaryDirectory() as tmp:  # frozen instances go to a scratch folder
        test = eval_dataset("test", config, ev, Path(tmp))
        plan = eval_dataset("plan", config, ev, Path(tmp))
    scorer = ModelScorer(model, config)
    # Heuristic maps of all instances, then both planners on them.
    plan_s = median_time(lambda: plan_all(scorer, plan, ev), 1, windows=3, warmup=1)
    plan_manhattan = median_time(
        lambda: plan_all(BaselineScorer("manhattan"), plan, ev), 1, windows=3, warmup=1
    )
    spear_s = median_time(
        lambda: spearman_metrics(trajectory_predictions(scorer, test), test, ev), 1, 3, 1
    )
    build_s = median_time(lambda: make_dataset("normal", 4000, 0, 20, "procedural"), 1, 3, 1)
    return {
        "planning_400_both_modes_model_s": plan_s,
        "planning_400_both_modes_manhattan_s": plan_manhattan,
        "spearman_full_test_set_s": spear_s,
        "dataset_build_4000_procedural_s": build_s,
    }


# Runs a command line in this interpreter, then prints its peak resident memory. The peak is
# read from /proc (VmHWM, the high-water mark of the memory this process has mapped since its
# exec), not from getrusage: ru_maxrss survives exec, so a child of a large process (the bench
# itself, after its groups of 40) would report its parent's peak instead of its own.
_PEAK_RSS = (
    "import sys\nfrom repro.cli import main\ncode = main(sys.argv[1:])\n"
    "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM:')]\n"
    "print(hwm[0].split()[1] if hwm else -1)\nsys.exit(code)\n"
)


def peak_training_rss_mb(steps: int = 1000) -> float:
    """Peak RSS (MB) of a paper-scale training process (procedural contrastive, the largest)."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {"PATH": "/usr/bin:/bin"}
        if "PYTHONPATH" in os.environ:  # a source checkout run without installing the package
            env["PYTHONPATH"] = os.environ["PYTHONPATH"]
        argv = ["--results", tmp, "train", "--config", "contrastive-normal"]
        argv += ["--regime", "procedural"]
        out = subprocess.run(
            [sys.executable, "-c", _PEAK_RSS, *argv, "--set", f"steps={steps}"],
            check=True,
            capture_output=True,
            text=True,
            env=env,
        )
    return int(out.stdout.split()[-1]) / 1024.0  # VmHWM is in kB


def main(root: Path, device: str = "auto") -> dict[str, Any]:
    """Run every measurement on ``device`` ('auto': CUDA when present) and write
    ``<root>/bench.json`` (``root``: the results folder).

    The evaluation timings and the peak RSS are always taken on the CPU (planning is numpy).
    """
    dev = resolve_device(device)
    torch.set_num_threads(1)
    name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu"
    out: dict[str, Any] = {"device": name, "threads": 1, "batch": BATCH, "training": {}}
    print(f"device: {name}")
    print(
        f"{'method':<12}{'regime':<12}{'ours/s':>10}{'ref/s':>10}{'x ref':>8}"
        f"{'dense ms':>10}{'step ms':>9}{'x dense':>9}"
    )
    for method in PAPER_METHODS:
        for regime in REGIMES:
            ours, ds, config = our_step(method, regime, dev)
            ref = reference_step(method, regime, ds, config, dev)
            dense = dense_matmul_step(method, regime, config, dev)
            t_ours = median_time(ours, 100, device=dev)
            t_ref = median_time(ref, 100, device=dev)
            t_dense = median_time(dense, 100, device=dev)
            row = {
                "ours_samples_per_s": BATCH / t_ours,
                "reference_samples_per_s": BATCH / t_ref,
                "speedup_vs_reference": t_ref / t_ours,
                "step_ms": 1e3 * t_ours,
                "dense_matmul_ms": 1e3 * t_dense,
                "step_over_dense_matmul": t_ours / t_dense,
            }
            out["training"][f"{method}/{regime}"] = row
            print(
                f"{method:<12}{regime:<12}{row['ours_samples_per_s']:>10.0f}"
                f"{row['reference_samples_per_s']:>10.0f}{row['speedup_vs_reference']:>8.2f}"
                f"{row['dense_matmul_ms']:>10.3f}{row['step_ms']:>9.3f}"
                f"{row['step_over_dense_matmul']:>9.2f}"
            )
    out["other_models"] = bench_other_models(dev)
    print(f"group step per member (ms), R = {', '.join(map(str, GROUP_SIZES))}")
    out["groups"] = {"sizes": list(GROUP_SIZES), "per_member_step_ms": bench_groups(dev)}
    out["units"] = bench_units()
    print(
        f"local unit: first {out['units']['first_unit_s']:.3f} s (forkserver start), then "
        f"{1e3 * out['units']['unit_s']:.1f} ms each"
    )
    out["evaluation"] = bench_evaluation()
    for k, v in out["evaluation"].items():
        print(f"{k:<42}{v:>8.3f} s")
    out["peak_training_rss_mb"] = peak_training_rss_mb()
    print(f"{'peak RSS of a paper-scale training run':<42}{out['peak_training_rss_mb']:>8.0f} MB")
    if timings_file(root).exists():
        timings = read_json(timings_file(root))
        # The last reproduce in which every stage did work (from an empty cache or --force).
        out["last_full_reproduce"] = timings.get("full_run")
        for k, v in (timings.get("full_run") or {}).get("stages_s", {}).items():
            print(f"full reproduce, stage {k:<20}{v:>8.1f} s")
    write_json(root / "bench.json", _rounded(out))
    print(f"written: {root / 'bench.json'}")
    page = readme.performance_file()
    if is_default(root) and readme.has_section(page, "performance"):
        changed = readme.update("performance", readme.performance(_rounded(out)), page)
        print(f"{page}: performance table {'updated' if changed else 'unchanged'}")
    return out


def _rounded(obj):
    if isinstance(obj, float):
        return round(obj, 4)
    if isinstance(obj, dict):
        return {k: _rounded(v) for k, v in obj.items()}
    return obj


def cli(argv: list[str] | None = None) -> int:
    """``python -m repro.bench [--device auto|cpu|cuda] [--results DIR]``; exit 2 if bad."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m repro.bench", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda[:N]")
    parser.add_argument(
        "--results", default=None, help="results folder (default: $REPRO_RESULTS or results/)"
    )
    args = parser.parse_args(argv)
    try:
        main(chosen_results(args.results) or default_results_dir(), args.device)
    except BadInput as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(cli())
