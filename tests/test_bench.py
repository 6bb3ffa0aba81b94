"""The benchmark's plumbing (its timings are measured by `nox -s bench`, never asserted).

What is checked: the timer takes the median of its windows; every derived number in
bench.json follows from the measured times (samples/s, speed-up, step over dense
products); bench.json goes to the results folder REPRO_RESULTS names; the README's
performance section shows the numbers it is given, and is only rewritten for the
default results folder.
"""

import json
import os
import re
import statistics

import pytest
import torch

from repro import bench, paths
from repro.report import readme


def test_bench_keeps_the_callers_results_folder(monkeypatch, tmp_path):
    """The evaluation timing borrows REPRO_RESULTS for scratch instances and gives it back."""
    import repro.bench

    monkeypatch.setenv("REPRO_RESULTS", str(tmp_path))

    def boom(*args, **kwargs):
        raise RuntimeError("stop here")

    monkeypatch.setattr(repro.bench, "eval_dataset", boom)
    with pytest.raises(RuntimeError, match="stop here"):
        bench.bench_evaluation()
    assert os.environ["REPRO_RESULTS"] == str(tmp_path)


def test_bench_cli_refuses_an_unknown_device(capsys):
    assert bench.cli(["--device", "nonsense"]) == 2
    assert "unknown device" in capsys.readouterr().err


# ---------------------------------------------------------------------------- the timer


