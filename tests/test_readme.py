"""README sections are replaced between markers, and only there; the headline table shows the
summary's numbers."""

import json
import os
import re

import pytest

from repro.config import CONFIGS
from repro.report.readme import has_section, replace_section, update
from repro.results.view import Summary
from repro.studies.registry import headline
from test_claims import agg, paperlike


def test_replace_section_only_between_markers():
    text = "intro\n<!-- t:start -->\nold\nlines\n<!-- t:end -->\noutro\n"
    out = replace_section(text, "t", "new table")
    assert out == "intro\n<!-- t:start -->\nnew table\n<!-- t:end -->\noutro\n"
    assert replace_section(out, "t", "new table") == out  # idempotent


def test_missing_markers_named():
    with pytest.raises(ValueError, match="perf:start"):
        replace_section("no markers here", "perf", "x")


def headline_summary():
    """Fixed: the paper-like runs (one seed); procedural: supervised-normal over two seeds."""
    runs = paperlike()
    for entry in runs.values():
        entry["metrics"]["spearman_paper"] = entry["metrics"]["spearman_full"]
    two = {"mean": 0.5, "std": 0.1, "min": 0.4, "max": 0.6, "values": [0.4, 0.6]}
    procedural = {
        "supervised-normal": {
            "metrics": {
                "spearman_paper": two,
                "spearman_full": agg(0.25),
                "greedy_solved": {**two, "values": [0.4, None, 0.6]},
                "search_expanded": {"mean": 50.0, "std": 2.5, "values": [47.5, 52.5]},
            }
        }
    }
    return {
        "seeds": [0],
        "paper": {
            "results": {
                n: {"spearman": 0.5, "greedy_solved": 0.2, "search_expanded": 40.0} for n in runs
            },
            "printed": {  # the paper's digits, quoted as they are
                n: {"spearman": "0.500", "greedy_solved": "0.20", "search_expanded": "40"}
                for n in runs
            },
        },
        "runs": {"fixed": runs, "procedural": procedural},
        "claims": [
            {"id": "C1", "regimes": {"fixed": {"ours": "x", "verdict": "holds"}}},
            {
                "id": "C2",
                "regimes": {
                    "fixed": {"ours": "x", "verdict": "partly"},
                    "procedural": {"ours": "y", "verdict": "fails"},
                },
            },
        ],
    }


def test_headline_rows_show_each_regimes_numbers():
    lines = headline(headline_summary(), None).splitlines()
    rows = [line for line in lines if line.startswith("| ") and "---" not in line][1:]
    assert [r.split(" | ")[0:2] for r in rows] == [
        ["| " + n.split("-")[0], n.split("-")[1]] for n in CONFIGS
    ]
    cells = rows[0].strip("| ").split(" | ")
    assert cells == [
        "supervised",
        "normal",
        "0.500",  # the paper, as printed
        "0.807 / 0.807",  # fixed: one seed, no spread
        "0.500 ± 0.100 / 0.250",  # procedural: protocol over two seeds / full test set
        "0.20",  # the paper's rate, as printed
        "30.0%",
        "50.0 ± 10.0%",  # the rate as a percentage, and its sd too
        "40",
        "46.7",
        "50.0 ± 2.5",
    ]
    # a configuration that did not run in a regime: a dash, not a number
    assert rows[1].strip("| ").split(" | ")[4] == "– / –"


def test_headline_lists_every_verdict_and_the_figure():
    text = headline(Summary.from_dict(headline_summary()), {"stages_s": {"total": 1.0}})
    assert "Claims (report, Table 4): C1 fixed holds; C2 fixed partly, procedural fails." in text
    assert "Each rule is applied to every seed: a verdict stands only when every seed" in text
    assert "results/figures/fig2_heatmaps.png" in text
    assert "Mean ± sd over 1 seeds" in text
    assert "empty cache" not in text  # a cached run is no timing


def test_headline_full_run_timing():
    summary = headline_summary()
    stages = {"total": 600.0, "train": 400.0, "evaluate": 30.0}
    full = {"full_run": {"stages_s": stages, "runs": 12}}
    text = headline(summary, full)
    assert "from an empty cache took 10.0 min" in text
    assert (
        "training the 12 runs (the paper's four configurations and the strict-stitching pair) "
        "6.7 min, evaluating them 0.5 min" in text
    )
    assert "the ablations (training and evaluation) 0.0 min, so 10.0 min without" in text
    full["full_run"]["stages_s"]["ablations"] = 120.0
    full["full_run"]["runs"] = 36
    text = headline(summary, full)
    assert "training the 36 runs" in text
    # a record from before the run count was kept says what it timed, not today's count
    del full["full_run"]["runs"]
    assert "training its runs (an older run: the paper's four configurations only)" in (
        headline(summary, full)
    )
    assert "the ablations (training and evaluation) 2.0 min, so 8.0 min without" in text


