"""``nox -s gpu-check``: the accelerator path checked by one prepared command.

``reproduce --trainer auto`` sends groups of runs to the group trainer on CUDA; this command
checks that path on the machine it runs on, in one call, and writes what it measured to one
JSON (``results/gpu.json`` by default) and a table:

a. equivalence: each method's runs trained as a group of 4 against the same runs alone, on
   the device (smoke settings): the largest difference on the loss log and on a weight,
   against the CPU tolerance of the group tests (:data:`TOL`); and a group killed part way
   and resumed against the same group uninterrupted (bits, or the largest difference);
b. speed: the time of one group step per member for R in :data:`SIZES` (R = 1 is a run
   alone, the single trainer's step), for every method and regime (:mod:`repro.bench`);
c. the study: ``reproduce --force --trainer auto --no-family --ablation-seeds 0`` at the
   chosen scale into a temporary results folder, its stage times, and at paper scale
   ``compare`` against the committed results;
d. CUDA graphs: per method, a group of 4 trained with its step replayed as a CUDA graph
   (``--cuda-graphs``, :mod:`repro.learn.graphs`) against the same group stepped eagerly: the
   largest weight difference, whether the graph was captured, the steps per second each way,
   and the default the measurement argues for (on the CPU nothing is captured and the two
   trainings are the same);
e. the device's name and the torch and CUDA versions.

On a machine without a GPU, ``--device cpu --scale smoke`` runs every step in a few
minutes (the test suite does so), so the command cannot rot between the sessions that
have a GPU.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from repro.config import SCALES, make_config
from repro.errors import BadInput
from repro.io import read_json, write_json
from repro.paths import chosen_results

SIZES = (1, 4, 16, 40)  # members of a group whose per-member step time is measured
# The group tests' tolerance on the CPU (tests/test_group.py): a member against its run
# alone, on every loss-log value and every weight, at smoke scale.
TOL = 5e-5


def _max_diff(a: Path, b: Path) -> float:
    """The largest absolute difference between two weight files (same keys and shapes)."""
    x = torch.load(a, map_location="cpu", weights_only=True)
    y = torch.load(b, map_location="cpu", weights_only=True)
    return max(float((x[k].double() - y[k].double()).abs().max()) for k in x)


def _loss_diff(a: Path, b: Path) -> float:
    """The largest absolute difference between two loss logs (loss.csv, same rows)."""
    rows = [f.read_text().splitlines()[1:] for f in (a / "loss.csv", b / "loss.csv")]
    diffs = [
        abs(float(u) - float(v))
        for ra, rb in zip(*rows, strict=True)
        for u, v in zip(ra.split(",")[1:], rb.split(",")[1:], strict=True)
    ]
    return max(diffs, default=0.0)


class _Stop(Exception):
    """Raised inside a training step to cut a group short (a kill, without the process)."""


def equivalence(device: str, tmp: Path) -> dict[str, Any]:
    """Groups of 4 against their runs alone, and a killed group against an uninterrupted
    one, per method, on ``device`` (smoke settings, procedural regime)."""
    from repro.learn.train import train, train_runs

    out: dict[str, Any] = {}
    for name in ("supervised-normal", "contrastive-normal"):
        configs = [make_config(name, "procedural", seed, "smoke") for seed in range(4)]
        group = [tmp / f"{name}-group{i}" for i in range(4)]
        alone = [tmp / f"{name}-alone{i}" for i in range(4)]
        cut = [tmp / f"{name}-cut{i}" for i in range(4)]
        train_runs(configs, group, device=device, progress=False)
        for c, d in zip(configs, alone, strict=True):
            train(c, d, device=device, progress=False)
        loss = max(_loss_diff(g, a) for g, a in zip(group, alone, strict=True))
        pairs = list(zip(group, alone, strict=True))
        weights = max(_max_diff(g / "model.pt", a / "model.pt") for g, a in pairs)

        def stop(step: int) -> None:
            if step == 33:
                raise _Stop

        try:
            train_runs(configs, cut, device=device, progress=False, on_step=stop)
        except _Stop:
            pass
        train_runs(configs, cut, device=device, progress=False)  # resumes from step 20
        resumed = max(
            _max_diff(g / "model.pt", c / "model.pt") for g, c in zip(group, cut, strict=True)
        )
        same_log = all(
            (g / "loss.csv").read_text() == (c / "loss.csv").read_text()
            for g, c in zip(group, cut, strict=True)
        )
        out[name] = {
            "group_vs_alone_loss": loss,
            "group_vs_alone_weight": weights,
            "within_cpu_tolerance": loss <= TOL and weights <= TOL,
            "resume_weight_diff": resumed,
            "resume_bitwise": resumed == 0.0 and same_log,
        }
    return out


# --cuda-graphs should be the default where replaying the group step is at least this much
# faster than stepping eagerly, with weights within TOL of the eager ones.
GRAPHS_WORTH = 1.2
GRAPH_STEPS = {"paper": 2000, "smoke": 60}  # steps of each graphs-check training


def graphs(device: str, scale: str, tmp: Path) -> dict[str, Any]:
    """Per method, a group of 4 with and without ``cuda_graphs`` (the same runs, procedural
    regime, the scale's settings for GRAPH_STEPS steps): weight difference, capture, speed."""
    from repro.learn.train import train_runs

    out: dict[str, Any] = {}
    for name in ("supervised-normal", "contrastive-normal"):
        sets = {"steps": GRAPH_STEPS[scale]}
        configs = [make_config(name, "procedural", seed, scale, sets) for seed in range(4)]
        speed = {}
        for way, on in (("eager", False), ("graphed", True)):
            outs = [tmp / f"graphs-{name}-{way}{i}" for i in range(4)]
            metas = train_runs(configs, outs, device=device, progress=False, cuda_graphs=on)
            speed[way] = metas[0]["steps_per_s"]
        pairs = [(tmp / f"graphs-{name}-eager{i}", tmp / f"graphs-{name}-graphed{i}")
                 for i in range(4)]  # fmt: skip
        diff = max(_max_diff(e / "model.pt", g / "model.pt") for e, g in pairs)
        note = read_json(pairs[0][1] / "run.json").get("cuda_graph")
        out[name] = {
            "captured": note == "captured",
            "note": note,
            "weight_diff": diff,
            "eager_steps_per_s": speed["eager"],
            "graphed_steps_per_s": speed["graphed"],
            "speedup": speed["graphed"] / speed["eager"] if speed["eager"] else None,
        }
    worth = all(
        g["captured"] and g["weight_diff"] <= TOL and (g["speedup"] or 0) >= GRAPHS_WORTH
        for g in out.values()
    )
    return {"methods": out, "default_cuda_graphs": worth}


def step_times(device: str, scale: str) -> dict[str, dict[str, float]]:
    """Per method/regime, ms of one group step per member for each R of :data:`SIZES`."""
    from repro.bench import bench_groups
    from repro.learn.runfiles import resolve_device

    return bench_groups(resolve_device(device), scale, SIZES)


def study(device: str, scale: str, jobs: int) -> dict[str, Any]:
    """The study through ``reproduce --trainer auto`` (no family, no ablations, no PDF) into a
    temporary folder: wall time, stage times and, at paper scale, ``compare``'s answer."""
    env = dict(os.environ)
    if device == "cpu":
        env["CUDA_VISIBLE_DEVICES"] = ""  # the units' 'auto' device is then the CPU
    with tempfile.TemporaryDirectory(prefix="gpu-check-") as tmp:
        argv = [sys.executable, "-m", "repro", "--results", tmp, "reproduce", "--scale", scale]
        argv += ["--force", "--trainer", "auto", "--no-family", "--ablation-seeds", "0"]
        argv += ["--no-pdf", "--jobs", str(jobs)]
        start = time.perf_counter()
        run = subprocess.run(argv, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - start
        if run.returncode != 0:
            raise BadInput(f"reproduce failed (exit {run.returncode}): {run.stderr[-2000:]}")
        timings = read_json(Path(tmp) / "timings.json")
        out: dict[str, Any] = {"wall_s": wall, "stages_s": timings.get("stages_s", {})}
        if scale == "paper":
            compare = subprocess.run(
                [sys.executable, "-m", "repro", "--results", tmp, "compare"],
                env=env, capture_output=True, text=True,
            )  # fmt: skip
            out["compare"] = {"reproduced": compare.returncode == 0, "text": compare.stdout}
        else:
            out["compare"] = None  # a smoke summary has no committed counterpart
    return out


def device_info(device: str) -> dict[str, Any]:
    """The device's name and the torch and CUDA versions."""
    from repro.learn.runfiles import resolve_device

    dev = resolve_device(device)
    name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu"
    return {
        "device": str(dev),
        "name": name,
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
    }


def table(report: dict[str, Any]) -> str:
    """The measurements as plain-text lines."""
    lines = [f"device: {report['device']['name']} ({report['device']['device']}), "
             f"torch {report['device']['torch']}, CUDA {report['device']['cuda']}"]  # fmt: skip
    lines.append("equivalence (max |group - alone|; resume after a kill):")
    for name, e in report["equivalence"].items():
        ok = "within" if e["within_cpu_tolerance"] else "OUTSIDE"
        resume = "bitwise" if e["resume_bitwise"] else f"max diff {e['resume_weight_diff']:.2e}"
        lines.append(
            f"  {name:<20} loss {e['group_vs_alone_loss']:.2e}, weight "
            f"{e['group_vs_alone_weight']:.2e} ({ok} the CPU tolerance {TOL:g}); resume {resume}"
        )
    lines.append("ms per member-step, R = " + ", ".join(str(r) for r in SIZES) + ":")
    for arch, per in report["step_ms"].items():
        lines.append(f"  {arch:<24}" + "".join(f"{v:>9.3f}" for v in per.values()))
    lines.append("CUDA graphs (graphed against eager, a group of 4):")
    for name, g in report["graphs"]["methods"].items():
        speed = "" if g["speedup"] is None else f", {g['speedup']:.2f}x the eager speed"
        lines.append(f"  {name:<20} {g['note']}; weight diff {g['weight_diff']:.2e}{speed}")
    worth = report["graphs"]["default_cuda_graphs"]
    lines.append(f"  --cuda-graphs as the default: {'yes' if worth else 'no'} "
                 f"(captured, within {TOL:g}, and at least {GRAPHS_WORTH}x faster)")  # fmt: skip
    s = report["study"]
    lines.append(f"study ({report['scale']} scale, --trainer auto): {s['wall_s']:.1f} s wall")
    if s["compare"] is not None:
        lines.append(f"  compare: {'reproduced' if s['compare']['reproduced'] else 'differs'}")
    return "\n".join(lines)


def main(device: str, scale: str, out: Path, jobs: int) -> dict[str, Any]:
    """Run every check on ``device`` at ``scale``; write ``out`` and return the report."""
    if scale not in SCALES:
        raise BadInput(f"unknown scale {scale!r}; choose from: {', '.join(SCALES)}")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise BadInput(f"--device {device}: CUDA is not available on this machine")
    with tempfile.TemporaryDirectory(prefix="gpu-check-runs-") as tmp:
        eq = equivalence(device, Path(tmp))
        captured = graphs(device, scale, Path(tmp))
    report = {
        "scale": scale,
        "device": device_info(device),
        "equivalence": eq,
        "graphs": captured,
        "step_ms": step_times(device, scale),
        "study": study(device, scale, jobs),
    }
    write_json(out, report)
    print(table(report))
    return report


def cli(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m repro.gpucheck", description=__doc__.split("\n")[0])
    p.add_argument("--device", default="cuda", help="cuda (default), cuda:N or cpu")
    p.add_argument("--scale", default="paper", help=f"{' | '.join(SCALES)} (default paper)")
    p.add_argument("--out", default=None, help="the JSON to write (default <results>/gpu.json)")
    p.add_argument("--results", default=None, help="results folder (default ./results)")
    p.add_argument("--jobs", default="2", help="local processes of the reproduce (default 2)")
    args = p.parse_args(argv)
    if not args.jobs.isascii() or not args.jobs.isdigit() or not 1 <= int(args.jobs) <= 256:
        print(f"error: --jobs must be an integer in [1, 256]; got {args.jobs!r}", file=sys.stderr)
        return 2
    out = Path(args.out) if args.out else (chosen_results(args.results) or Path("results"))
    out = out if args.out else out / "gpu.json"
    try:
        main(args.device, args.scale, out, int(args.jobs))
    except BadInput as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(cli())
