"""README sections are replaced between markers, and only there."""

import pytest

from repro.readme import replace_section


def test_replace_section_only_between_markers():
    text = "intro\n<!-- t:start -->\nold\nlines\n<!-- t:end -->\noutro\n"
    out = replace_section(text, "t", "new table")
    assert out == "intro\n<!-- t:start -->\nnew table\n<!-- t:end -->\noutro\n"
    assert replace_section(out, "t", "new table") == out  # idempotent


def test_missing_markers_named():
    with pytest.raises(ValueError, match="perf:start"):
        replace_section("no markers here", "perf", "x")