def test_only_a_forced_run_is_recorded_as_the_from_scratch_time(tmp_path):
    from repro.pipeline.reproduce import _timings_record

    worked = {"train": True, "evaluate": True}
    resumed = _timings_record(tmp_path, "paper", 3, {"total": 10.0}, worked)
    assert "full_run" not in resumed  # every stage did work, but not from scratch
    forced = _timings_record(tmp_path, "paper", 3, {"total": 99.0}, worked, force=True)
    assert forced["full_run"]["stages_s"] == {"total": 99.0}
    (tmp_path / "timings.json").write_text(json.dumps(forced))
    later = _timings_record(tmp_path, "paper", 3, {"total": 1.0}, {"train": False})
    assert later["full_run"] == forced["full_run"]  # carried over by a cached run


def test_update_writes_only_when_the_block_changes(tmp_path):
    """A rerun with unchanged numbers leaves README.md untouched (bytes and mtime), so a
    reproduce leaves the git tree clean."""
    page = tmp_path / "README.md"
    page.write_text("intro\n<!-- headline:start -->\nold\n<!-- headline:end -->\n")
    assert update("headline", "new", page) is True
    assert page.read_text() == "intro\n<!-- headline:start -->\nnew\n<!-- headline:end -->\n"
    os.utime(page, ns=(1, 1))
    assert update("headline", "new", page) is False
    assert page.stat().st_mtime_ns == 1
    assert has_section(page, "headline") and not has_section(page, "performance")
    assert not has_section(tmp_path / "missing.md", "headline")


def test_findings_put_the_numbers_side_by_side():
    """The four models' range per regime beside the paper's and the baselines' (hand-computed
    from headline_summary: fixed Spearman 0.470-0.939 and greedy 14-30%; procedural has one
    configuration, so its range is one value)."""
    summary = headline_summary()
    summary["baselines"] = {"fixed": {"constant": {"metrics": {"greedy_solved": agg(0.115)}}}}
    lines = headline(summary, None).split("\n\n")[0].splitlines()
    assert lines[0] == (
        "- In one fixed maze at the paper's training length, the four models' full-test "
        "Spearman means lie at 0.470 to 0.939 (the paper, on 10 test trajectories: 0.500) and "
        "greedy descent solves 14.0% to 30.0% of the planning instances (the paper: 20.0%; "
        "the constant heuristic 11.5%, the Manhattan distance –)."
    )
    assert lines[1].startswith("- On unseen mazes at the paper's training length")
    assert "Spearman means lie at 0.250 (the paper" in lines[1]
    assert "greedy descent solves 50.0% of" in lines[1]
    assert len(lines) == 2  # no generalization study in this summary


def test_the_committed_readme_is_a_users_document():
    """No path outside the repository, every link to a file of it resolves, and the headline
    block is exactly what a paper-scale reproduce writes from the committed results (so a
    rerun with the same numbers leaves README.md byte-identical)."""
    from repro.io import read_json
    from repro.paths import PROJECT

    text = (PROJECT / "README.md").read_text(encoding="utf-8")
    assert "../shared" not in text and "DESIGN.md" not in text
    for target in re.findall(r"\]\(([^)#]+)\)", text):
        assert (PROJECT / target).exists(), target
    body = headline(
        read_json(PROJECT / "results/summary.json"),
        read_json(PROJECT / "results/timings.json"),
        with_abstract=True,
    )
    assert replace_section(text, "headline", body) == text


def test_the_headline_quotes_the_reports_abstract():
    """The README opens with the report's abstract, its checked sentences as the PDF prints
    them (no LaTeX left in them)."""
    from repro.io import read_json
    from repro.paths import PROJECT
    from repro.report.readme import abstract_markdown
    from repro.studies.registry import headline as full_headline
    from repro.studies.registry import render

    summary = read_json(PROJECT / "results/summary.json")
    abstract = abstract_markdown(render(summary))
    assert abstract.startswith("We rerun *Metric Learning* (Gawel, 2025)")
    assert "\\" not in abstract and "~" not in abstract and "``" not in abstract
    assert "no model ranks distances as well as the Manhattan distance" in abstract
    assert full_headline(summary, None, with_abstract=True).startswith(f"> {abstract}\n")
    assert not full_headline(summary, None).startswith(">")
    assert abstract_markdown("no abstract here") == ""
