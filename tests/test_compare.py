"""``python -m repro compare``: a fresh summary against a committed one (a folder or a git
ref), on hand-built summaries written to temporary folders."""

import copy
import subprocess

import pytest

from repro import cli
from repro.errors import BadInput
from repro.io import write_json
from repro.paths import summary_file
from repro.results import compare as cmp
from repro.results.view import Summary
from test_claims import aggs


def committed_dict():
    """Two seeds of one configuration and one ablation variant, a baseline, two verdicts."""
    config = {
        "seeds": [0, 1],
        "metrics": {
            "spearman_full": aggs(0.8, 0.9),
            "spearman_full_low": aggs(0.7, 0.8),  # the bootstrap CI: (0.75, 0.95) on average
            "spearman_full_high": aggs(0.9, 1.0),
            "roughness": aggs(0.5, 0.6),
        },
    }
    return {
        "scale": "paper",
        "seeds": [0, 1],
        "runs": {"fixed": {"supervised-normal": config}},
        "baselines": {"fixed": {"oracle": {"metrics": {"search_expanded": aggs(12.0, 12.0)}}}},
        "ablations": {
            "runs": {"fixed": {"supervised-normal+classification": copy.deepcopy(config)}}
        },
        "claims": [
            {"id": "C1", "regimes": {"fixed": {"ours": "x", "verdict": "holds"}}},
            {"id": "C5", "regimes": {"fixed": {"ours": "y", "verdict": "partly"}}},
        ],
    }


def set_mean(d, section, name, metric, value, regime="fixed"):
    """Give the entry's metric a fresh mean ``value`` (its two seeds straddle it)."""
    entries = d[section]["runs"] if section == "ablations" else d[section]
    entries[regime][name]["metrics"][metric] = aggs(value - 0.001, value + 0.001)


@pytest.fixture
def folders(tmp_path, root):
    """(fresh summary path, committed results folder): both hold the committed summary."""
    committed = tmp_path / "committed"
    write_json(committed / "summary.json", committed_dict())
    write_json(summary_file(root), committed_dict())
    return summary_file(root), committed


def run_cli(capsys, *argv):
    rc = cli.main(["compare", *argv])
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_all_within_exits_0(folders, capsys):
    fresh, committed = folders
    d = committed_dict()
    set_mean(d, "runs", "supervised-normal", "roughness", 0.55)  # inside [0.5, 0.6]
    write_json(fresh, d)
    rc, out, err = run_cli(capsys, "--against", str(committed))
    assert rc == 0 and err == ""
    assert f"committed: {committed / 'summary.json'} (scale paper, seeds 0, 1)" in out
    assert "numbers: 9 in both summaries, 9 within the committed seed spread, 0 outside" in out
    assert "verdicts changed: none" in out and out.rstrip().endswith("\nreproduced")


def test_one_number_outside_exits_1_and_is_listed(folders, capsys):
    fresh, committed = folders
    d = committed_dict()
    set_mean(d, "ablations", "supervised-normal+classification", "roughness", 0.7)
    write_json(fresh, d)
    rc, out, _ = run_cli(capsys, "--against", str(committed))
    assert rc == 1
    assert "9 in both summaries, 8 within the committed seed spread, 1 outside" in out
    (row,) = [line for line in out.splitlines() if line.startswith("fixed ")]
    assert row.split() == ["fixed", "supervised-normal+classification", "roughness"] + [
        "[0.5,",
        "0.6]",
        "0.7",
    ]
    assert out.rstrip().endswith("not reproduced")


def test_a_changed_verdict_exits_1_and_is_listed(folders, capsys):
    fresh, committed = folders
    d = committed_dict()
    d["claims"][1]["regimes"]["fixed"]["verdict"] = "undecided"
    d["claims"][0]["regimes"]["procedural"] = {"ours": "z", "verdict": "holds"}
    write_json(fresh, d)
    rc, out, _ = run_cli(capsys, "--against", str(committed))
    assert rc == 1 and "9 within" in out
    assert "verdicts changed: 2" in out
    lines = out.splitlines()
    assert ["C5", "fixed", "partly", "undecided"] in [line.split() for line in lines]
    assert ["C1", "procedural", "not", "checked", "holds"] in [line.split() for line in lines]


