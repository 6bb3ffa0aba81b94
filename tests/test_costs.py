"""The report's appendix of costs (repro.report.costs): read from timings.json and
bench.json, only their lasting parts in the report stage's key."""

from __future__ import annotations

from repro.io import write_json
from repro.report.costs import context, costs, digest, load

TIMINGS = {
    "scale": "paper",
    "stages_s": {"train": 0.5, "total": 1.0},  # an ordinary rerun: not in the appendix
    "full_run": {"seeds": 3, "stages_s": {"train": 600.0, "evaluate": 120.0, "total": 720.0}},
    "studies": {"walls": {"wall_s": 3000.0, "cpu_s": 5940.0}},
}
BENCH = {
    "training": {"supervised/fixed": {"step_ms": 2.41, "speedup_vs_reference": 2.9}},
    "other_models": {"supervised_conv/fixed": {"step_ms": 57.2, "mlp_step_ms": 2.4}},
}


def test_the_appendix_rows_come_from_the_records():
    c = context(costs(TIMINGS, BENCH))
    rows = {r["name"]: (r["wall"], r["cpu"]) for r in c["rows"]}  # no study folders: no runs
    assert rows == {"train": ("10.0", "--"), "evaluate": ("2.0", "--"),
                    "study: walls": ("50.0", "99.0")}  # fmt: skip
    assert c["total"] == "12.0" and c["seeds"] == "3"
    assert [(s["name"], s["ms"]) for s in c["steps"]] == [
        ("supervised/fixed", "2.4"), ("supervised conv/fixed", "57.2"),
    ]  # fmt: skip
    assert context(costs({}, {})) == {} and context(None) == {}
    # A smoke summary's report has no appendix: its seconds say nothing of a study's cost,
    # and they differ between two runs of the same smoke study.
    assert context(costs(TIMINGS, BENCH), "smoke") == {}


def test_only_the_lasting_records_change_the_report_key(tmp_path):
    assert load(tmp_path) == {**costs({}, {}), "training": {}}  # no records: no error
    (tmp_path / "bench.json").write_text("{not json")  # a damaged record reads as none
    assert load(tmp_path)["steps"] == {}
    write_json(tmp_path / "timings.json", TIMINGS)
    before = digest(tmp_path)
    write_json(tmp_path / "timings.json", {**TIMINGS, "stages_s": {"train": 9.0, "total": 9.0}})
    assert digest(tmp_path) == before  # an ordinary rerun's times
    studies = {"walls": {"wall_s": 10.0, "cpu_s": 20.0}}
    write_json(tmp_path / "timings.json", {**TIMINGS, "studies": studies})
    assert digest(tmp_path) != before  # a study's stage ran again


def test_a_studys_training_is_summed_over_its_runs_whoever_trained_them(tmp_path):
    for arm, run, wall in (("headline", "a__s0", 600.0), ("recurrent", "b__s0", 300.0)):
        write_json(tmp_path / "walls" / arm / "runs" / "procedural" / run / "run.json",
                   {"wall_time_s": wall})  # fmt: skip
    write_json(tmp_path / "runs" / "fixed" / "c__s0" / "run.json", {"wall_time_s": 5.0})  # main
    before = digest(tmp_path)
    c = load(tmp_path)
    assert c["training"] == {"walls": {"runs": 2.0, "train_s": 900.0}}
    rows = {r["name"]: (r["runs"], r["train"]) for r in context(c)["rows"]}
    assert rows == {"study: walls": ("2", "15.0")}  # a study with no stage time still counts
    write_json(tmp_path / "walls" / "headline" / "runs" / "procedural" / "d__s1" / "run.json",
               {"wall_time_s": 60.0})  # fmt: skip
    assert digest(tmp_path) != before  # a new run of a study changes the appendix
