"""The prepared accelerator check (``nox -s gpu-check``) runs every step on the CPU at smoke
scale, so that it cannot rot between the sessions that have a GPU."""

from __future__ import annotations

import subprocess
import sys

import pytest

from repro.gpucheck import SIZES, TOL, table
from repro.io import read_json

pytestmark = pytest.mark.slow


def test_gpu_check_runs_every_step_on_the_cpu(tmp_path):
    out = tmp_path / "gpu.json"
    argv = [sys.executable, "-m", "repro.gpucheck", "--device", "cpu", "--scale", "smoke"]
    run = subprocess.run([*argv, "--out", str(out)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-3000:]
    report = read_json(out)
    assert report["device"]["name"] == "cpu" and report["scale"] == "smoke"
    for name in ("supervised-normal", "contrastive-normal"):
        e = report["equivalence"][name]
        # On the CPU a member and its run alone agree as the group tests require, and a
        # killed group resumes to the bits of an uninterrupted one.
        assert e["within_cpu_tolerance"] and e["group_vs_alone_weight"] <= TOL
        assert e["resume_bitwise"]
    assert set(report["step_ms"]) == {
        f"{m}/{r}" for m in ("supervised", "contrastive") for r in ("fixed", "procedural")
    }
    assert all(sorted(v, key=int) == [str(r) for r in SIZES] for v in report["step_ms"].values())
    assert all(x > 0 for v in report["step_ms"].values() for x in v.values())
    for name in ("supervised-normal", "contrastive-normal"):
        g = report["graphs"]["methods"][name]
        # On the CPU nothing is captured, so the 'graphed' group is the eager one, bit for bit.
        assert not g["captured"] and "CUDA graphs need a CUDA device" in g["note"]
        assert g["weight_diff"] == 0.0 and g["eager_steps_per_s"] > 0
    assert report["graphs"]["default_cuda_graphs"] is False
    study = report["study"]
    assert study["compare"] is None and study["wall_s"] > 0
    assert {"train", "evaluate", "summary"} <= set(study["stages_s"])
    assert run.stdout.strip().endswith(table(report).splitlines()[-1])


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--device", "cuda"], "CUDA is not available"),
        (["--device", "cpu", "--scale", "huge"], "unknown scale 'huge'"),
        (["--device", "cpu", "--jobs", "x"], "--jobs must be an integer"),
    ],
)
def test_gpu_check_bad_input_is_exit_2_before_any_work(args, said, tmp_path):
    out = tmp_path / "gpu.json"
    run = subprocess.run(
        [sys.executable, "-m", "repro.gpucheck", *args, "--out", str(out)],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 2 and said in run.stderr and "Traceback" not in run.stderr
    assert not out.exists()
