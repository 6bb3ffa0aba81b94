"""The benchmark's plumbing (its timings are measured by `nox -s bench`, never asserted)."""

import os

import pytest
import torch

from repro.study import bench


def test_bench_keeps_the_callers_results_folder(monkeypatch, tmp_path):
    """The evaluation timing borrows REPRO_RESULTS for scratch instances and gives it back."""
    import repro.study.bench

    monkeypatch.setenv("REPRO_RESULTS", str(tmp_path))

    def boom(*args, **kwargs):
        raise RuntimeError("stop here")

    monkeypatch.setattr(repro.study.bench, "eval_dataset", boom)
    with pytest.raises(RuntimeError, match="stop here"):
        bench.bench_evaluation()
    assert os.environ["REPRO_RESULTS"] == str(tmp_path)


def test_bench_cli_refuses_an_unknown_device(capsys):
    assert bench.cli(["--device", "nonsense"]) == 2
    assert "unknown device" in capsys.readouterr().err


@pytest.mark.parametrize("method", ["supervised", "contrastive"])
def test_timed_closures_run_on_the_cpu(method):
    step, ds, config = bench.our_step(method, "fixed", torch.device("cpu"))
    step()
    bench.reference_step(method, "fixed", ds, config, torch.device("cpu"))()
    bench.dense_matmul_step(method, "fixed", config, torch.device("cpu"))()
    assert bench.median_time(lambda: None, 2, windows=3, warmup=1) >= 0