class FakeClock:
    """perf_counter that only moves when a timed call says how long it took."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_median_time_is_the_median_of_the_windows_on_a_fake_clock(monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(bench.time, "perf_counter", clock)
    warmup, windows, repeats = 3, 5, 4
    # Warm-up calls take very long (they must not count); then per window, 4 calls.
    means = [0.5, 0.1, 0.9, 0.3, 0.2]  # each window's mean call time
    durations = [1000.0] * warmup + [d for w in means for d in (w, w, w + 0.05, w - 0.05)]
    calls = iter(durations)

    def fn():
        clock.now += next(calls)

    t = bench.median_time(fn, repeats, windows=windows, warmup=warmup)
    assert next(calls, None) is None  # exactly warmup + windows * repeats calls
    assert t == pytest.approx(statistics.median(means)) == pytest.approx(0.3)


def test_median_time_of_an_even_number_of_windows(monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(bench.time, "perf_counter", clock)
    calls = iter([0.4, 0.1, 0.7, 0.2])

    def fn():
        clock.now += next(calls)

    assert bench.median_time(fn, 1, windows=4, warmup=0) == pytest.approx((0.2 + 0.4) / 2)


@pytest.mark.parametrize("method", ["supervised", "contrastive"])
def test_timed_closures_run_on_the_cpu(method):
    step, ds, config = bench.our_step(method, "fixed", torch.device("cpu"))
    assert config.size == ds.size and config.method == method
    step()
    bench.reference_step(method, "fixed", ds, config, torch.device("cpu"))()
    bench.dense_matmul_step(method, "fixed", config, torch.device("cpu"))()
    calls = []
    t = bench.median_time(lambda: calls.append(step()), 2, windows=3, warmup=1)
    assert len(calls) == 1 + 2 * 3 and t > 0


def test_a_local_unit_is_timed_first_and_then_each():
    out = bench.bench_units(n=2)
    assert set(out) == {"first_unit_s", "unit_s"} and out["first_unit_s"] > 0 < out["unit_s"]


def test_group_scaling_is_measured_per_member_on_a_small_setting():
    """bench_groups at smoke scale: a time per member-step for every method, regime and R."""
    step = bench.group_step_closure("contrastive", "procedural", 3, torch.device("cpu"), "smoke")
    step()
    out = bench.bench_groups(torch.device("cpu"), "smoke", sizes=(1, 2))
    assert set(out) == {
        f"{m}/{r}" for m in ("supervised", "contrastive") for r in ("fixed", "procedural")
    }
    assert all(set(row) == {"1", "2"} and min(row.values()) > 0 for row in out.values())


# ---------------------------------------------------------------------------- bench.json

# Step times (s) per (closure, method, regime), distinct everywhere, as the fake timer's.
TIMES = {
    ("ours", "supervised", "fixed"): 0.002,
    ("ours", "supervised", "procedural"): 0.003,
    ("ours", "contrastive", "fixed"): 0.004,
    ("ours", "contrastive", "procedural"): 0.005,
    ("ref", "supervised", "fixed"): 0.011,
    ("ref", "supervised", "procedural"): 0.017,
    ("ref", "contrastive", "fixed"): 0.019,
    ("ref", "contrastive", "procedural"): 0.023,
    ("dense", "supervised", "fixed"): 0.0005,
    ("dense", "supervised", "procedural"): 0.0007,
    ("dense", "contrastive", "fixed"): 0.0011,
    ("dense", "contrastive", "procedural"): 0.0013,
    # every other registered model (section i), on both regimes
    **{
        ("ours", m, r): 0.5
        for m in bench.METHODS
        if m not in bench.PAPER_METHODS
        for r in ("fixed", "procedural")
    },
}
# Groups: ms per member-step for each R.
GROUPS = {"supervised/fixed": {str(r): 2.0 / r for r in bench.GROUP_SIZES}}
EVALUATION = {
    "planning_400_both_modes_model_s": 1.25,
    "planning_400_both_modes_manhattan_s": 0.5,
    "spearman_full_test_set_s": 0.75,
    "dataset_build_4000_procedural_s": 2.5,
}


@pytest.fixture
def fake_bench(monkeypatch):
    """bench.main with every measurement replaced by a known time; README updates recorded."""

    def closure(kind):
        def make(method, regime, *args, **kwargs):
            def step():
                return None

            step.key = (kind, method, regime)
            return (step, "dataset", "config") if kind == "ours" else step

        return make

    monkeypatch.setattr(bench, "our_step", closure("ours"))
    monkeypatch.setattr(bench, "reference_step", closure("ref"))
    monkeypatch.setattr(bench, "dense_matmul_step", closure("dense"))
    monkeypatch.setattr(bench, "median_time", lambda fn, *a, **k: TIMES[fn.key])
    monkeypatch.setattr(bench, "bench_evaluation", lambda: dict(EVALUATION))
    monkeypatch.setattr(bench, "bench_groups", lambda device: dict(GROUPS))
    monkeypatch.setattr(bench, "peak_training_rss_mb", lambda: 321.5)
    monkeypatch.setattr(bench, "bench_units", lambda: {"first_unit_s": 2.5, "unit_s": 0.025})
    threads = []
    monkeypatch.setattr(bench.torch, "set_num_threads", threads.append)  # this process's own
    updates = []
    monkeypatch.setattr(
        bench.readme, "update", lambda name, body, path=None: updates.append((name, body, path))
    )
    yield updates
    assert threads and set(threads) == {1}  # every measurement on one thread


def test_other_models_are_timed_beside_the_mlp_of_their_objective(fake_bench, root):
    out = bench.main(root, device="cpu")
    row = out["other_models"]["supervised_conv/procedural"]
    assert (
        row["step_ms"] == 500.0
        and row["mlp_step_ms"] == 1e3 * TIMES[("ours", "supervised", "procedural")]
    )
    assert row["over_mlp"] == pytest.approx(0.5 / TIMES[("ours", "supervised", "procedural")])
    others = [m for m in bench.METHODS if m not in bench.PAPER_METHODS]
    assert "supervised_conv" in others and "td" in others
    variants = [m if not v else f"{m}+{v}" for m in others
                for v in ("", *(label for label, _ in bench.VARIANTS.get(m, ())))]  # fmt: skip
    assert "contrastive_qm+mrn" in variants and "supervised_conv+recurrent" in variants
    assert set(out["other_models"]) == {f"{m}/{r}" for m in variants
                                         for r in ("fixed", "procedural")}  # fmt: skip


def test_bench_numbers_follow_from_the_measured_times(fake_bench, root):
    full = {"stages_s": {"train": 600.0, "total": 900.0}, "seeds": 3}
    paths.timings_file(root).parent.mkdir(parents=True, exist_ok=True)
    paths.timings_file(root).write_text(json.dumps({"full_run": full}))
    out = bench.main(root, "cpu")
    written = json.loads((root / "bench.json").read_text())
    assert written == bench._rounded(out)
    assert set(out["training"]) == {
        f"{m}/{r}" for m in ("supervised", "contrastive") for r in ("fixed", "procedural")
    }
    for key, row in out["training"].items():
        method, regime = key.split("/")
        ours, ref, dense = (TIMES[(k, method, regime)] for k in ("ours", "ref", "dense"))
        assert row["ours_samples_per_s"] == pytest.approx(bench.BATCH / ours)
        assert row["reference_samples_per_s"] == pytest.approx(bench.BATCH / ref)
        assert row["speedup_vs_reference"] == pytest.approx(ref / ours)
        assert row["step_ms"] == pytest.approx(1e3 * ours)
        assert row["dense_matmul_ms"] == pytest.approx(1e3 * dense)
        assert row["step_over_dense_matmul"] == pytest.approx(ours / dense)
        # The same relations hold between the numbers as written (4 decimals).
        w = written["training"][key]
        assert w["speedup_vs_reference"] == pytest.approx(
            w["ours_samples_per_s"] / w["reference_samples_per_s"], rel=1e-4
        )
        assert w["ours_samples_per_s"] == pytest.approx(
            1e3 * written["batch"] / w["step_ms"], rel=1e-3
        )
        assert w["step_over_dense_matmul"] == pytest.approx(
            w["step_ms"] / w["dense_matmul_ms"], rel=1e-3
        )
    assert written["evaluation"] == EVALUATION
    assert written["groups"] == {
        "sizes": list(bench.GROUP_SIZES),
        "per_member_step_ms": bench._rounded(GROUPS),
    }
    assert written["peak_training_rss_mb"] == 321.5
    assert written["units"] == {"first_unit_s": 2.5, "unit_s": 0.025}
    assert written["last_full_reproduce"] == full
    assert written["device"] == "cpu" and written["threads"] == 1
    assert written["batch"] == bench.BATCH
    assert fake_bench == []  # not the default results folder: the README is left alone


def test_bench_json_goes_where_repro_results_says(fake_bench, monkeypatch, tmp_path):
    monkeypatch.setenv("REPRO_RESULTS", str(tmp_path / "elsewhere"))
    assert bench.cli(["--device", "cpu"]) == 0
    assert (tmp_path / "elsewhere" / "bench.json").is_file()
    assert bench.cli(["--device", "cpu", "--results", str(tmp_path / "flag")]) == 0
    assert (tmp_path / "flag" / "bench.json").is_file()  # --results before the variable
    assert not (tmp_path / "bench.json").exists()


def test_default_results_folder_also_updates_the_performance_page(
    fake_bench, monkeypatch, tmp_path
):
    """Without REPRO_RESULTS: bench.json in ./results of the current folder (here a stand-in
    project) and docs/performance.md's table rendered from the same numbers."""
    monkeypatch.delenv("REPRO_RESULTS")
    monkeypatch.chdir(tmp_path)
    assert paths.chosen_results() is None
    assert bench.cli(["--device", "cpu"]) == 0
    assert fake_bench == []  # no docs/performance.md with the markers here: nothing to update
    page = tmp_path / "docs" / "performance.md"
    page.parent.mkdir()
    page.write_text("# Performance\n<!-- performance:start -->\n<!-- performance:end -->\n")
    out = bench.main(paths.default_results_dir(), "cpu")
    assert (tmp_path / "results" / "bench.json").is_file()
    assert fake_bench == [("performance", readme.performance(bench._rounded(out)), page)]


