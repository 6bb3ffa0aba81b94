"""README sections are replaced between markers, and only there."""

import pytest

from repro.study.readme import replace_section


def test_replace_section_only_between_markers():
    text = "intro\n<!-- t:start -->\nold\nlines\n<!-- t:end -->\noutro\n"
    out = replace_section(text, "t", "new table")
    assert out == "intro\n<!-- t:start -->\nnew table\n<!-- t:end -->\noutro\n"
    assert replace_section(out, "t", "new table") == out  # idempotent


def test_missing_markers_named():
    with pytest.raises(ValueError, match="perf:start"):
        replace_section("no markers here", "perf", "x")


def test_headline_from_summary_and_full_run_timing():
    from repro.study.readme import headline
    from test_claims import paperlike

    runs = paperlike()
    for entry in runs.values():
        entry["metrics"]["spearman_paper"] = entry["metrics"]["spearman_full"]
    summary = {
        "seeds": [0],
        "paper": {
            "results": {
                n: {"spearman": 0.5, "greedy_solved": 0.2, "search_expanded": 40.0} for n in runs
            }
        },
        "runs": {"fixed": runs},
        "claims": [{"id": "C1", "regimes": {"fixed": {"verdict": "holds"}}}],
    }
    text = headline(summary, {"stages_s": {"total": 1.0}})
    assert "| supervised | normal | 0.500 | 0.807 / 0.807 | – / – |" in text
    assert "C1 fixed holds" in text and "empty cache" not in text  # a cached run is no timing
    full = {"full_run": {"stages_s": {"total": 600.0, "train": 400.0, "evaluate": 30.0}}}
    assert "from an empty cache took 10.0 min" in headline(summary, full)
    full["full_run"]["stages_s"]["ablations"] = 120.0
    text = headline(summary, full)
    assert "the ablations (training and evaluation) 2.0 min, so 8.0 min without" in text
