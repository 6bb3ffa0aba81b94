"""A damaged summary is one line naming the file and the key path (never a traceback), for
``compare`` and ``figures`` alike, and ``compare`` never says "reproduced" about nothing."""

from __future__ import annotations

import copy
import functools
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import FAULT_COUNTS
from repro import cli
from repro.errors import BadInput
from repro.io import write_json
from repro.paths import figures_dir, summary_file
from repro.results import compare as cmp
from repro.results.shape import MAX_DEPTH
from repro.results.view import Summary
from repro.studies.registry import check_summary  # every study block checked too
from test_compare import committed_dict


def leaf_paths(d, path=()):
    """Every key path of ``d`` (objects and lists walked), the root left out."""
    items = d.items() if isinstance(d, dict) else enumerate(d) if isinstance(d, list) else ()
    for k, v in items:
        yield (*path, k)
        yield from leaf_paths(v, (*path, k))


def at(d, path):
    for k in path:
        d = d[k]
    return d


def wrong_kind(value):
    """A JSON value of another kind than ``value`` (the view reads each path as one kind)."""
    if isinstance(value, dict):
        return "an object was here"
    if isinstance(value, list):
        return {"a": 1}
    if isinstance(value, str):
        return ["a list"]
    if value is None or isinstance(value, bool):
        return "text"
    return "not a number"


pytestmark = pytest.mark.faults  # part of `nox -s faults` and of its table of cases


def count(category: str, n: int = 1) -> None:
    FAULT_COUNTS[category] = FAULT_COUNTS.get(category, 0) + n


PATHS = [p for p in leaf_paths(committed_dict()) if at(committed_dict(), p) is not None]


@settings(max_examples=80, deadline=None)
@given(st.sampled_from(PATHS))
def test_a_wrong_type_at_any_key_path_is_named(path):
    d = committed_dict()
    parent = at(d, path[:-1])
    parent[path[-1]] = wrong_kind(parent[path[-1]])
    dotted = ".".join(str(k) for k in path)
    with pytest.raises(BadInput, match=r"^summary\.json: ") as e:
        check_summary(json.loads(json.dumps(d)), "summary.json")
    assert dotted in str(e.value) or dotted.startswith(str(e.value).split(": ")[1].split(" ")[0])
    count("h. summary with a wrong type at a key path: refused, the path named")


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_a_non_finite_number_is_named(bad):
    d = committed_dict()
    d["runs"]["fixed"]["supervised-normal"]["metrics"]["roughness"]["mean"] = bad
    with pytest.raises(BadInput, match="runs.fixed.supervised-normal.metrics.roughness.mean is"):
        check_summary(d, "s.json")
    count("h. summary with a non-finite number: refused, the path named")


def test_deep_and_huge_values_are_one_line_errors(tmp_path, capsys, root):
    committed = tmp_path / "committed"
    write_json(committed / "summary.json", committed_dict())
    for text, what in (
        ('{"runs": ' + "[" * 100_000 + "]" * 100_000 + "}", "nests too deeply"),
        ('{"seeds": [' + "7" * 5000 + "]}", "will not read"),
        ('{"x": ' + "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5) + "}", "nests deeper than"),
    ):
        summary_file(root).parent.mkdir(parents=True, exist_ok=True)
        summary_file(root).write_text(text)
        rc = cli.main(["compare", "--against", str(committed)])
        out = capsys.readouterr()
        assert rc == 2 and out.out == "" and out.err.count("\n") == 1, out.err[:300]
        assert out.err.startswith(f"error: {summary_file(root)}") and what in out.err
        count("h. summary too deep or too large: one line, exit 2")