# ---------------------------------------------------------------------------- README


def test_readme_performance_renders_the_numbers_it_is_given():
    training = {
        "supervised/fixed": (12345.4, 2345.6, 5.26, 1.75),
        "contrastive/procedural": (777.0, 111.0, 7.0, 3.14159),
    }
    data = {
        "training": {
            k: {
                "ours_samples_per_s": o,
                "reference_samples_per_s": r,
                "speedup_vs_reference": s,
                "step_over_dense_matmul": d,
            }
            for k, (o, r, s, d) in training.items()
        },
        "evaluation": {
            "planning_400_both_modes_model_s": 1.234,
            "spearman_full_test_set_s": 0.456,
            "dataset_build_4000_procedural_s": 7.891,
        },
        "peak_training_rss_mb": 456.7,
    }
    text = readme.performance(data)
    rows = [
        [c.strip() for c in line.strip("|").split("|")]
        for line in text.splitlines()
        if line.startswith(("| supervised/", "| contrastive/"))
    ]
    assert rows == [
        ["supervised/fixed", "12345", "2346", "5.26x", "1.75x"],
        ["contrastive/procedural", "777", "111", "7.00x", "3.14x"],
    ]
    prose = " ".join(text.split())
    for expected in ("1.23 s", "0.46 s", "7.89 s", "457 MB"):
        assert expected in prose
    assert re.search(r"\|---\|---\|---\|---\|---\|", text)
    assert "R=" not in text  # a bench.json without the group trainer's numbers: no table


def test_readme_performance_renders_the_group_table():
    data = {
        "device": "NVIDIA H200",
        "training": {"contrastive/fixed": {"step_ms": 3.25}},
        "groups": {
            "sizes": [1, 4],
            "per_member_step_ms": {"contrastive/fixed": {"1": 3.5, "4": 0.875}},
        },
    }
    text = "\n".join(readme.group_rows(data))
    assert "| ms per member-step | a run alone | R=1 | R=4 |" in text
    assert "| contrastive/fixed | 3.250 | 3.500 | 0.875 |" in text
    assert "NVIDIA H200" in text