def test_the_bootstrap_ci_widens_only_the_full_spearman():
    e = Summary.from_dict(committed_dict()).run("fixed", "supervised-normal")
    assert cmp.committed_interval(e, "spearman_full") == pytest.approx((0.75, 0.95))
    assert cmp.committed_interval(e, "roughness") == (0.5, 0.6)
    fresh = committed_dict()
    set_mean(fresh, "runs", "supervised-normal", "spearman_full", 0.93)  # above 0.9, in the CI
    set_mean(fresh, "runs", "supervised-normal", "spearman_full_high", 1.0 + 1e-6)
    c = cmp.compare(Summary.from_dict(fresh), Summary.from_dict(committed_dict()))
    assert [(n.metric, n.fresh) for n in c.outside] == [("spearman_full_high", 1.0 + 1e-6)]


def test_deterministic_numbers_agree_to_the_tolerance():
    committed = Summary.from_dict(committed_dict())
    for value, within in ((12.0 + 1e-12, True), (12.0 - 1e-12, True), (12.0 + 1e-6, False)):
        d = committed_dict()
        d["baselines"]["fixed"]["oracle"]["metrics"]["search_expanded"] = aggs(value, value)
        c = cmp.compare(Summary.from_dict(d), committed)
        assert c.reproduced is within, value


def test_unmeasured_numbers():
    d = committed_dict()
    d["runs"]["fixed"]["supervised-normal"]["metrics"]["roughness"] = aggs(None, None)
    c = cmp.compare(Summary.from_dict(d), Summary.from_dict(committed_dict()))
    (n,) = c.outside  # measured before, not now
    assert (n.metric, n.fresh, n.interval) == ("roughness", None, (0.5, 0.6))
    assert cmp.compare(Summary.from_dict(d), Summary.from_dict(d)).reproduced  # neither did


def test_numbers_in_one_summary_only_are_counted_not_judged(folders, capsys):
    fresh, committed = folders
    d = committed_dict()
    for e in (
        d["runs"]["fixed"]["supervised-normal"],
        d["ablations"]["runs"]["fixed"]["supervised-normal+classification"],
    ):
        e["metrics"]["loss_improvement"] = aggs(0.1, 0.2)  # a metric added since
    del d["baselines"]["fixed"]["oracle"]  # a baseline not rerun
    write_json(fresh, d)
    rc, out, _ = run_cli(capsys, "--against", str(committed))
    assert rc == 0
    assert "8 in both summaries, 8 within" in out
    assert "2 only in the fresh summary, 1 only in the committed one" in out
    assert "only in the fresh summary: loss_improvement (2 entries)" in out
    assert "only in the committed summary: search_expanded (1 entry)" in out


def test_a_different_scale_is_noted(folders, capsys):
    fresh, committed = folders
    write_json(fresh, {**committed_dict(), "scale": "smoke"})
    _, out, _ = run_cli(capsys, "--against", str(committed))
    assert "note: the two summaries differ in scale" in out


# ---------------------------------------------------------------------------- git


def git(repo, *args):
    subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t", *args],
        check=True,
        capture_output=True,
    )


@pytest.fixture
def repo(tmp_path):
    """A tiny project under git: results/summary.json committed twice (tag 'first')."""
    project = tmp_path / "project"
    git(tmp_path, "init", "-q", str(project))
    write_json(project / "results" / "summary.json", committed_dict())
    git(project, "add", "results/summary.json")
    git(project, "commit", "-q", "-m", "first")
    git(project, "tag", "first")
    d = committed_dict()
    set_mean(d, "runs", "supervised-normal", "roughness", 0.8)
    write_json(project / "results" / "summary.json", d)
    git(project, "commit", "-q", "-am", "second")
    return project


