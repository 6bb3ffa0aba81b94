"""The report's layout checks (repro.report.pages) on hand-made text boxes, and on the
committed report."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from repro.report.pages import Page, Word, fill, layout_problems, opens_section, page_boxes

COMMITTED = Path(__file__).resolve().parents[1] / "paper" / "report.pdf"


def page(number: int, lines: list[tuple[float, str]], height: float = 792.0) -> Page:
    """A page whose lines start at the given y (each line's words 10 pt high), with its page
    number at y 740."""
    words = []
    for y, text in lines:
        x = 72.0
        for t in text.split():
            words.append(Word(x, y, x + 20, y + 10, t))
            x += 25
    words.append(Word(300, 740, 306, 750, str(number)))
    return Page(number, 612.0, height, tuple(words))


def test_fill_and_section_openings_by_hand():
    full = page(1, [(60, "Some text"), (720, "last line")])
    assert fill(full) == pytest.approx(670 / 672)
    short = page(2, [(60, "three"), (75, "short"), (90, "lines")])
    assert fill(short) == pytest.approx(40 / 672)
    assert opens_section(page(3, [(60, "4 Ablations"), (80, "text")]))
    assert opens_section(page(3, [(60, "References"), (80, "x")]))
    assert not opens_section(page(3, [(60, "The gamma"), (80, "text")]))


def test_layout_problems_name_the_page():
    pages = [
        page(1, [(60, "full"), (720, "page")]),
        page(2, [(60, "three"), (90, "short lines")]),  # then a page that does not open anew
        page(3, [(60, "more text"), (720, "end")]),
        page(4, [(60, "short")]),  # before a section: allowed
        page(5, [(60, "5 Decisions"), (745, "into the footer")]),
        page(6, [(300, "Figure 9: a float"), (400, "alone")]),  # centred, before a section
        page(7, [(60, "6 Related work"), (720, "end")]),
        page(8, [(60, "the last page may be short")]),
    ]
    assert layout_problems(pages) == [
        "page 2: only 6% full",
        "page 5: text runs into the footer: into the footer",
        "page 6: a page of floats alone, only 16% full",
    ]


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils")
def test_the_committed_report_has_no_layout_problem():
    pages = page_boxes(COMMITTED)
    assert len(pages) > 5
    assert layout_problems(pages) == []