@pytest.mark.parametrize(
    "damage",
    [
        {"runs": "all of them"},
        {"runs": 3},
        {"scale": {"paper": True}},
        {"claims": "C1 holds"},
        {"claims": [{"id": "C1", "regimes": {"fixed": "holds"}}]},
        {"seeds": [0, "one"]},
    ],
)
def test_compare_and_figures_refuse_a_malformed_summary_and_write_nothing(
    tmp_path, capsys, damage, root
):
    committed = tmp_path / "committed"
    write_json(committed / "summary.json", committed_dict())
    write_json(summary_file(root), {**committed_dict(), **damage})
    before = sorted(p.name for p in summary_file(root).parent.rglob("*"))
    for argv in (["compare", "--against", str(committed)], ["figures"]):
        rc = cli.main(argv)
        out = capsys.readouterr()
        assert rc == 2 and out.out == "" and out.err.count("\n") == 1, (argv, out.err)
        assert out.err.startswith(f"error: {summary_file(root)}: "), out.err
    assert not figures_dir(root).exists()
    assert sorted(p.name for p in summary_file(root).parent.rglob("*")) == before
    count("h. malformed summary: compare and figures exit 2, nothing written", 2)


def _compare(fresh: dict, committed: dict) -> cmp.Comparison:
    return cmp.compare(
        Summary.from_dict(check_summary(fresh, "f")),
        Summary.from_dict(check_summary(committed, "c")),
    )


def test_nothing_compared_is_never_reproduced():
    c = _compare({}, {})
    assert not c.reproduced and "no number was compared" in c.problems
    assert "the fresh and the committed summary has no 'runs'" in c.problems
    only_claims = {"claims": committed_dict()["claims"]}
    c = _compare(only_claims, only_claims)
    assert not c.reproduced and not c.changed and len(c.numbers) == 0
    no_runs = {**committed_dict(), "runs": {}, "ablations": {}, "baselines": {}}
    c = _compare(no_runs, committed_dict())
    assert not c.reproduced and "the fresh summary has no 'runs'" in c.problems
    count("h. nothing compared: never 'reproduced'", 3)


def test_committed_numbers_missing_from_the_entries_you_ran_fail():
    d = committed_dict()
    del d["runs"]["fixed"]["supervised-normal"]["metrics"]["roughness"]
    c = _compare(d, committed_dict())
    assert not c.reproduced and not c.outside
    assert c.problems == (
        "1 committed number of the entries the rerun ran is missing from it "
        "(first: fixed supervised-normal roughness)",
    )
    # An entry not rerun at all (a baseline left out) is outside the rerun's scope.
    d = committed_dict()
    del d["baselines"]["fixed"]["oracle"]
    assert _compare(d, committed_dict()).reproduced


def test_the_cli_says_why_it_is_not_reproduced(tmp_path, capsys, root):
    committed = tmp_path / "committed"
    write_json(committed / "summary.json", {})
    write_json(summary_file(root), {})
    rc = cli.main(["compare", "--against", str(committed)])
    out = capsys.readouterr().out
    assert rc == 1 and out.rstrip().endswith("not reproduced")
    assert "problem: no number was compared" in out
    same = copy.deepcopy(committed_dict())
    write_json(committed / "summary.json", same)
    write_json(summary_file(root), same)
    assert cli.main(["compare", "--against", str(committed)]) == 0


@functools.cache
def committed_paths() -> tuple[dict, list]:
    """The committed paper-scale summary and every key path of it (about 160,000)."""
    from repro.io import read_json
    from repro.paths import PROJECT

    d = read_json(PROJECT / "results" / "summary.json")
    return d, list(leaf_paths(d))


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=0, max_value=10**9))
def test_a_wrong_type_anywhere_in_the_real_summary_is_refused(i):
    """Every key path of the committed summary is one the check reads: a value of the wrong
    kind anywhere (a figure's data included) is refused before anything draws from it."""
    d, paths = committed_paths()
    path = paths[i % len(paths)]
    parent = at(d, path[:-1])
    old = parent[path[-1]]
    parent[path[-1]] = wrong_kind(old)
    try:
        with pytest.raises(BadInput, match=r"^summary\.json: "):
            check_summary(d, "summary.json")
    finally:
        parent[path[-1]] = old
    count("h. committed summary with a wrong type at a random key path: refused")