def test_against_a_git_ref(repo, root, capsys):
    d = committed_dict()
    set_mean(d, "runs", "supervised-normal", "roughness", 0.8)
    write_json(summary_file(root), d)
    assert cmp.main(root, None, project=repo) == 0  # HEAD holds these numbers
    assert "committed: HEAD:results/summary.json" in capsys.readouterr().out
    assert cmp.main(root, "first", project=repo) == 1  # the first commit's roughness: 0.5-0.6
    out = capsys.readouterr().out
    assert "committed: first:results/summary.json" in out and "roughness" in out
    assert cmp.main(root, "HEAD~1", project=repo) == 1


@pytest.mark.parametrize("ref", ["no-such-ref", "-p", ""])
def test_a_bad_git_ref_is_bad_input(repo, root, ref):
    write_json(summary_file(root), committed_dict())
    with pytest.raises(BadInput, match="git ref|cannot read"):
        cmp.main(root, ref, project=repo)


def test_a_project_without_git_or_without_the_file_is_bad_input(tmp_path, repo, root, monkeypatch):
    write_json(summary_file(root), committed_dict())
    with pytest.raises(BadInput, match="cannot read HEAD:results/summary.json"):
        cmp.main(root, None, project=tmp_path / "not-a-repo")
    git(repo, "rm", "-q", "results/summary.json")
    git(repo, "commit", "-q", "-m", "gone")
    with pytest.raises(BadInput, match="cannot read HEAD:results/summary.json"):
        cmp.main(root, None, project=repo)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(BadInput, match="git is not installed"):
        cmp.main(root, None, project=repo)


# ---------------------------------------------------------------------------- bad input


def test_a_missing_summary_exits_2_with_one_line(folders, tmp_path, capsys):
    fresh, committed = folders
    (tmp_path / "empty").mkdir()
    rc, out, err = run_cli(capsys, "--against", str(tmp_path / "empty"))
    assert (rc, out) == (2, "")
    assert err == f"error: {tmp_path / 'empty' / 'summary.json'} does not exist\n"
    fresh.unlink()
    rc, out, err = run_cli(capsys, "--against", str(committed))
    assert (rc, out) == (2, "") and err.startswith("error: ") and err.count("\n") == 1
    assert "summary.json does not exist" in err


def test_a_summary_that_is_not_an_object_exits_2(folders, capsys):
    fresh, committed = folders
    fresh.write_text("[1, 2]\n")
    rc, _, err = run_cli(capsys, "--against", str(committed))
    assert rc == 2 and "is not a summary" in err and err.count("\n") == 1


# ---------------------------------------------------------------------------- reproduce


def test_reproduce_line_never_raises(repo, root, tmp_path):
    line = cmp.reproduce_line(root, project=repo)  # no fresh summary yet
    assert line.startswith("compare: not run (") and "does not exist" in line
    d = committed_dict()
    set_mean(d, "runs", "supervised-normal", "roughness", 0.8)
    write_json(summary_file(root), d)
    assert cmp.reproduce_line(root, project=repo) == (
        "compare: 9 of 9 numbers within the committed seed spread, 0 verdicts changed "
        "(python -m repro compare for details)"
    )
    line = cmp.reproduce_line(root, project=tmp_path / "not-a-repo")
    assert line.startswith("compare: not run (cannot read HEAD:results/summary.json")
    d["claims"][0]["regimes"]["fixed"]["verdict"] = "fails"
    write_json(summary_file(root), d)
    assert ", 1 verdict changed (" in cmp.reproduce_line(root, project=repo)


@pytest.mark.parametrize(("scale", "compared"), [("paper", True), ("smoke", False)])
def test_reproduce_ends_with_the_comparison_at_paper_scale(
    scale, compared, root, monkeypatch, capsys
):
    from repro.pipeline import reproduce

    monkeypatch.setattr(reproduce, "_run_stages", lambda *args: None)  # no stage runs
    assert reproduce.main(root, scale, n_seeds=1, n_ablation_seeds=0) == 0  # no summary: still 0
    last = capsys.readouterr().out.splitlines()[-1]
    assert last.startswith("compare: not run (") if compared else last.startswith("report:")
